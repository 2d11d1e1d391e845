// int8 post-training quantization: fixed-point multipliers against exact arithmetic, dendrite
// folding against the float network (two dendrites, cascade included), the C front end against
// the Edge Impulse fixtures, the <= 1 point accuracy budget on kws12 for the committed baseline and
// cc models, and the errors for unsupported layers and mismatched front ends.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <random>

#include "dendrite/dendrite_layer.hpp"
#include "deploy_test_util.hpp"
#include "dkws/audio.hpp"
#include "dkws/deploy.hpp"
#include "dkws/error.hpp"
#include "dkws/nn/layers.hpp"
#include "dkws/util.hpp"

namespace {

using namespace dkws;
using namespace dkws::testing;
namespace fs = std::filesystem;

TEST(Quantize, MultiplierMatchesExactProductWithinOne) {
  std::mt19937 gen(7);
  std::uniform_real_distribution<double> log_real(-20, 8);
  std::uniform_int_distribution<int32_t> xs(-5000000, 5000000);
  for (int i = 0; i < 20000; ++i) {
    const double real = std::pow(2.0, log_real(gen)) * (i % 2 ? -1 : 1);
    const deploy::QMul q = deploy::quantize_multiplier(real);
    ASSERT_GE(q.shift, 1);
    ASSERT_LE(q.shift, 62);
    const int32_t x = xs(gen);
    const double exact = double(x) * real;
    EXPECT_LE(std::fabs(deploy::apply_multiplier(x, q) - exact), 1.0 + 1e-9 * std::fabs(exact))
        << "x " << x << " real " << real;
  }
  EXPECT_EQ(deploy::apply_multiplier(12345, deploy::quantize_multiplier(0.0)), 0);
  EXPECT_EQ(deploy::apply_multiplier(-3, deploy::quantize_multiplier(0.5)), -1);  // -1.5 -> -1
  EXPECT_EQ(deploy::apply_multiplier(3, deploy::quantize_multiplier(0.5)), 2);    // 1.5 -> 2
  EXPECT_THROW(deploy::quantize_multiplier(std::ldexp(1.0, 31)), Error);
}

TEST(Quantize, FoldedDendritesFollowTheFloatModel) {
  Rng rng(11);
  SavedModel m = dendritic_model(rng);
  const FeatureSet calib = random_features(300, 5), eval = random_features(300, 6);
  const deploy::QModel q = deploy::quantize(m, calib);
  ASSERT_EQ(q.layers.size(), 3u);  // conv (+relu), pool, dense: flatten/reshape are views
  EXPECT_EQ(q.layers[0].dendrites, 2);
  EXPECT_TRUE(q.layers[0].relu);
  EXPECT_EQ(q.layers[0].cascade_mul.size(), 3u);  // u_10 for 3 channels
  EXPECT_EQ(q.layers[2].weight.size(), 3u * 4u * 450u);
  const Int8VsFloat cmp = compare_int8_to_float(q, m, eval);
  // int8 noise is a few percent of the logits' size; without the dendrite terms it would be far
  // larger (their v weights are of the same order as f's output).
  EXPECT_LT(cmp.relative_error, 0.06) << "mean |int8 - float| relative to mean |float|";
  EXPECT_GE(cmp.agreement, 0.9);

  // The same network with the dendrites' v zeroed must differ: the fold really uses them.
  for (size_t i : {size_t(1), size_t(5)})
    for (int k = 0; k < 2; ++k)
      static_cast<dendrite::DendriteLayer&>(m.net.layer(i)).output_weight(k).value.zero();
  const deploy::QModel q0 = deploy::quantize(m, calib);
  std::vector<int8_t> in(650);
  deploy::quantize_input(q0, eval.row(0), in.data());
  EXPECT_NE(deploy::run_int8(q0, in.data()), deploy::run_int8(q, in.data()));
}

TEST(Quantize, UnsupportedLayerIsAOneLineError) {
  SavedModel m;
  m.classes = {"a", "b"};
  m.net.add(nn::make_reshape({50, 13}));
  m.net.add(nn::make_relu());  // a ReLU with no weighted layer before it
  m.net.add(nn::make_flatten());
  m.net.add(nn::make_dense(650, 2));
  FeatureSet calib;
  calib.frames = 50;
  calib.coeffs = 13;
  calib.x.assign(650, 0.5f);
  calib.y = {0};
  try {
    deploy::quantize(m, calib);
    FAIL() << "no error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("layer 1 (relu)"), std::string::npos) << msg;
    EXPECT_NE(msg.find("not supported"), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos);
  }
}

TEST(Quantize, FrontEndThatDoesNotFitTheModelIsAnError) {
  SavedModel m;
  m.classes = {"a", "b"};
  m.net.add(nn::make_dense(650, 2));
  m.config.front_end.window_seconds = 0.5;  // 25 frames: 325 features, the model takes 650
  FeatureSet calib;
  calib.frames = 25;
  calib.coeffs = 13;
  calib.x.assign(325, 0.f);
  calib.y = {0};
  try {
    deploy::quantize(m, calib);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("325 features"), std::string::npos) << e.what();
  }
  EXPECT_THROW(deploy::check_input_rate(m.config.front_end, 8000, "clip.wav"), Error);
  EXPECT_NO_THROW(deploy::check_input_rate(m.config.front_end, 16000, "clip.wav"));
  FrontEndConfig shifted;
  shifted.mfcc.pre_shift = 2;
  EXPECT_THROW(deploy::c_front_end(shifted, nullptr, 0), Error);
}

