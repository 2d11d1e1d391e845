// Augmentation primitives. Powers are means over the whole window, so an SNR refers to the clip as
// the model sees it (a short word in a quiet 1 s window gets proportionally quiet noise, as in
// the usual keyword-spotting recipes).
#include "dkws/augment.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/core.h>

#include "data/data_internal.hpp"
#include "dkws/audio.hpp"
#include "dkws/error.hpp"

namespace dkws {
namespace fs = std::filesystem;
namespace {

double mean_power(std::span<const float> x) {
  double s = 0;
  for (float v : x) s += double(v) * double(v);
  return x.empty() ? 0.0 : s / double(x.size());
}

}  // namespace

void time_shift(std::vector<float>& audio, long samples) {
  const long n = long(audio.size());
  if (samples == 0 || n == 0) return;
  if (samples >= n || samples <= -n) {
    std::fill(audio.begin(), audio.end(), 0.0f);
  } else if (samples > 0) {
    std::copy_backward(audio.begin(), audio.end() - samples, audio.end());
    std::fill(audio.begin(), audio.begin() + samples, 0.0f);
  } else {
    std::copy(audio.begin() - samples, audio.end(), audio.begin());
    std::fill(audio.end() + samples, audio.end(), 0.0f);
  }
}

void apply_gain_db(std::vector<float>& audio, double db) {
  const float g = float(std::pow(10.0, db / 20.0));
  for (float& v : audio) v *= g;
}

double snr_db_of(std::span<const float> signal, std::span<const float> noise) {
  return 10.0 * std::log10(mean_power(signal) / mean_power(noise));
}

void mix_noise_at_snr(std::vector<float>& audio, std::span<const float> noise, double snr_db) {
  if (audio.empty() || noise.empty()) return;
  const double ps = mean_power(audio);
  // The noise as it will be added: cycled to the clip's length.
  double pn = 0;
  for (size_t i = 0; i < audio.size(); ++i) {
    const double v = noise[i % noise.size()];
    pn += v * v;
  }
  pn /= double(audio.size());
  if (ps <= 0 || pn <= 0) return;
  const double scale = std::sqrt(ps / (pn * std::pow(10.0, snr_db / 10.0)));
  for (size_t i = 0; i < audio.size(); ++i) audio[i] += float(scale * noise[i % noise.size()]);
}

void mask_time(float* row, int frames, int coeffs, int start, int width) {
  const int lo = std::clamp(start, 0, frames), hi = std::clamp(start + width, 0, frames);
  std::fill(row + size_t(lo) * size_t(coeffs), row + size_t(hi) * size_t(coeffs), 0.0f);
}

void mask_freq(float* row, int frames, int coeffs, int start, int width) {
  const int lo = std::clamp(start, 0, coeffs), hi = std::clamp(start + width, 0, coeffs);
  for (int f = 0; f < frames; ++f)
    std::fill(row + size_t(f) * size_t(coeffs) + size_t(lo),
              row + size_t(f) * size_t(coeffs) + size_t(hi), 0.0f);
}

void spec_augment(float* row, int frames, int coeffs, const AugmentSpec& spec, Rng& rng) {
  for (int m = 0; m < spec.time_masks; ++m) {
    const int w = int(rng.below(uint64_t(std::min(spec.time_mask_frames, frames)) + 1));
    mask_time(row, frames, coeffs, int(rng.below(uint64_t(frames - w) + 1)), w);
  }
  for (int m = 0; m < spec.freq_masks; ++m) {
    const int w = int(rng.below(uint64_t(std::min(spec.freq_mask_bins, coeffs)) + 1));
    mask_freq(row, frames, coeffs, int(rng.below(uint64_t(coeffs - w) + 1)), w);
  }
}

NoiseBank::NoiseBank(const fs::path& dir, int sample_rate) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw Error(fmt::format("{}: noise folder not found", dir.string()));
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(dir, ec))
    if (e.is_regular_file() && data::is_audio_file(e.path())) files.push_back(e.path());
  std::sort(files.begin(), files.end());  // the bank's order feeds the random picks
  recordings_.resize(files.size());
  std::vector<std::string> errors(files.size());
  data::parallel_for(files.size(), [&](size_t i) {
    try {
      recordings_[i] = load_audio(files[i], {sample_rate, 0});
    } catch (const std::exception& e) {
      errors[i] = e.what();
    }
  });
  std::erase_if(recordings_, [](const auto& r) { return r.empty(); });
  if (recordings_.empty()) {
    const std::string first = errors.empty() || errors[0].empty() ? "" : " (" + errors[0] + ")";
    throw Error(fmt::format("{}: no readable noise recordings{}", dir.string(), first));
  }
}

uint64_t NoiseBank::content_hash() const {
  uint64_t h = recordings_.size();
  for (const auto& r : recordings_) h = data::xxh64(r.data(), r.size() * sizeof(float), h);
  return h;
}

std::vector<float> NoiseBank::crop(size_t n, Rng& rng) const {
  const auto& r = recordings_[rng.below(recordings_.size())];
  std::vector<float> out(n);
  const size_t start = r.size() > n ? size_t(rng.below(r.size() - n + 1)) : 0;
  for (size_t i = 0; i < n; ++i) out[i] = r[(start + i) % r.size()];
  return out;
}

void augment_waveform(std::vector<float>& audio, int sample_rate, const AugmentSpec& spec,
                      const NoiseBank& noise, Rng& rng) {
  // Draw every random number up front, in a fixed order, so a setting that is off does not
  // shift the stream of the others.
  const double shift = rng.uniform(-spec.shift_ms, spec.shift_ms);
  const bool add_noise = rng.uniform() < spec.noise_prob;
  const double snr = rng.uniform(spec.snr_db[0], spec.snr_db[1]);
  const double gain = rng.uniform(spec.gain_db[0], spec.gain_db[1]);
  time_shift(audio, std::lround(shift * 1e-3 * sample_rate));
  if (add_noise && !noise.empty()) mix_noise_at_snr(audio, noise.crop(audio.size(), rng), snr);
  apply_gain_db(audio, gain);
  for (float& v : audio) v = std::clamp(v, -32768.0f, 32767.0f);
}

}  // namespace dkws
