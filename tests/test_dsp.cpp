// Front-end tests: every Edge Impulse reference fixture within the README tolerances, the building
// blocks against direct computations, and the config's validation, set() and JSON round trip.
#include <algorithm>
#include <cmath>
#include <complex>
#include <fstream>
#include <numbers>
#include <random>

#include <nlohmann/json.hpp>

#include "dkws/audio.hpp"
#include "dkws/dsp.hpp"
#include "dkws/error.hpp"
#include "dsp/dsp_internal.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
using dkws::FrontEndConfig;

namespace {

fs::path fixture_dir() {
  return dkws::testing::shared_dir() / "fixtures" / "ei_dsp";
}

std::vector<std::string> fixture_names() {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(fixture_dir(), ec))
    if (e.path().extension() == ".json") names.push_back(e.path().stem().string());
  std::sort(names.begin(), names.end());
  return names;
}

// Expects `fn` to throw dkws::Error whose message contains `needle`.
template <class F>
void expect_error(F&& fn, const std::string& needle) {
  try {
    fn();
    ADD_FAILURE() << "no dkws::Error thrown; expected one mentioning '" << needle << "'";
  } catch (const dkws::Error& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos)
        << "message '" << e.what() << "' lacks '" << needle << "'";
  }
}

}  // namespace

// ---- Reference fixtures -------------------------------------------------------------------------

class EiFixture : public ::testing::TestWithParam<std::string> {};

TEST_P(EiFixture, MatchesReference) {
  const fs::path path = fixture_dir() / (GetParam() + ".json");
  nlohmann::json j = nlohmann::json::parse(std::ifstream(path));
  const int rate = j["sample_rate"].get<int>();
  // The fixture's params are the block's full parameter set, so from_json must take them verbatim.
  FrontEndConfig cfg = FrontEndConfig::from_json(
      {{"block", j["block"]}, {"sample_rate", rate}, {"params", j["params"]}});

  // Reference features cover the whole clip (e.g. the 1.5 s chirp), so keep its full length.
  const auto samples =
      dkws::load_audio(fixture_dir() / j["clip"].get<std::string>(), dkws::AudioOptions{rate, 0.0});
  const dkws::FeatureMatrix m = dkws::compute_features(samples, cfg);
  const auto ref = j["features"].get<std::vector<double>>();
  ASSERT_EQ(m.frames, static_cast<int>(j["shape"]["width"].get<double>()));
  ASSERT_EQ(m.coeffs, j["shape"]["height"].get<int>());
  ASSERT_EQ(m.data.size(), ref.size());

  double max_err = 0;
  size_t differing = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    const double d = std::fabs(m.data[i] - ref[i]);
    max_err = std::max(max_err, d);
    if (d > 1e-6) ++differing;
  }
  RecordProperty("max_abs_error", std::to_string(max_err));
  std::cout << GetParam() << ": max abs error " << max_err << ", " << differing << " of "
            << ref.size() << " values differ\n";
  if (cfg.block == "mfcc") {
    EXPECT_LE(max_err, 2e-3);
  } else {
    EXPECT_LE(max_err, 1.0 / 256 + 1e-6);
    EXPECT_LE(static_cast<double>(differing), 0.01 * static_cast<double>(ref.size()));
  }
}

INSTANTIATE_TEST_SUITE_P(Dsp, EiFixture, ::testing::ValuesIn(fixture_names()),
                         [](const auto& info) { return info.param; });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(EiFixture);

TEST(DspFixtures, Present) {
  if (!fs::exists(fixture_dir())) GTEST_SKIP() << "no fixtures at " << fixture_dir();
  EXPECT_GE(fixture_names().size(), 9u);
}

// ---- Building blocks ----------------------------------------------------------------------------

TEST(DspFft, PowerSpectrumMatchesDirectDft) {
  std::mt19937 rng(1);
  std::uniform_real_distribution<double> u(-1000, 1000);
  for (int n : {2, 4, 8, 256, 512}) {
    // Frame shorter than, equal to and longer than n: zero-padded or cropped like numpy's rfft(n=).
    for (int len : {n / 2 + 1, n, n + 7}) {
      std::vector<double> x(static_cast<size_t>(len));
      for (auto& v : x) v = u(rng);
      dkws::dsp::RealFft fft(n);
      std::vector<double> got(static_cast<size_t>(fft.bins()));
      fft.power_spectrum(x, got);
      for (int k = 0; k <= n / 2; ++k) {
        std::complex<double> s = 0;
        for (int t = 0; t < std::min(len, n); ++t)
          s += x[t] * std::polar(1.0, -2 * std::numbers::pi * k * t / n);
        const double want = std::norm(s) / n;
        EXPECT_NEAR(got[k], want, 1e-9 * std::max(1.0, want)) << "n=" << n << " k=" << k;
      }
    }
  }
}

