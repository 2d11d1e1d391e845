// Synthetic keyword datasets from text-to-speech, for keywords nobody has recorded yet.
// Every spoken clip comes from one voice (an espeak-ng voice+variant or a flite voice, which is
// the clip's "speaker", so the usual speaker-hash split keeps a voice in one split), with rate
// and pitch varied through sox, placed at a random point of the window and mixed with noise at a
// random SNR. The output is a class-folder dataset plus synth_manifest.json, which says the data
// is synthetic and records generator versions, voices and seed. The same options and seed give
// byte-identical files.
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace dkws {

struct SynthOptions {
  std::vector<std::string> keywords;       // one class each; phrases allowed ("hello world")
  std::vector<std::string> unknown_words;  // spoken for class "unknown"; empty: the default list
  bool unknown = true;                     // make the "unknown" class
  bool noise_class = true;                 // make the "noise" class (noise only)
  std::filesystem::path out;
  int per_class = 200;
  uint64_t seed = 1;
  double snr_lo = 5, snr_hi = 30;   // dB, speech over noise across the window
  std::filesystem::path noise_dir;  // recordings to mix in; empty: generated coloured noise
  int sample_rate = 16000;
  double window_seconds = 1.0;
  bool quiet = false;
};

struct SynthSummary {
  std::vector<std::string> classes;
  std::vector<size_t> counts;  // per class
  size_t voices = 0;
  std::filesystem::path manifest;
  double seconds = 0;
};

// The words spoken for "unknown" when none are given: the Speech Commands vocabulary.
std::vector<std::string> default_unknown_words();

// Writes the dataset to opt.out: built beside it and renamed into place. An existing opt.out made
// by synth (it holds synth_manifest.json) is replaced whole; any other non-empty folder is
// refused, so user data is never overwritten. Throws dkws::Error for a missing tool (naming it), an
// unusable keyword, a tool that fails, or an existing `out` that is not a folder.
SynthSummary synthesize_dataset(const SynthOptions& opt);

}  // namespace dkws
