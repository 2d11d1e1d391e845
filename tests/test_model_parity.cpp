// The model families (ei_conv1d, also scaled; audio_classifier; ds_cnn) against PyTorch 1.13
// (tests/fixtures/torch_models.json, made by tools/torch/make_model_fixtures.py): logits, loss,
// every parameter gradient, and the parameters after one Adam step plus MaxNorm.
#include <cmath>
#include <fstream>

#include "dkws/config.hpp"
#include "dkws/dendrite.hpp"
#include "dkws/error.hpp"
#include "dkws/models.hpp"
#include "dkws/nn/optim.hpp"
#include "test_util.hpp"

namespace {

using nlohmann::json;
using namespace dkws;

json load_fixtures() {
  std::ifstream in(dkws::testing::source_dir() / "tests/fixtures/torch_models.json");
  return json::parse(in);
}

void expect_close(const std::vector<float>& got, const std::vector<float>& want, double rel,
                  double abs, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  double worst = 0;
  size_t worst_i = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const double err = std::abs(double(got[i]) - want[i]) / (abs + rel * std::abs(double(want[i])));
    if (err > worst) worst = err, worst_i = i;
  }
  EXPECT_LE(worst, 1.0) << what << ": index " << worst_i << " got " << got[worst_i] << " want "
                        << want[worst_i];
}

void check_family(const std::string& family) {
  const json all = load_fixtures();
  const json& c = all.at(family);
  RunConfig cfg = parse_run_config({{"model", c.at("spec")}}, "fixture");
  Rng rng(1);
  nn::Sequential net = build_model(cfg.model, c.at("frames"), c.at("coeffs"), c.at("classes"), rng);
  auto params = net.params();
  const json& ps = c.at("params");
  ASSERT_EQ(params.size(), ps.size());
  for (size_t i = 0; i < params.size(); ++i) {
    ASSERT_EQ(params[i]->value.shape, ps[i].at("shape").get<nn::Shape>()) << "param " << i;
    params[i]->value.data = ps[i].at("data").get<std::vector<float>>();
  }
  const int frames = c.at("frames"), coeffs = c.at("coeffs");
  nn::Tensor x;
  x.data = c.at("input").get<std::vector<float>>();
  x.shape = {int(x.data.size()) / (frames * coeffs), frames * coeffs};
  const auto labels = c.at("labels").get<std::vector<int>>();

  Rng fwd_rng(2);
  net.zero_grad();
  const nn::Tensor& logits = net.forward(x, {true, &fwd_rng});
  expect_close(logits.data, c.at("logits").get<std::vector<float>>(), 1e-4, 1e-5, "logits");
  nn::Tensor dlogits;
  const float loss = nn::softmax_cross_entropy(logits, labels.data(), dlogits);
  EXPECT_NEAR(loss, c.at("loss").get<double>(), 1e-5);
  net.backward(dlogits);
  for (size_t i = 0; i < params.size(); ++i)
    expect_close(params[i]->grad.data, c.at("grads")[i].get<std::vector<float>>(), 1e-3, 1e-6,
                 "grad of param " + std::to_string(i));

  const float lr = c.at("lr").get<float>();
  nn::Adam adam(params, lr);
  adam.step();
  nn::apply_max_norm(params);
  // Adam's first step is lr * g / (|g| + eps): where |g| is near eps (dead units) float rounding of
  // g decides a large part of the step, so those entries get a tolerance of one step.
  for (size_t i = 0; i < params.size(); ++i) {
    const auto want = c.at("after_step")[i].get<std::vector<float>>();
    const auto grad = c.at("grads")[i].get<std::vector<float>>();
    for (size_t k = 0; k < want.size(); ++k) {
      const double tol = std::abs(grad[k]) < 1e-5 ? lr : 1e-6 + 1e-5 * std::abs(want[k]);
      ASSERT_NEAR(params[i]->value.data[k], want[k], tol) << "param " << i << " index " << k;
    }
  }
}

TEST(ModelParity, EdgeImpulseConv1DMatchesTorch) {
  check_family("ei_conv1d");
}
TEST(ModelParity, AudioClassifierMatchesTorch) {
  check_family("audio_classifier");
}
TEST(ModelParity, DsCnnMatchesTorch) {
  check_family("ds_cnn");
}
TEST(ModelParity, ScaledEdgeImpulseConv1DMatchesTorch) {
  check_family("ei_conv1d_scaled");
}

TEST(ModelParity, EdgeImpulseConv1DHas1347ParamsFor3Classes) {
  Rng rng(1);
  nn::Sequential net = build_model(ModelSpec{}, 50, 13, 3, rng);
  EXPECT_EQ(net.count_params(), 1347u);
}

TEST(ModelParity, AudioClassifierChannelTableAndHiddenWidth) {
  EXPECT_EQ(audio_classifier_channels(0, 1.0, 3), 64);
  EXPECT_EQ(audio_classifier_channels(2, 0.25, 1), 4);
  EXPECT_EQ(audio_classifier_channels(4, 0.1, 0), 1);
  EXPECT_EQ(audio_classifier_hidden(576, 12), 83);  // int(sqrt(6912)) = 83
  EXPECT_EQ(audio_classifier_hidden(2, 1), 3);
}

TEST(ModelParity, SameSeedGivesBitIdenticalWeights) {
  ModelSpec spec;
  spec.family = "audio_classifier";
  spec.num_conv = 3;
  spec.num_linear = 2;
  Rng a(42), b(42), c(43);
  auto na = build_model(spec, 50, 13, 12, a), nb = build_model(spec, 50, 13, 12, b),
       nc = build_model(spec, 50, 13, 12, c);
  auto pa = na.params(), pb = nb.params(), pc = nc.params();
  bool differs = false;
  for (size_t i = 0; i < pa.size(); ++i) {
    EXPECT_EQ(pa[i]->value.data, pb[i]->value.data);
    differs |= pa[i]->value.data != pc[i]->value.data;
  }
  EXPECT_TRUE(differs) << "a different seed should give different weights";
}

// nn rebuilds only its own layers; the model stage rebuilds any layer of a model file, dendrite
// wrappers (with their dendrites) included.
TEST(ModelParity, NetFromConfigRebuildsDendriteWrappers) {
  ModelSpec spec;
  spec.family = "audio_classifier";
  DendriteSpec dendrites;
  dendrites.mode = "gd";
  Rng rng(7);
  nn::Sequential net = build_model(spec, 50, 13, 12, rng);
  dendrite::wrap_layers(net, dendrites);
  dendrite::add_gd_dendrites(net, dendrites, rng);
  const json layers = net.config();
  size_t wrapped = 0;
  for (const json& l : layers) wrapped += l.at("kind") == "dendrite";
  ASSERT_GT(wrapped, 0u);

  nn::Sequential copy = net_from_config(layers);
  EXPECT_EQ(copy.config(), layers);
  EXPECT_EQ(copy.count_params(), net.count_params());
  for (const json& l : layers) {
    if (l.at("kind") != "dendrite") continue;
    EXPECT_THROW(nn::make_layer(l), Error);
  }
  EXPECT_THROW(net_from_config(json::object()), Error);
}

}  // namespace
