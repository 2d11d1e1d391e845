// Small generated WAV clips for dataset tests: a tone plus a little noise, so no two clips with
// different frequencies are byte-identical and none is silent.
#pragma once
#include <cmath>
#include <filesystem>
#include <vector>

#include "dkws/audio.hpp"

namespace dkws::testing {

inline void write_tone_wav(const std::filesystem::path& p, double freq, int rate = 16000,
                           double seconds = 1.0) {
  std::filesystem::create_directories(p.parent_path());
  std::vector<float> s(size_t(seconds * rate));
  unsigned x = unsigned(freq * 7);
  for (size_t i = 0; i < s.size(); ++i) {
    x = x * 1664525u + 1013904223u;
    s[i] = float(6000 * std::sin(2 * M_PI * freq * double(i) / rate) + double(x >> 24) - 128);
  }
  dkws::write_wav(p, s, rate);
}

}  // namespace dkws::testing