// The C front end (the exported source) against the reference implementation's vectors. MFCC
// agrees to 2e-3. MFE's values are multiples of 1/256: the C code computes in float what the
// reference computes in double, so a value within about 1e-4 of a rounding boundary may land one
// step away; at most one step, and on at most 1% of the values.
TEST(Quantize, CFrontEndMatchesEdgeImpulseFixtures) {
  const fs::path dir = dkws::testing::shared_dir() / "fixtures" / "ei_dsp";
  if (!fs::exists(dir)) GTEST_SKIP() << "no fixtures at " << dir;
  int checked_mfcc = 0, checked_mfe = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() != ".json") continue;
    const auto j = nlohmann::json::parse(std::ifstream(e.path()));
    const std::string block = j["block"];
    nlohmann::json params = j["params"];
    if (block == "mfe") params.erase("win_size");  // recorded by the reference, unused by MFE
    FrontEndConfig cfg = FrontEndConfig::from_json(
        {{"block", block}, {"sample_rate", j["sample_rate"]}, {"params", params}});
    const auto audio =
        load_audio(dir / j["clip"].get<std::string>(), AudioOptions{cfg.sample_rate, 0.0});
    cfg.window_seconds = double(audio.size()) / cfg.sample_rate;
    std::vector<int16_t> pcm(audio.begin(), audio.end());
    const auto feat = deploy::c_front_end(cfg, pcm.data(), pcm.size());
    const auto ref = j["features"].get<std::vector<double>>();
    ASSERT_EQ(feat.size(), ref.size()) << e.path();
    double worst = 0;
    size_t off = 0;
    for (size_t i = 0; i < ref.size(); ++i) {
      worst = std::max(worst, std::fabs(feat[i] - ref[i]));
      off += feat[i] != float(ref[i]);
    }
    if (block == "mfe") {
      EXPECT_LE(worst, 1.0 / 256 + 1e-9) << e.path();
      EXPECT_LE(off, ref.size() / 100) << e.path();
      ++checked_mfe;
    } else {
      EXPECT_LE(worst, 2e-3) << e.path();
      ++checked_mfcc;
    }
    std::printf("%s: C front end max error %.2e, %zu of %zu values differ\n",
                e.path().filename().c_str(), worst, off, ref.size());
  }
  EXPECT_GE(checked_mfcc, 7);
  EXPECT_GE(checked_mfe, 2);
}

// The accuracy budget on real data: int8 within 1 point of float on the kws12 test split, for the
// committed Edge Impulse baseline, cc model and DS-CNN (cc); both recorded in metrics.json.
//
// The fixtures' own test accuracy was recorded by a Release build on a CPU with FMA, and builds
// that round the same way (native, x86-64-v3) reproduce it exactly. Others compute the features
// and logits with other roundings: baseline x86-64 has no FMA, and in the -O1 sanitizer build
// the compiler fuses no multiply-add outside the kernels' madd(). There one or two of the 925
// clips near a decision boundary move (measured: 0.7211 against 0.7232 for ei), so the check is
// to half a point.
#if defined(__FMA__) && DKWS_RELEASE_BUILD
constexpr double kRecordedAccuracyTolerance = 1e-9;
#else
constexpr double kRecordedAccuracyTolerance = 0.005;
#endif

class QuantizeRun : public ::testing::TestWithParam<std::string> {};

TEST_P(QuantizeRun, Int8LosesAtMostOnePointOnKws12) {
  if (!dkws::testing::have_data()) GTEST_SKIP() << "no data at " << dkws::testing::data_dir();
  TempDir t;
  fs::copy_file(dkws::testing::source_dir() / "tests" / "fixtures" / "deploy" / GetParam(),
                t / "model.json");
  deploy::QuantizeRunOptions opt;
  opt.data_dir = dkws::testing::data_dir();
  opt.cache_dir = dkws::testing::test_cache_dir("deploy");
  opt.quiet = true;
  const auto r = deploy::quantize_run(t.path(), opt);
  std::printf("%s: float val %.4f test %.4f | int8 val %.4f test %.4f | %zu bytes\n",
              GetParam().c_str(), r.float_val, r.float_test, r.int8_val, r.int8_test,
              r.q.weight_bytes());
  EXPECT_LE(r.float_test - r.int8_test, 0.01);
  EXPECT_LE(r.float_val - r.int8_val, 0.02);
  const auto model = load_model(t / "model.json");
  EXPECT_NEAR(r.float_test, model.metrics.at("test_accuracy").get<double>(),
              kRecordedAccuracyTolerance);
  const auto metrics = nlohmann::json::parse(read_file(t / "metrics.json"));
  EXPECT_EQ(metrics.at("int8_test_accuracy").get<double>(), r.int8_test);
  EXPECT_EQ(metrics.at("float_val_accuracy").get<double>(), r.float_val);
  EXPECT_GT(metrics.at("int8_bytes").get<size_t>(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Deploy, QuantizeRun,
                         ::testing::Values("ei_kws12.json", "cc_kws12.json", "ds_kws12.json",
                                           "mfe_kws12.json"),
                         [](const auto& info) { return info.param.substr(0, 2); });

}  // namespace
