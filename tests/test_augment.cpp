// Augmentation: each operation does what it says (measured SNR equals the request, shifts move
// samples, masks zero exactly their band), everything repeats by seed, the run config names bad
// keys, and a task loaded with variants trains deterministically.
#include <gtest/gtest.h>

#include <cmath>

#include <fmt/core.h>

#include "dkws/audio.hpp"
#include "dkws/augment.hpp"
#include "dkws/config.hpp"
#include "dkws/dataset.hpp"
#include "dkws/error.hpp"
#include "dkws/models.hpp"
#include "dkws/train.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
using dkws::AugmentSpec;
using dkws::Rng;
using dkws::testing::TempDir;

namespace {

std::vector<float> random_signal(size_t n, uint64_t seed, double amp) {
  Rng rng(seed);
  std::vector<float> x(n);
  for (auto& v : x) v = float(amp * rng.normal());
  return x;
}

std::vector<float> tone(double freq, size_t n, double amp, int rate = 16000) {
  std::vector<float> x(n);
  for (size_t i = 0; i < n; ++i) x[i] = float(amp * std::sin(2 * M_PI * freq * double(i) / rate));
  return x;
}

void wav(const fs::path& p, const std::vector<float>& x) {
  fs::create_directories(p.parent_path());
  dkws::write_wav(p, x, 16000);
}

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const dkws::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(Augment, MixedNoiseHasTheRequestedSnr) {
  for (double snr : {-5.0, 0.0, 7.5, 20.0, 40.0}) {
    const auto clean = tone(440, 16000, 3000);
    auto mixed = clean;
    const auto noise = random_signal(5000, 3, 700);  // shorter than the clip: cycled
    dkws::mix_noise_at_snr(mixed, noise, snr);
    std::vector<float> added(mixed.size());
    for (size_t i = 0; i < mixed.size(); ++i) added[i] = mixed[i] - clean[i];
    EXPECT_NEAR(dkws::snr_db_of(clean, added), snr, 0.1) << snr;
    EXPECT_NEAR(added[100] / added[5100], 1.0, 1e-3);  // the same noise sample, cycled
  }
  std::vector<float> silent(1000, 0.0f);
  dkws::mix_noise_at_snr(silent, random_signal(1000, 1, 100), 10);
  for (float v : silent) ASSERT_EQ(v, 0.0f);  // no SNR exists for a silent clip
}

TEST(Augment, ShiftMovesSamplesAndGainScales) {
  std::vector<float> x = {1, 2, 3, 4, 5};
  auto a = x;
  dkws::time_shift(a, 2);
  EXPECT_EQ(a, (std::vector<float>{0, 0, 1, 2, 3}));
  a = x;
  dkws::time_shift(a, -1);
  EXPECT_EQ(a, (std::vector<float>{2, 3, 4, 5, 0}));
  a = x;
  dkws::time_shift(a, 9);
  EXPECT_EQ(a, (std::vector<float>(5, 0.0f)));
  a = x;
  dkws::apply_gain_db(a, 20 * std::log10(2.0));
  for (size_t i = 0; i < x.size(); ++i) EXPECT_FLOAT_EQ(a[i], 2 * x[i]);
}

TEST(Augment, MasksZeroExactlyTheirBand) {
  const int frames = 6, coeffs = 4;
  std::vector<float> row(frames * coeffs, 1.0f);
  dkws::mask_time(row.data(), frames, coeffs, 2, 3);
  for (int f = 0; f < frames; ++f)
    for (int c = 0; c < coeffs; ++c)
      EXPECT_EQ(row[size_t(f * coeffs + c)], (f >= 2 && f < 5) ? 0.0f : 1.0f) << f << "," << c;
  std::fill(row.begin(), row.end(), 1.0f);
  dkws::mask_freq(row.data(), frames, coeffs, 1, 2);
  for (int f = 0; f < frames; ++f)
    for (int c = 0; c < coeffs; ++c)
      EXPECT_EQ(row[size_t(f * coeffs + c)], (c == 1 || c == 2) ? 0.0f : 1.0f) << f << "," << c;
  std::fill(row.begin(), row.end(), 1.0f);
  dkws::mask_time(row.data(), frames, coeffs, 5, 10);  // clamped at the end of the row
  EXPECT_EQ(row[size_t(4 * coeffs)], 1.0f);
  EXPECT_EQ(row[size_t(5 * coeffs + 3)], 0.0f);
}

TEST(Augment, SpecAugmentIsBoundedAndRepeatsBySeed) {
  AugmentSpec spec;
  spec.time_masks = 2;
  spec.time_mask_frames = 3;
  spec.freq_masks = 1;
  spec.freq_mask_bins = 2;
  const int frames = 50, coeffs = 13;
  auto masked = [&](uint64_t seed) {
    std::vector<float> row(frames * coeffs, 1.0f);
    Rng rng(seed);
    dkws::spec_augment(row.data(), frames, coeffs, spec, rng);
    return row;
  };
  EXPECT_EQ(masked(5), masked(5));
  bool differs = false;
  for (uint64_t s = 1; s < 20; ++s) {
    const auto r = masked(s);
    differs |= r != masked(5);
    size_t zero_frames = 0, zero_cols = 0;
    for (int f = 0; f < frames; ++f) {
      bool all = true;
      for (int c = 0; c < coeffs; ++c) all &= r[size_t(f * coeffs + c)] == 0.0f;
      zero_frames += all;
    }
    for (int c = 0; c < coeffs; ++c) {
      bool all = true;
      for (int f = 0; f < frames; ++f) all &= r[size_t(f * coeffs + c)] == 0.0f;
      zero_cols += all;
    }
    EXPECT_LE(zero_frames, 6u);  // two masks of at most 3 frames
    EXPECT_LE(zero_cols, 2u);
  }
  EXPECT_TRUE(differs);
}

TEST(Augment, WaveformVariantRepeatsBySeedAndHitsTheSnr) {
  TempDir t;
  wav(t / "noise/a.wav", random_signal(40000, 9, 2000));
  const dkws::NoiseBank bank(t / "noise", 16000);
  ASSERT_EQ(bank.size(), 1u);
  AugmentSpec spec;
  spec.noise_prob = 1;
  spec.snr_db = {12, 12};
  spec.gain_db = {0, 0};
  spec.shift_ms = 0;
  const auto clean = tone(300, 16000, 2000);
  auto run = [&](uint64_t seed) {
    auto x = clean;
    Rng rng(seed);
    dkws::augment_waveform(x, 16000, spec, bank, rng);
    return x;
  };
  const auto a = run(4);
  EXPECT_EQ(a, run(4));
  EXPECT_NE(a, run(5));
  std::vector<float> added(a.size());
  for (size_t i = 0; i < a.size(); ++i) added[i] = a[i] - clean[i];
  EXPECT_NEAR(dkws::snr_db_of(clean, added), 12.0, 0.1);

  spec.noise_prob = 0;
  spec.shift_ms = 10;  // exactly 160 samples either way
  spec.gain_db = {-6, 6};
  const auto b = run(4);
  size_t lead = 0;
  while (lead < b.size() && b[lead] == 0.0f) ++lead;
  size_t trail = 0;
  while (trail < b.size() && b[b.size() - 1 - trail] == 0.0f) ++trail;
  EXPECT_TRUE(lead <= 161 && trail <= 161) << lead << " " << trail;
  for (float v : b) ASSERT_LE(std::fabs(v), 2000 * 2.0f + 1);  // at most +6 dB

  EXPECT_NE(message_of([&] { dkws::NoiseBank(t / "missing", 16000); }).find("missing"),
            std::string::npos);
  fs::create_directories(t / "empty");
  EXPECT_NE(message_of([&] { dkws::NoiseBank(t / "empty", 16000); }).find("empty"),
            std::string::npos);
}

TEST(Augment, ConfigDefaultsAndErrorsNameTheKey) {
  const auto d = dkws::parse_run_config(nlohmann::json::object(), "c.json");
  EXPECT_FALSE(d.augment.enabled());
  const auto c = dkws::parse_run_config(
      {{"augment", {{"variants", 3}, {"snr_db", {0, 10}}, {"time_masks", 2}}}}, "c.json");
  EXPECT_EQ(c.augment.variants, 3);
  EXPECT_EQ(c.augment.snr_db, (std::vector<double>{0, 10}));
  EXPECT_EQ(dkws::parse_run_config(c.to_json(), "x").augment.time_masks, 2);  // round trip
  auto err = [](const nlohmann::json& j) {
    return message_of([&] { dkws::parse_run_config(j, "c.json"); });
  };
  EXPECT_NE(err({{"augment", {{"snr", 3}}}}).find("augment.snr"), std::string::npos);
  EXPECT_NE(err({{"augment", {{"snr_db", {10, 0}}}}}).find("augment.snr_db"), std::string::npos);
  EXPECT_NE(err({{"augment", {{"snr_db", {1}}}}}).find("augment.snr_db"), std::string::npos);
  EXPECT_NE(err({{"augment", {{"gain_db", {"a", "b"}}}}}).find("augment.gain_db"),
            std::string::npos);
  EXPECT_NE(err({{"augment", {{"variants", -1}}}}).find("augment.variants"), std::string::npos);
  EXPECT_NE(err({{"augment", {{"noise_prob", 2.0}}}}).find("augment.noise_prob"),
            std::string::npos);
  EXPECT_NE(err({{"augment", {{"time_masks", "2"}}}}).find("augment.time_masks"),
            std::string::npos);
  dkws::RunConfig cfg;
  EXPECT_NE(message_of([&] {
              dkws::apply_override(cfg, "augment.shift_ms=-1");
            }).find("augment.shift_ms"),
            std::string::npos);
}

namespace {

// Two classes of tones, six speakers each, plus a noise folder.
fs::path tone_dataset(const TempDir& t) {
  const fs::path root = t / "ds";
  const char* speakers[] = {"a1b2c3d4", "0badf00d", "12345678", "cafebabe", "deadbeef",
                            "feedface", "0f0f0f0f", "abcdef01", "13572468", "24681357"};
  int i = 0;
  for (const char* s : speakers) {
    for (int k = 0; k < 2; ++k) {
      auto lo = tone(300 + 15 * i + 7 * k, 12000, 4000);
      auto hi = tone(2000 + 40 * i + 9 * k, 12000, 4000);
      wav(root / "low" / fmt::format("{}_nohash_{}.wav", s, k), lo);
      wav(root / "high" / fmt::format("{}_nohash_{}.wav", s, k), hi);
    }
    ++i;
  }
  wav(t / "noise/n.wav", random_signal(48000, 2, 3000));
  return root;
}

}  // namespace

TEST(Augment, TaskVariantsAreCachedAndTrainingRepeats) {
  TempDir t;
  dkws::TaskSpec spec;
  spec.name = "folder";
  spec.data_dir = tone_dataset(t);
  spec.quiet = true;
  spec.augment.variants = 2;
  spec.augment.noise_dir = (t / "noise").string();
  spec.augment.snr_db = {0, 5};
  spec.cache_dir = t / "cache";
  const dkws::TaskData a = dkws::load_task(spec);
  ASSERT_GT(a.train.size(), 0u);
  ASSERT_EQ(a.variants, 2);
  ASSERT_EQ(a.train_variants.size(), 2 * a.train.size());
  ASSERT_EQ(a.train_variants.x.size(), 2 * a.train.x.size());
  EXPECT_NE(a.train_variants.x, std::vector<float>(a.train.x.begin(), a.train.x.end()));
  EXPECT_NE(std::vector<float>(a.train_variants.row(0), a.train_variants.row(1)),
            std::vector<float>(a.train.row(0), a.train.row(1)));
  const dkws::TaskData cached = dkws::load_task(spec);  // same rows, now from the cache
  EXPECT_EQ(cached.train_variants.x, a.train_variants.x);
  EXPECT_EQ(cached.features_from_cache,
            cached.train.size() + cached.val.size() + cached.test.size());
  spec.cache_dir.clear();
  EXPECT_EQ(dkws::load_task(spec).train_variants.x, a.train_variants.x);  // computed again
  spec.seed = 2;
  EXPECT_NE(dkws::load_task(spec).train_variants.x, a.train_variants.x);

  dkws::RunConfig cfg;
  cfg.task = "folder";
  cfg.train.epochs = 3;
  cfg.augment = spec.augment;
  cfg.augment.time_masks = 2;
  cfg.augment.freq_masks = 1;
  auto train = [&](const dkws::RunConfig& c) {
    Rng init(c.train.seed);
    auto net = dkws::build_model(c.model, a.train.frames, a.train.coeffs, 2, init);
    dkws::TrainOptions opt;
    opt.quiet = true;
    return dkws::train_model(net, c, a, opt).history;
  };
  const auto h1 = train(cfg), h2 = train(cfg);
  ASSERT_EQ(h1.size(), h2.size());
  for (size_t i = 0; i < h1.size(); ++i) EXPECT_EQ(h1[i].train_loss, h2[i].train_loss);
  dkws::RunConfig plain = cfg;
  plain.augment = {};
  EXPECT_NE(train(plain)[0].train_loss, h1[0].train_loss);
  dkws::RunConfig more = cfg;
  more.augment.variants = 3;  // the task was loaded with 2: refused, not silently ignored
  EXPECT_NE(message_of([&] { train(more); }).find("augment.variants"), std::string::npos);
}
