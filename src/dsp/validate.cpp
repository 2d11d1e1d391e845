// Parameter validation for the front ends: which values can work, and why not when they cannot.
// Kept in one place so FrontEndConfig::set/validate and the compute functions agree.
#include <cmath>

#include <fmt/core.h>

#include "dsp/dsp_internal.hpp"

namespace dkws::dsp {
namespace {

constexpr int kMaxFft = 65536;

std::string check_framing(const FramingSpec& s, int fs, long long n_samples) {
  if (fs <= 0) return fmt::format("sample_rate must be positive (got {})", fs);
  const double nyquist = fs / 2.0;
  if (s.high_frequency > nyquist)
    return fmt::format("high_frequency {} Hz is above half the sample rate ({} Hz)",
                       s.high_frequency, nyquist);
  const double high = s.high_frequency > 0 ? s.high_frequency : nyquist;
  if (s.low_frequency >= high)
    return fmt::format("low_frequency {} Hz must be below high_frequency {} Hz", s.low_frequency,
                       high);
  const int flen = seconds_to_samples(s.frame_length, fs);
  const int stride = seconds_to_samples(s.frame_stride, fs);
  if (flen < 1) return fmt::format("frame_length {} s is shorter than one sample", s.frame_length);
  if (stride < 1)
    return fmt::format("frame_stride {} s is shorter than one sample", s.frame_stride);
  if (n_samples >= 0 && flen > n_samples)
    return fmt::format("frame_length {} s ({} samples) is longer than the window ({} samples)",
                       s.frame_length, flen, n_samples);
  // Each filter needs its edges at least one bin apart, so more filters than FFT points can never
  // work; stopping here also keeps an absurd num_filters from allocating a huge filterbank.
  if (s.num_filters > s.fft_length)
    return fmt::format("too many filters: num_filters {} exceeds fft_length {}", s.num_filters,
                       s.fft_length);
  const MelFilterbank fb = mel_filterbank(s.num_filters, s.fft_length, fs, s.low_frequency, high);
  if (int empty = fb.first_empty_row(); empty >= 0)
    return fmt::format(
        "mel filter {} of {} is all zeros: too many filters (num_filters={}) for fft_length={} "
        "over {}-{} Hz",
        empty, s.num_filters, s.num_filters, s.fft_length, s.low_frequency, high);
  return {};
}

// check_value for every parameter of a block, in its order: the first reason, or "".
template <class P>
std::string check_each_value(const P& p) {
  std::string why;
  for_each_param(p, [&](const char* name, const auto& v) {
    if (why.empty()) why = check_value(name, double(v));
  });
  return why;
}

}  // namespace

std::string check_value(const std::string& name, double v) {
  if (!std::isfinite(v)) return fmt::format("{} must be a finite number", name);
  if ((name == "frame_length" || name == "frame_stride") && v <= 0)
    return fmt::format("{} must be positive (got {})", name, v);
  if (name == "num_filters" && v < 2)
    return fmt::format("num_filters must be at least 2 (got {})", v);
  if (name == "fft_length" && (v < 2 || v > kMaxFft || !is_power_of_two(std::llround(v))))
    return fmt::format("fft_length must be a power of two between 2 and {} (got {})", kMaxFft, v);
  if (name == "num_cepstral" && v < 1)
    return fmt::format("num_cepstral must be at least 1 (got {})", v);
  // speechpy's cmvnw centres the window on the frame, so it must be odd; 0 turns CMVN off.
  if (name == "win_size" && (v < 0 || (v > 0 && std::fmod(v, 2.0) != 1.0)))
    return fmt::format("win_size must be 0 (no CMVN) or a positive odd number (got {})", v);
  if ((name == "low_frequency" || name == "high_frequency") && v < 0)
    return fmt::format("{} must not be negative (got {})", name, v);
  if (name == "pre_cof" && (v < 0 || v > 1))
    return fmt::format("pre_cof must be between 0 and 1 (got {})", v);
  if (name == "pre_shift" && v < 0)
    return fmt::format("pre_shift must not be negative (got {})", v);
  // The MFE scale maps [noise_floor_db, 12 dB] onto [0, 1]; a floor at or above 12 dB inverts it.
  if (name == "noise_floor_db" && v >= 12)
    return fmt::format("noise_floor_db must be below 12 dB (got {})", v);
  return {};
}

std::string check_mfcc(const MfccParams& p, int fs, long long n_samples) {
  if (auto why = check_each_value(p); !why.empty()) return why;
  if (p.num_cepstral > p.num_filters)
    return fmt::format("num_cepstral {} is more than num_filters {}", p.num_cepstral,
                       p.num_filters);
  return check_framing({p.frame_length, p.frame_stride, p.fft_length, p.num_filters,
                        p.low_frequency, p.high_frequency},
                       fs, n_samples);
}

std::string check_mfe(const MfeParams& p, int fs, long long n_samples) {
  if (auto why = check_each_value(p); !why.empty()) return why;
  return check_framing({p.frame_length, p.frame_stride, p.fft_length, p.num_filters,
                        p.low_frequency, p.high_frequency},
                       fs, n_samples);
}

}  // namespace dkws::dsp
