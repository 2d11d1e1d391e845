// Splitting a signal into frames, Edge Impulse style (implementation v2+), and pre-emphasis.
#include <cmath>

#include "dsp/dsp_internal.hpp"

namespace dkws::dsp {

int seconds_to_samples(double seconds, int sample_rate) {
  const double v = seconds * sample_rate;
  const double fl = std::floor(v);
  return static_cast<int>(v - fl < 0.001 ? fl : std::ceil(v));
}

int frame_count(long long n_samples, int frame_len, int stride) {
  if (stride <= 0 || frame_len <= 0 || n_samples < frame_len) return 0;
  return static_cast<int>(
      std::floor(static_cast<double>(n_samples - (frame_len - stride)) / stride));
}

std::vector<double> preemphasis(std::span<const double> x, double cof, int shift) {
  const long long n = static_cast<long long>(x.size());
  std::vector<double> y(x.size());
  if (n == 0) return y;
  // numpy.roll wraps, so the first `shift` samples are emphasised against the end of the window.
  const long long s = ((shift % n) + n) % n;
  std::vector<double> prev(x.size());
  for (long long i = 0; i < n; ++i) prev[i] = x[(i - s + n) % n];
  preemphasise(x, prev, cof, y);
  return y;
}

void preemphasise(std::span<const double> x, std::span<const double> prev, double cof,
                  std::span<double> y) {
  for (size_t i = 0; i < x.size(); ++i) y[i] = x[i] - cof * prev[i];
}

}  // namespace dkws::dsp
