// The Edge Impulse audio front ends (implementation version 4): MFCC and MFE.
// Parameter names are the blocks' own so configs and the CLI's --set can use them verbatim.
#pragma once
#include <concepts>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace dkws {

struct MfccParams {
  double frame_length = 0.02;
  double frame_stride = 0.02;
  int num_filters = 32;
  int fft_length = 256;
  int num_cepstral = 13;
  int win_size = 101;  // CMVN window, frames
  double low_frequency = 0;
  double high_frequency = 0;  // 0 means fs/2
  double pre_cof = 0.98;
  int pre_shift = 1;
};

struct MfeParams {
  double frame_length = 0.02;
  double frame_stride = 0.01;
  int num_filters = 40;
  int fft_length = 256;
  double low_frequency = 0;
  double high_frequency = 0;  // 0 means fs/2
  double noise_floor_db = -52;
};

// The one list of each block's parameter names: calls f(name, field) for every parameter, in this
// order. The names are Edge Impulse's own; config files, --set, JSON and validation all use them.
// P is MfccParams or MfeParams, const or not.
template <class P, class F>
requires std::same_as<std::remove_const_t<P>, MfccParams>
void for_each_param(P& p, F&& f) {
  f("frame_length", p.frame_length);
  f("frame_stride", p.frame_stride);
  f("num_filters", p.num_filters);
  f("fft_length", p.fft_length);
  f("num_cepstral", p.num_cepstral);
  f("win_size", p.win_size);
  f("low_frequency", p.low_frequency);
  f("high_frequency", p.high_frequency);
  f("pre_cof", p.pre_cof);
  f("pre_shift", p.pre_shift);
}
template <class P, class F>
requires std::same_as<std::remove_const_t<P>, MfeParams>
void for_each_param(P& p, F&& f) {
  f("frame_length", p.frame_length);
  f("frame_stride", p.frame_stride);
  f("num_filters", p.num_filters);
  f("fft_length", p.fft_length);
  f("low_frequency", p.low_frequency);
  f("high_frequency", p.high_frequency);
  f("noise_floor_db", p.noise_floor_db);
}

// Frame-major matrix: data[frame * coeffs + coeff].
struct FeatureMatrix {
  int frames = 0;
  int coeffs = 0;
  std::vector<float> data;
};

// Which block, and its parameters. The unit a dataset cache key and a model file record.
struct FrontEndConfig {
  std::string block = "mfcc";  // "mfcc" | "mfe"
  MfccParams mfcc;
  MfeParams mfe;
  int sample_rate = 16000;
  double window_seconds = 1.0;

  // Sets one parameter by its block name (e.g. "num_filters"); throws dkws::Error naming an
  // unknown key or out-of-range value.
  void set(const std::string& name, const std::string& value);
  // Throws dkws::Error with the reason when parameters cannot work for this window and rate
  // (FFT length not a power of two, frame longer than the window, < 2 filters, empty filter row).
  void validate() const;
  int frames() const;  // for the configured window
  int coeffs() const;
  nlohmann::json to_json() const;
  static FrontEndConfig from_json(const nlohmann::json& j);  // rejects unknown keys
};

FeatureMatrix compute_mfcc(std::span<const float> signal, int sample_rate, const MfccParams& p);
FeatureMatrix compute_mfe(std::span<const float> signal, int sample_rate, const MfeParams& p);
FeatureMatrix compute_features(std::span<const float> signal, const FrontEndConfig& cfg);

}  // namespace dkws
