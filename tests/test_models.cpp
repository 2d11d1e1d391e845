// The model families as built from their specs: the paper's AudioClassifier layer by layer, the
// earlier dkws variant behind config keys, PyTorch's default init, and old model files.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "dkws/config.hpp"
#include "dkws/error.hpp"
#include "dkws/model_file.hpp"
#include "dkws/models.hpp"
#include "test_util.hpp"

namespace {

using dkws::RunConfig;
using dkws::nn::Sequential;

RunConfig audio_classifier(const std::string& extra_model_keys = "") {
  return dkws::parse_run_config(
      nlohmann::json::parse(R"({"model": {"family": "audio_classifier", "num_conv": 2,
        "num_linear": 2, "width": 1.0, "growth": 4, "dropout": 0.3, "noise": 0.1)" +
                            extra_model_keys + "}}"),
      "test");
}

// "kind" or "kind:rate" per layer, so a sequence can be compared in one assertion.
std::vector<std::string> layer_sequence(const Sequential& s) {
  std::vector<std::string> out;
  for (const nlohmann::json& layer : s.config()) {
    std::string kind = layer.at("kind");
    if (kind == "dropout")  // appended piecewise: see q() in test_data_import_cli.cpp
      kind.append(":").append(std::to_string(layer.at("rate").get<float>()).substr(0, 4));
    out.push_back(kind);
  }
  return out;
}

TEST(AudioClassifier, DefaultIsThePapersModelLayerByLayer) {
  const RunConfig cfg = audio_classifier();
  EXPECT_EQ(cfg.model.dropout_at, "linear");
  EXPECT_EQ(cfg.model.init, "torch");
  dkws::Rng rng(1);
  const Sequential s = dkws::build_model(cfg.model, 50, 13, 12, rng);
  // Noise, then conv blocks dropping at the fixed 0.25, then the swept 0.3 before each Linear.
  const std::vector<std::string> want = {
      "gaussian_noise", "reshape", "conv2d",       "relu",         "maxpool2d", "dropout:0.25",
      "conv2d",         "relu",    "maxpool2d",    "dropout:0.25", "flatten",   "dropout:0.30",
      "dense",          "relu",    "dropout:0.30", "dense"};
  EXPECT_EQ(layer_sequence(s), want);
}

TEST(AudioClassifier, ConvPlacementIsTheEarlierDkwsVariant) {
  const RunConfig cfg = audio_classifier(R"(, "dropout_at": "conv", "init": "glorot")");
  dkws::Rng rng(1);
  const Sequential s = dkws::build_model(cfg.model, 50, 13, 12, rng);
  const std::vector<std::string> want = {"gaussian_noise", "reshape",      "conv2d",  "relu",
                                         "maxpool2d",      "dropout:0.30", "conv2d",  "relu",
                                         "maxpool2d",      "dropout:0.30", "flatten", "dense",
                                         "relu",           "dense"};
  EXPECT_EQ(layer_sequence(s), want);
}

TEST(AudioClassifier, ConvDropoutIsItsOwnKey) {
  const RunConfig cfg = audio_classifier(R"(, "conv_dropout": 0.5)");
  dkws::Rng rng(1);
  const auto seq = layer_sequence(dkws::build_model(cfg.model, 50, 13, 12, rng));
  EXPECT_EQ(seq[5], "dropout:0.50");
  EXPECT_EQ(seq[11], "dropout:0.30");
}

TEST(AudioClassifier, DropoutPlacementIsCheckedByName) {
  EXPECT_THROW(audio_classifier(R"(, "dropout_at": "dense")"), dkws::Error);
  EXPECT_THROW(audio_classifier(R"(, "init": "he")"), dkws::Error);
  EXPECT_THROW(audio_classifier(R"(, "conv_dropout": 1.0)"), dkws::Error);
  try {
    dkws::parse_run_config(nlohmann::json::parse(R"({"model": {"dropout_at": "linear"}})"),
                           "c.json");
    FAIL() << "ei_conv1d accepted dropout before its dense layer";
  } catch (const dkws::Error& e) {
    EXPECT_NE(std::string(e.what()).find("model.dropout_at"), std::string::npos) << e.what();
  }
}

// PyTorch's default: weights and biases U(-1/sqrt(fan_in), 1/sqrt(fan_in)). Over a wide layer the
// sample spread must match that bound (std = bound / sqrt(3)), which Glorot's does not.
TEST(AudioClassifier, TorchInitDrawsWithinOneOverRootFanIn) {
  for (const char* init : {"torch", "glorot"}) {
    RunConfig cfg = audio_classifier(std::string(R"(, "width": 2.0, "init": ")") + init + "\"");
    dkws::Rng rng(3);
    Sequential s = dkws::build_model(cfg.model, 50, 13, 12, rng);
    for (size_t i = 0; i < s.size(); ++i) {
      const std::string kind = s.layer(i).kind();
      if (kind != "conv2d" && kind != "dense") continue;
      const auto params = s.layer(i).params();
      const auto& w = params[0]->value;
      const auto& b = params[1]->value;
      const double fan_in = double(w.size()) / w.dim(0);
      const double bound = 1.0 / std::sqrt(fan_in);
      double sq = 0, max_abs = 0;
      for (float v : w.data) sq += double(v) * v, max_abs = std::max(max_abs, double(std::abs(v)));
      const double sd = std::sqrt(sq / double(w.size()));
      if (std::string(init) == "torch") {
        EXPECT_LE(max_abs, bound) << kind << " layer " << i;
        if (w.size() >= 500) {
          EXPECT_NEAR(sd, bound / std::sqrt(3.0), 0.1 * bound) << kind << " layer " << i;
        }
        double b_max = 0;
        for (float v : b.data) b_max = std::max(b_max, double(std::abs(v)));
        EXPECT_LE(b_max, bound);
        EXPECT_GT(b_max, 0.0) << "torch init draws biases too";
      } else {
        for (float v : b.data) EXPECT_EQ(v, 0.f);
      }
    }
  }
}

// `--set model.family=audio_classifier` must give the same recipe as a file naming the family;
// keys the user changed keep their values.
TEST(AudioClassifier, FamilyOverrideTakesTheFamilysDefaults) {
  RunConfig cfg = dkws::parse_run_config(nlohmann::json::parse(R"({"model": {"width": 0.5},
    "train": {"lr": 0.01}})"),
                                         "test");
  dkws::apply_override(cfg, "model.family=audio_classifier");
  const RunConfig file = audio_classifier();
  EXPECT_EQ(cfg.model.dropout_at, "linear");
  EXPECT_EQ(cfg.model.init, "torch");
  EXPECT_EQ(cfg.model.dropout, 0.1);
  EXPECT_EQ(cfg.model.max_norm, file.model.max_norm);
  EXPECT_EQ(cfg.train.scheduler, "plateau");
  EXPECT_EQ(cfg.model.width, 0.5);
  EXPECT_EQ(cfg.train.lr, 0.01);
}

// A model file written before dropout_at and init existed holds the earlier variant; loading it
// must say so rather than claim today's defaults.
TEST(AudioClassifier, OldModelFilesDescribeTheEarlierVariant) {
  const auto m = dkws::load_model(dkws::testing::source_dir() /
                                  "tests/fixtures/onnx/kws12_audio_classifier_cc_d2.model.json");
  EXPECT_EQ(m.config.model.family, "audio_classifier");
  EXPECT_EQ(m.config.model.dropout_at, "conv");
  EXPECT_EQ(m.config.model.init, "glorot");
}

}  // namespace