TEST(DspFraming, EdgeImpulseSampleRule) {
  // 0.02 s * 16000 is 320.00000000000006: within 0.001 of 320, so not rounded up to 321.
  EXPECT_EQ(dkws::dsp::seconds_to_samples(0.02, 16000), 320);
  EXPECT_EQ(dkws::dsp::seconds_to_samples(0.025, 16000), 400);
  EXPECT_EQ(dkws::dsp::seconds_to_samples(0.0201, 16000), 322);  // 321.6 rounds up
  EXPECT_EQ(dkws::dsp::frame_count(16000, 320, 320), 50);
  EXPECT_EQ(dkws::dsp::frame_count(16000, 320, 160), 99);
  EXPECT_EQ(dkws::dsp::frame_count(100, 320, 160), 0);
}

TEST(DspFraming, PreemphasisWrapsAround) {
  std::vector<double> x{1, 2, 3, 4};
  auto y = dkws::dsp::preemphasis(x, 0.5, 1);
  EXPECT_DOUBLE_EQ(y[0], 1 - 0.5 * 4);  // x[0] - cof * x[N-1]
  EXPECT_DOUBLE_EQ(y[3], 4 - 0.5 * 3);
}

TEST(DspCmvn, MatchesSpeechpyIncludingBouncingPad) {
  // Expected values from speechpy's cmvnw (numpy 'symmetric' pad); win 11 pads 5 rows around 3,
  // which bounces off both ends.
  const std::vector<double> in{1.0, 5.0, 2.0, -1.0, 4.0, 0.5};
  const std::vector<std::pair<int, std::vector<double>>> cases{
      {11,
       {-1.0812410117222044, 1.443862806133797, -0.25671801538701156, -0.982769823565898,
        1.3979035612747321, -0.3781877902817801}},
      {5,
       {-1.1340230289376854, 1.168890640574717, -0.3636964836935851, -1.242259987448443,
        1.3944333774179036, -0.12935842094547764}}};
  for (const auto& [win, want] : cases) {
    auto m = in;
    dkws::dsp::sliding_cmvn(m, 3, 2, win);
    for (size_t i = 0; i < m.size(); ++i) EXPECT_NEAR(m[i], want[i], 1e-9) << "win " << win;
  }
}

TEST(DspMfe, ValuesAreQuantisedToUint8Steps) {
  std::mt19937 rng(3);
  std::normal_distribution<float> noise(0, 3000);
  std::vector<float> x(16000);
  for (auto& v : x) v = noise(rng);
  const auto m = dkws::compute_mfe(x, 16000, dkws::MfeParams{});
  ASSERT_EQ(m.frames, 99);
  ASSERT_EQ(m.coeffs, 40);
  for (float v : m.data) {
    EXPECT_GE(v, 0.0f);
    EXPECT_LE(v, 255.0f / 256);
    EXPECT_EQ(v * 256, std::round(v * 256));
  }
}

// ---- FrontEndConfig -----------------------------------------------------------------------------

TEST(DspConfig, FrameCountRule) {
  FrontEndConfig cfg;
  EXPECT_EQ(cfg.frames(), 50);  // 1 s, 20 ms frames every 20 ms
  EXPECT_EQ(cfg.coeffs(), 13);
  cfg.window_seconds = 1.5;  // the chirp fixture: 75 frames
  EXPECT_EQ(cfg.frames(), 75);
  cfg.window_seconds = 1.0;
  cfg.set("frame_length", "0.025");
  cfg.set("frame_stride", "0.01");
  EXPECT_EQ(cfg.frames(), 98);  // mfcc_custom_left
  FrontEndConfig mfe;
  mfe.block = "mfe";
  EXPECT_EQ(mfe.frames(), 99);
  EXPECT_EQ(mfe.coeffs(), 40);
  // compute_features agrees with frames() on a real 1 s signal.
  std::vector<float> x(16000, 0.0f);
  for (size_t i = 0; i < x.size(); ++i) x[i] = 1000.0f * std::sin(0.05f * static_cast<float>(i));
  EXPECT_EQ(dkws::compute_features(x, FrontEndConfig{}).frames, 50);
  EXPECT_EQ(dkws::compute_features(x, FrontEndConfig{}).data.size(), 650u);
}

TEST(DspConfig, DefaultsValidate) {
  FrontEndConfig cfg;
  EXPECT_NO_THROW(cfg.validate());
  cfg.block = "mfe";
  EXPECT_NO_THROW(cfg.validate());
}

