// Pieces of `dkws data synth` shared between its files. Not part of the public API.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

namespace dkws::data {

struct Voice {
  std::string engine;   // "espeak-ng" | "flite"
  std::string name;     // as the engine takes it: "en-us+f3", "slt"
  std::string speaker;  // the file-name speaker id: "espeak-en-us-f3", "flite-slt"
};

struct Toolchain {
  std::string espeak_version, flite_version, sox_version;
  std::vector<Voice> voices;
};

// Runs each tool once (a missing one is a dkws::Error naming it) and lists the usable voices.
Toolchain probe_toolchain();

// `text` spoken by `voice`, time-stretched by `tempo` (1 = as synthesised) and shifted by
// `pitch_cents`, as int16-scaled mono at `sample_rate`. Temp files are tmp_stem + suffixes.
std::vector<float> render_utterance(const Voice& voice, const std::string& text, double tempo,
                                    double pitch_cents, int sample_rate,
                                    const std::filesystem::path& tmp_stem);

}  // namespace dkws::data
