// Training-time augmentation: the waveform operations baked into precomputed variants (time
// shift, noise at a given SNR, gain) and SpecAugment masks on feature rows. Audio is int16-scaled
// mono as load_audio returns it; feature rows are frame-major (row[frame * coeffs + coeff]).
#pragma once
#include <cstdint>
#include <filesystem>
#include <span>
#include <vector>

#include "dkws/config.hpp"
#include "dkws/rng.hpp"

namespace dkws {

// Moves the samples by `samples` (positive: later), filling the gap with zeros; length unchanged.
void time_shift(std::vector<float>& audio, long samples);

// Multiplies by 10^(db/20).
void apply_gain_db(std::vector<float>& audio, double db);

// Adds `noise` (cycled if shorter) scaled so that mean power of the signal over mean power of the
// added noise is `snr_db`, both over the whole window. A silent signal or silent noise is left
// unchanged (no SNR exists). Does not clip: the caller clips after the gain.
void mix_noise_at_snr(std::vector<float>& audio, std::span<const float> noise, double snr_db);

// 10 log10(P(signal) / P(noise)), mean powers; for tests and reports.
double snr_db_of(std::span<const float> signal, std::span<const float> noise);

// Zeroes frames [start, start + width) or coefficients [start, start + width), clamped to the row.
void mask_time(float* row, int frames, int coeffs, int start, int width);
void mask_freq(float* row, int frames, int coeffs, int start, int width);

// spec.time_masks time masks and spec.freq_masks frequency masks, each with a width uniform in
// [0, max] and a uniform start. The features are CMVN-normalised, so zero is their mean.
void spec_augment(float* row, int frames, int coeffs, const AugmentSpec& spec, Rng& rng);

// The noise recordings of a folder, decoded once at the front end's rate.
class NoiseBank {
 public:
  NoiseBank() = default;
  // Every audio file under `dir`; throws dkws::Error naming the folder if none can be read.
  NoiseBank(const std::filesystem::path& dir, int sample_rate);
  bool empty() const { return recordings_.empty(); }
  size_t size() const { return recordings_.size(); }
  // A hash of every decoded sample: part of the cache key of features made with this bank.
  uint64_t content_hash() const;
  // `n` samples from a random recording at a random offset (the whole, cycled, when shorter).
  std::vector<float> crop(size_t n, Rng& rng) const;

 private:
  std::vector<std::vector<float>> recordings_;
};

// One augmented variant of a clip: shift, then noise at a random SNR (with noise_prob, when the
// bank has recordings), then gain, then clipping to int16.
void augment_waveform(std::vector<float>& audio, int sample_rate, const AugmentSpec& spec,
                      const NoiseBank& noise, Rng& rng);

}  // namespace dkws
