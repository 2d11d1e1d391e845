// The text-to-speech side of `dkws data synth`: which voices exist, and one utterance rendered
// through a TTS engine and sox. Tools run without a shell (run_program), each in its own temp
// files, so renders can run in parallel. sox runs with -R (no random seeding) and -D (no dither),
// which with espeak-ng's and flite's own deterministic output makes a render a pure function of
// its arguments.
#include <algorithm>
#include <sstream>

#include <fmt/core.h>

#include "data/data_internal.hpp"
#include "data/synth_internal.hpp"
#include "dkws/audio.hpp"
#include "dkws/error.hpp"

namespace dkws::data {
namespace fs = std::filesystem;
namespace {

// English accents of espeak-ng times a set of its voice variants: each pair sounds like a
// different speaker (formants, pitch range, breathiness).
const char* const kEspeakLanguages[] = {"en-us",      "en-gb",          "en-gb-scotland",
                                        "en-gb-x-rp", "en-gb-x-gbclan", "en-gb-x-gbcwmd",
                                        "en-029",     "en-us-nyc"};
const char* const kEspeakVariants[] = {
    "m1", "m2", "m3",     "m4",     "m5",    "m6",   "m7",    "f1",    "f2",   "f3",
    "f4", "f5", "klatt2", "klatt3", "croak", "Andy", "Annie", "linda", "john", "max"};
// flite voices that can say anything (awb_time only knows the time of day).
const char* const kFliteVoices[] = {"kal", "kal16", "awb", "rms", "slt"};

std::string first_line(const std::string& s) {
  std::string line = s.substr(0, s.find('\n'));
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  return line;
}

ProgramResult run_checked(const std::vector<std::string>& argv) {
  ProgramResult r = run_program(argv);
  if (r.exit_code != 0) {
    std::string cmd;
    for (const auto& a : argv) cmd += (cmd.empty() ? "" : " ") + a;
    throw Error(fmt::format("{} failed (exit {}): {}", cmd, r.exit_code, first_line(r.output)));
  }
  return r;
}

}  // namespace

Toolchain probe_toolchain() {
  Toolchain t;
  t.espeak_version = first_line(run_checked({"espeak-ng", "--version"}).output);
  t.sox_version = first_line(run_checked({"sox", "--version"}).output);
  // flite's --version prints a banner and exits 1; the line that matters says "version: ...".
  const std::string banner = run_program({"flite", "--version"}).output;
  const size_t at = banner.find("version:");
  t.flite_version = first_line(at == std::string::npos ? banner : banner.substr(at + 9));
  const std::string listed = run_checked({"flite", "-lv"}).output;
  std::istringstream words(
      listed.substr(listed.find(':') == std::string::npos ? 0 : listed.find(':') + 1));
  std::vector<std::string> installed;
  for (std::string w; words >> w;) installed.push_back(w);
  for (const char* lang : kEspeakLanguages)
    for (const char* variant : kEspeakVariants)
      t.voices.push_back({"espeak-ng", std::string(lang) + "+" + variant,
                          fmt::format("espeak-{}-{}", lang, variant)});
  for (const char* v : kFliteVoices)
    if (std::find(installed.begin(), installed.end(), v) != installed.end())
      t.voices.push_back({"flite", v, fmt::format("flite-{}", v)});
  // Speaker ids go into "<speaker>_nohash_<n>" names, which split at '_' and '.'.
  for (auto& v : t.voices) {
    std::replace(v.speaker.begin(), v.speaker.end(), '_', '-');
    std::replace(v.speaker.begin(), v.speaker.end(), '.', '-');
  }
  return t;
}

std::vector<float> render_utterance(const Voice& voice, const std::string& text, double tempo,
                                    double pitch_cents, int sample_rate, const fs::path& tmp_stem) {
  const fs::path raw = tmp_stem.string() + ".tts.wav", out = tmp_stem.string() + ".wav";
  if (voice.engine == "espeak-ng") {
    run_checked({"espeak-ng", "-v", voice.name, "-w", raw.string(), "--", text});
  } else {
    run_checked({"flite", "-voice", voice.name, "-t", text, "-o", raw.string()});
  }
  run_checked({"sox", "-R", "-D", "-q", raw.string(), "-r", std::to_string(sample_rate), "-c", "1",
               "-b", "16", out.string(), "tempo", "-s", fmt::format("{:.4f}", tempo), "pitch",
               fmt::format("{:.1f}", pitch_cents)});
  std::vector<float> audio = load_audio(out, {sample_rate, 0});
  std::error_code ec;
  fs::remove(raw, ec);
  fs::remove(out, ec);
  return audio;
}

}  // namespace dkws::data