TEST(DspConfig, ValidateRejectsEachBadCase) {
  auto bad = [](auto&& change, const std::string& reason) {
    FrontEndConfig cfg;
    change(cfg);
    expect_error([&] { cfg.validate(); }, reason);
  };
  bad([](auto& c) { c.mfcc.fft_length = 250; }, "power of two");
  bad([](auto& c) { c.mfcc.frame_length = 1.5; }, "longer than the window");
  bad([](auto& c) { c.mfcc.num_filters = 1; }, "at least 2");
  bad([](auto& c) { c.mfcc.fft_length = 64; }, "all zeros");  // 32 filters over 33 bins
  bad([](auto& c) { c.mfcc.num_filters = 500; }, "too many filters");
  bad([](auto& c) { c.mfcc.frame_stride = 0; }, "frame_stride must be positive");
  bad([](auto& c) { c.mfcc.frame_stride = -0.01; }, "frame_stride must be positive");
  bad([](auto& c) { c.mfcc.low_frequency = 5000, c.mfcc.high_frequency = 3000; },
      "must be below high_frequency");
  bad([](auto& c) { c.mfcc.high_frequency = 9000; }, "above half the sample rate");
  bad([](auto& c) { c.mfcc.low_frequency = -1; }, "low_frequency must not be negative");
  bad([](auto& c) { c.mfcc.num_cepstral = 40; }, "num_cepstral 40 is more than num_filters 32");
  bad([](auto& c) { c.mfcc.win_size = 100; }, "odd");
  bad([](auto& c) { c.mfcc.pre_cof = 1.5; }, "pre_cof");
  bad([](auto& c) { c.block = "mfe", c.mfe.noise_floor_db = 20; }, "noise_floor_db");
  bad([](auto& c) { c.block = "mfe", c.mfe.frame_length = 2; }, "longer than the window");
  bad([](auto& c) { c.block = "spectrogram"; }, "spectrogram");
  bad([](auto& c) { c.sample_rate = 0; }, "sample_rate");
  // compute_* checks the same rules against the signal it is given.
  std::vector<float> tiny(100, 0.0f);
  expect_error([&] { dkws::compute_mfcc(tiny, 16000, dkws::MfccParams{}); }, "longer than");
}

TEST(DspConfig, SetParsesAndRejects) {
  FrontEndConfig cfg;
  cfg.set("num_filters", "40");
  cfg.set("frame_stride", "0.01");
  EXPECT_EQ(cfg.mfcc.num_filters, 40);
  EXPECT_DOUBLE_EQ(cfg.mfcc.frame_stride, 0.01);
  expect_error([&] { cfg.set("bogus", "1"); }, "bogus");
  expect_error([&] { cfg.set("num_filters", "4x"); }, "num_filters: '4x'");
  expect_error([&] { cfg.set("num_filters", "40.5"); }, "'40.5'");
  expect_error([&] { cfg.set("frame_length", "abc"); }, "frame_length: 'abc'");
  expect_error([&] { cfg.set("fft_length", "300"); }, "power of two");
  // Parameters belong to the active block: MFE has no cepstral coefficients.
  cfg.set("block", "mfe");
  cfg.set("noise_floor_db", "-60");
  EXPECT_DOUBLE_EQ(cfg.mfe.noise_floor_db, -60);
  expect_error([&] { cfg.set("num_cepstral", "13"); }, "num_cepstral");
  EXPECT_NO_THROW(cfg.validate());
}

TEST(DspConfig, JsonRoundTripAndUnknownKeys) {
  FrontEndConfig cfg;
  cfg.set("num_filters", "40");
  cfg.set("fft_length", "512");
  const auto j = cfg.to_json();
  const auto back = FrontEndConfig::from_json(j);
  EXPECT_EQ(back.to_json(), j);
  EXPECT_EQ(back.mfcc.num_filters, 40);
  EXPECT_EQ(back.mfcc.fft_length, 512);

  auto with = [&](auto&& edit) {
    auto k = j;
    edit(k);
    return k;
  };
  expect_error([&] { FrontEndConfig::from_json(with([](auto& k) { k["colour"] = 1; })); },
               "colour");
  expect_error(
      [&] { FrontEndConfig::from_json(with([](auto& k) { k["params"]["num_filtres"] = 40; })); },
      "num_filtres");
  expect_error(
      [&] { FrontEndConfig::from_json(with([](auto& k) { k["params"]["fft_length"] = 300; })); },
      "power of two");
  expect_error(
      [&] {
        FrontEndConfig::from_json(with([](auto& k) { k["params"]["implementation_version"] = 3; }));
      },
      "implementation_version");
}
