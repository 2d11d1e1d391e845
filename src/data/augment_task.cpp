// The precomputed augmented variants of a task's training clips. Computing features is the
// expensive step (decode + MFCC), so variants are made once per load and cached like clean rows;
// training then only picks rows and draws SpecAugment masks.
#include <fmt/core.h>

#include "data/data_internal.hpp"
#include "dkws/augment.hpp"
#include "dkws/error.hpp"

namespace dkws::data {
namespace fs = std::filesystem;

std::vector<float> augmented_rows(const std::vector<Clip>& clips, const TaskSpec& spec,
                                  const fs::path& cache_file) {
  const AugmentSpec& a = spec.augment;
  if (a.variants <= 0 || clips.empty()) return {};
  NoiseBank bank;
  if (!a.noise_dir.empty()) {
    fs::path dir = a.noise_dir;
    if (dir.is_relative()) {
      const fs::path base =
          fs::is_directory(spec.data_dir) ? spec.data_dir : spec.data_dir.parent_path();
      dir = base / dir;
    }
    bank = NoiseBank(dir, spec.front_end.sample_rate);
  }
  // Everything that changes a variant's audio, apart from the clip itself and the variant number.
  const std::string settings = fmt::format(
      "augment-v1 {} {} {} {} {} {} {} {} {}", spec.seed, a.noise_prob, a.snr_db[0], a.snr_db[1],
      a.shift_ms, a.gain_db[0], a.gain_db[1], bank.size(), bank.empty() ? 0 : bank.content_hash());
  const uint64_t base_salt = xxh64(settings);
  const size_t n = clips.size();
  std::vector<Clip> all;
  all.reserve(n * size_t(a.variants));
  for (int v = 0; v < a.variants; ++v) all.insert(all.end(), clips.begin(), clips.end());

  AudioTransform tf;
  tf.salt = [&](size_t i) { return xxh64(&base_salt, sizeof base_salt, uint64_t(i / n)); };
  tf.apply = [&](size_t, uint64_t key, std::vector<float>& audio) {
    Rng rng(key);
    augment_waveform(audio, spec.front_end.sample_rate, a, bank, rng);
  };
  ExtractResult ex = extract_features(all, spec.front_end, cache_file, spec.quiet, &tf);
  if (ex.kept.size() != all.size()) {
    throw Error(fmt::format("augmentation: {} of {} variants failed (first: {})",
                            all.size() - ex.kept.size(), all.size(),
                            ex.problems.empty() ? "?" : ex.problems[0].line()));
  }
  return std::move(ex.rows);
}

}  // namespace dkws::data
