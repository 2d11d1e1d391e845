// Sample-rate conversion (libsamplerate, best-quality sinc) and fitting audio to a fixed window.
#include <samplerate.h>

#include <cmath>
#include <string>

#include "dkws/audio.hpp"
#include "dkws/error.hpp"

namespace dkws {

std::vector<float> resample(const std::vector<float>& in, int from_rate, int to_rate) {
  if (from_rate <= 0 || to_rate <= 0)
    throw Error("resample: rates must be positive (got " + std::to_string(from_rate) + " -> " +
                std::to_string(to_rate) + ")");
  if (from_rate == to_rate || in.empty()) return in;
  const double ratio = static_cast<double>(to_rate) / from_rate;
  const auto want = static_cast<size_t>(std::llround(static_cast<double>(in.size()) * ratio));

  // One call with end_of_input set makes the converter flush its filter tail, so the output covers
  // the whole input; the sinc filter is linear, so int16-scaled floats need no rescaling.
  std::vector<float> out(want + 64);
  SRC_DATA d{};
  d.data_in = in.data();
  d.input_frames = static_cast<long>(in.size());
  d.data_out = out.data();
  d.output_frames = static_cast<long>(out.size());
  d.src_ratio = ratio;
  d.end_of_input = 1;
  int err = src_simple(&d, SRC_SINC_BEST_QUALITY, 1);
  if (err) throw Error(std::string("resample: ") + src_strerror(err));
  out.resize(static_cast<size_t>(d.output_frames_gen));
  // The converter can stop a sample or two short of in.size() * ratio; pin the length exactly.
  fit_to_length(out, want);
  return out;
}

void fit_to_length(std::vector<float>& samples, size_t n) {
  samples.resize(n, 0.0f);
}

}  // namespace dkws
