// The C++ int8 reference must compute the exported front end's features bit for bit as the
// firmware does: a Cortex-M4F rounds every float operation on its own. Compiled with -O3 and
// -march=native (AVX2/AVX-512 with FMA), GCC's vectorizer turns the FFT's complex multiply into
// fused multiply-adds (vfmaddsub) even under -ffp-contract=off; the features then moved in the
// last bits and, after quantization, some clips' scores by one int8 step against QEMU. libdkws's
// copy (CMakeLists.txt) is compared here with a copy built at -O0 (strict_frontend.c).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "deploy/frontend_tables.hpp"
#include "dkws/audio.hpp"
#include "dkws/dataset.hpp"
#include "dkws/deploy.hpp"
#include "strict_frontend.h"
#include "test_util.hpp"

namespace {

using namespace dkws;
namespace fs = std::filesystem;

// Features whose float bits differ between libdkws's front end and the strict copy.
size_t differing_features(const FrontEndConfig& cfg, const std::vector<int16_t>& pcm) {
  const deploy::FrontEndTables t(cfg);
  const std::vector<float> lib = deploy::c_front_end(cfg, pcm.data(), pcm.size());
  std::vector<float> strict(lib.size());
  std::vector<float> scratch(strict_fe_scratch_floats(&t.fe));
  strict_fe_window(&t.fe, pcm.data(), pcm.size(), strict.data(), scratch.data());
  size_t differ = 0;
  for (size_t i = 0; i < lib.size(); ++i) differ += std::memcmp(&lib[i], &strict[i], 4) != 0;
  return differ;
}

// Noise plus a sweeping tone at loudness from near silence to near full scale.
std::vector<int16_t> synthetic_clip(int samples, double amplitude, unsigned seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<double> noise(0, 0.2);
  std::vector<int16_t> pcm(static_cast<size_t>(samples));
  for (int i = 0; i < samples; ++i) {
    const double t = double(i) / samples;
    const double v = amplitude * (std::sin(2 * M_PI * (200 + 3000 * t) * t * 4) + noise(gen));
    pcm[size_t(i)] = int16_t(std::clamp(std::lround(v), -32768L, 32767L));
  }
  return pcm;
}

TEST(FrontEndRounding, StrictCopyDiffersWhenTheSignalDoes) {
  // The comparison itself can fail: two different clips give different features.
  const FrontEndConfig cfg;
  const deploy::FrontEndTables t(cfg);
  const auto a = synthetic_clip(16000, 3000, 1), b = synthetic_clip(16000, 3000, 2);
  std::vector<float> fa(size_t(cfg.frames() * cfg.coeffs())), fb(fa.size());
  std::vector<float> scratch(strict_fe_scratch_floats(&t.fe));
  strict_fe_window(&t.fe, a.data(), a.size(), fa.data(), scratch.data());
  strict_fe_window(&t.fe, b.data(), b.size(), fb.data(), scratch.data());
  EXPECT_NE(std::memcmp(fa.data(), fb.data(), fa.size() * 4), 0);
  // And the strict copy is a front end: near the library's features for the same clip.
  const auto lib = deploy::c_front_end(cfg, a.data(), a.size());
  for (size_t i = 0; i < lib.size(); ++i) ASSERT_NEAR(fa[i], lib[i], 1e-3) << i;
}

TEST(FrontEndRounding, LibraryEqualsPerOperationRoundingOnSyntheticClips) {
  FrontEndConfig narrow;  // a second shape: other FFT length, filters and coefficients
  narrow.mfcc.frame_length = 0.032;
  narrow.mfcc.fft_length = 512;
  narrow.mfcc.num_filters = 40;
  narrow.mfcc.num_cepstral = 10;
  FrontEndConfig mfe;  // and MFE, whose values are rounded to 1/256 steps on top
  mfe.block = "mfe";
  for (const FrontEndConfig& cfg : {FrontEndConfig{}, narrow, mfe}) {
    unsigned seed = 0;
    for (double amplitude : {3.0, 60.0, 900.0, 12000.0, 30000.0}) {
      const auto pcm = synthetic_clip(16000, amplitude, ++seed);
      EXPECT_EQ(differing_features(cfg, pcm), 0u)
          << cfg.block << ", fft " << cfg.mfcc.fft_length << ", amplitude " << amplitude;
      // A short clip takes the zero-padded path.
      EXPECT_EQ(differing_features(cfg, {pcm.begin(), pcm.begin() + 11000}), 0u);
    }
  }
}

TEST(FrontEndRounding, LibraryEqualsPerOperationRoundingOnKws12TestClips) {
  if (!dkws::testing::have_data()) GTEST_SKIP() << "no data at " << dkws::testing::data_dir();
  const FrontEndConfig cfg;
  TaskSpec spec;
  spec.name = "kws12";
  spec.data_dir = dkws::testing::data_dir();
  spec.front_end = cfg;
  spec.cache_dir = dkws::testing::test_cache_dir("deploy");
  spec.quiet = true;
  const TaskData data = load_task(spec);
  size_t clips = 0, differ = 0;
  for (size_t i = 0; i < data.test.size(); i += 9) {
    const fs::path path = dkws::testing::data_dir() / data.test.paths[i];
    if (!fs::is_regular_file(path)) continue;
    const auto audio = load_audio(path, {16000, 1.0});
    const std::vector<int16_t> pcm(audio.begin(), audio.end());
    differ += differing_features(cfg, pcm) != 0;
    ++clips;
  }
  EXPECT_GT(clips, 90u);
  EXPECT_EQ(differ, 0u) << "of " << clips << " clips";
}

}  // namespace
