// Fuzz target: the audio reader (probe_audio, load_audio: libsndfile decode, downmix, resample,
// window). Any input must either load or throw dkws::Error; nothing else may escape.
#include <cstddef>
#include <cstdint>

#include "dkws/audio.hpp"
#include "dkws/error.hpp"
#include "fuzz_input_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto& path = dkws::fuzz::input_file(data, size, ".wav");
  try {
    dkws::probe_audio(path);
    dkws::load_audio(path);  // 16 kHz, 1 s window
  } catch (const dkws::Error& e) {
    dkws::fuzz::rejected(e);
  }
  try {
    dkws::load_audio(path, {8000, 0.0});  // another rate, the whole file
  } catch (const dkws::Error& e) {
    dkws::fuzz::rejected(e);
  }
  return 0;
}
