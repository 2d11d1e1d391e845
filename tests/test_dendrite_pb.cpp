// The pb rules' dendrite phase on one wrapped layer (src/dendrite/candidates_pb.cpp): the error
// mean and its freeze, the score and gradient against PyTorch, the warm-up, the improvement test,
// the snapshot install and the candidate init.
#include <cmath>
#include <fstream>

#include "dendrite/dendrite_layer.hpp"
#include "dkws/nn/layers.hpp"
#include "dkws/nn/optim.hpp"
#include "test_util.hpp"
#include "toy_tasks.hpp"

namespace {

using namespace dkws;
using dendrite::Activation;
using dendrite::DendriteLayer;
using dendrite::PbCandidateOptions;
using dkws::testing::random_tensor;

// A dense 4 -> 3 layer with one installed dendrite, everything frozen as in a dendrite phase.
std::unique_ptr<DendriteLayer> phase_layer(Rng& rng, Activation act = Activation::kSigmoid) {
  auto base = nn::make_dense(4, 3);
  base->init(rng);
  auto layer = std::make_unique<DendriteLayer>(std::move(base), act, true);
  layer->add_dendrite(layer->base().clone_shape(rng));
  for (float& v : layer->output_weight(0).value.data) v = 0.5f;
  layer->freeze_all();
  return layer;
}

// One batch through the layer: forward, then backward with error e (candidate grads zeroed first).
void batch(DendriteLayer& layer, const nn::Tensor& x, const nn::Tensor& e) {
  nn::Tensor y;
  layer.forward(x, y, {});
  for (nn::Param* p : layer.candidate_params()) p->grad.zero();
  layer.backward(x, y, e, nullptr);
}

std::vector<double> channel_means(const nn::Tensor& e, int channels) {
  std::vector<double> m(size_t(channels), 0.0);
  const size_t positions = e.size() / size_t(channels);
  for (size_t i = 0; i < e.size(); ++i) m[i % size_t(channels)] += e[i] / double(positions);
  return m;
}

TEST(DendritePb, ErrorMeanFollowsNeuronBatchesAndIsFrozenInTheDendritePhase) {
  Rng rng(3);
  auto layer = phase_layer(rng);
  layer->set_neuron_phase(false, true);
  layer->track_error_mean(true);
  const nn::Tensor x = random_tensor({8, 4}, rng);
  const nn::Tensor e1 = random_tensor({8, 3}, rng), e2 = random_tensor({8, 3}, rng);
  batch(*layer, x, e1);
  batch(*layer, x, e2);
  const auto m1 = channel_means(e1, 3), m2 = channel_means(e2, 3);
  for (size_t c = 0; c < 3; ++c) {
    const double want = 0.99 * (0.01 * m1[c]) + 0.01 * m2[c];
    EXPECT_NEAR(layer->error_mean()[c], want, 1e-7 + 1e-5 * std::abs(want)) << c;
  }
  const std::vector<double> before = layer->error_mean();
  layer->freeze_all();
  layer->begin_pb_candidates(1, rng, {0, false, 0.1});
  for (int i = 0; i < 5; ++i) batch(*layer, x, random_tensor({8, 3}, rng));
  EXPECT_EQ(layer->error_mean(), before) << "frozen for the whole dendrite phase";
  EXPECT_NE(layer->pb_stats(0).corr, std::vector<double>(3, 0.0)) << "the phase did run";
}

TEST(DendritePb, TransparentOnlyWhenNotWatchingErrors) {
  auto layer = std::make_unique<DendriteLayer>(nn::make_dense(4, 3), Activation::kTanh, true);
  EXPECT_NE(layer->transparent_base(), nullptr);
  layer->track_error_mean(true);
  EXPECT_EQ(layer->transparent_base(), nullptr) << "a fused base would hide the errors";
}

// --- score and gradient against PyTorch (tools/torch/make_pb_fixtures.py) ---

const nlohmann::json& torch_cases() {
  static const nlohmann::json j = [] {
    std::ifstream f(DKWS_SOURCE_DIR "/tests/fixtures/torch_pb_candidates.json");
    return nlohmann::json::parse(f);
  }();
  return j.at("cases");
}

void set_values(nn::Param& p, const nlohmann::json& v) {
  const auto data = v.get<std::vector<float>>();
  ASSERT_EQ(data.size(), p.value.size()) << p.name;
  p.value.data = data;
}

void expect_close(const std::vector<float>& got, const std::vector<double>& want, double tol,
                  const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i)
    EXPECT_NEAR(got[i], want[i], tol * (1 + std::abs(want[i]))) << what << "[" << i << "]";
}

void expect_close(const std::vector<double>& got, const std::vector<double>& want, double tol,
                  const std::string& what) {
  expect_close(std::vector<float>(got.begin(), got.end()), want, tol, what);
}

TEST(DendritePb, ScoreAndGradientMatchPyTorch) {
  for (const auto& tc : torch_cases()) {
    SCOPED_TRACE(tc.at("name").get<std::string>());
    Rng rng(1);
    auto base = nn::make_layer(tc.at("layer"));
    base->init(rng);
    const Activation act = dendrite::parse_activation(tc.at("activation"));
    DendriteLayer layer(std::move(base), act, true);
    layer.add_dendrite(layer.base().clone_shape(rng));
    set_values(*layer.dendrite_layer(0).params()[0], tc.at("g0_weight"));
    set_values(*layer.dendrite_layer(0).params()[1], tc.at("g0_bias"));
    layer.freeze_all();
    PbCandidateOptions opt;
    opt.warmup_batches = tc.at("warmup");
    opt.mean_reduce = tc.at("reduce") == "mean";
    layer.begin_pb_candidates(1, rng, opt);
    const int channels = layer.channels();
    layer.set_error_mean(tc.at("error_mean").get<std::vector<double>>());
    nn::Param& w = *layer.candidate_layer(0).params()[0];
    nn::Param& b = *layer.candidate_layer(0).params()[1];
    nn::Param& u = layer.candidate_cascade(0, 0);
    set_values(w, tc.at("weight"));
    set_values(b, tc.at("bias"));
    set_values(u, tc.at("cascade"));
    const auto x_shape = tc.at("x_shape").get<std::vector<int>>();
    nn::Shape e_shape(x_shape.begin(), x_shape.end());
    e_shape.back() = channels;
    int step = 0;
    for (const auto& bt : tc.at("batches")) {
      SCOPED_TRACE("batch " + std::to_string(++step));
      nn::Tensor x(nn::Shape(x_shape.begin(), x_shape.end())), e(e_shape);
      x.data = bt.at("x").get<std::vector<float>>();
      e.data = bt.at("e").get<std::vector<float>>();
      batch(layer, x, e);
      const auto& st = layer.pb_stats(0);
      expect_close(st.mean_d, bt.at("mean_d"), 1e-5, "mean_d");
      expect_close(st.corr, bt.at("corr"), 1e-4, "corr");
      expect_close(st.best, bt.at("best"), 1e-4, "best");
      expect_close(w.grad.data, bt.at("dweight"), 1e-4, "dweight");
      expect_close(b.grad.data, bt.at("dbias"), 1e-4, "dbias");
      expect_close(u.grad.data, bt.at("dcascade"), 1e-4, "dcascade");
    }
  }
}

TEST(DendritePb, WarmUpLearnsNothingAndAveragesPlainly) {
  Rng rng(8);
  auto layer = phase_layer(rng);
  layer->begin_pb_candidates(1, rng, {3, false, 0.5});
  layer->set_error_mean({0.01, -0.02, 0.03});
  std::vector<nn::Param*> cand = layer->candidate_params();
  nn::Adam opt(cand, 0.05f);
  std::vector<std::vector<float>> start;
  for (nn::Param* p : cand) start.push_back(p->value.data);
  auto weights = [&] {
    std::vector<std::vector<float>> w;
    for (nn::Param* p : cand) w.push_back(p->value.data);
    return w;
  };
  std::vector<double> corr_terms(3, 0.0);
  for (int i = 0; i < 3; ++i) {
    const nn::Tensor x = random_tensor({6, 4}, rng), e = random_tensor({6, 3}, rng);
    batch(*layer, x, e);
    for (nn::Param* p : cand)
      for (float g : p->grad.data) ASSERT_EQ(g, 0.f) << "warm-up batch " << i + 1;
    opt.step();
    EXPECT_EQ(weights(), start) << "warm-up batch " << i + 1;
  }
  batch(*layer, random_tensor({6, 4}, rng), random_tensor({6, 3}, rng));
  opt.step();
  EXPECT_NE(weights(), start) << "the first batch after the warm-up learns";
}

TEST(DendritePb, WarmUpStatisticsAreThePlainMeanOfTheBatchValues) {
  // With e-bar 0 the per-batch term is X_c = sum_p d e; over two warm-up batches C = (X1 + X2)/2.
  Rng rng(2);
  auto layer = phase_layer(rng, Activation::kTanh);
  layer->begin_pb_candidates(1, rng, {2, false, 0.5});
  std::vector<double> xs(3, 0.0), ds(3, 0.0);
  for (int i = 0; i < 2; ++i) {
    const nn::Tensor x = random_tensor({5, 4}, rng), e = random_tensor({5, 3}, rng);
    nn::Tensor y;
    layer->forward(x, y, {});
    // The candidate's output, recomputed: act(g(x) + u h0) with u = 0 at the start.
    nn::Tensor a;
    layer->candidate_layer(0).forward(x, a, {});
    for (size_t p = 0; p < 5; ++p)
      for (size_t c = 0; c < 3; ++c) {
        const double d = dendrite::activate(Activation::kTanh, a[p * 3 + c]);
        xs[c] += d * e[p * 3 + c] / 2;
        ds[c] += d / 5 / 2;
      }
    for (nn::Param* p : layer->candidate_params()) p->grad.zero();
    layer->backward(x, y, e, nullptr);
  }
  for (size_t c = 0; c < 3; ++c) {
    EXPECT_NEAR(layer->pb_stats(0).corr[c], xs[c], 1e-5 * (1 + std::abs(xs[c]))) << c;
    EXPECT_NEAR(layer->pb_stats(0).mean_d[c], ds[c], 1e-6) << c;
  }
}

TEST(DendritePb, ImprovementNeedsTenPercentAndOneE5) {
  using dendrite::pb_improves;
  EXPECT_TRUE(pb_improves({1.2, 0.5}, {1.0, 0.5})) << "1.08 > 1.0 and 1.2 > 1.00001";
  EXPECT_FALSE(pb_improves({1.1, 0.5}, {1.0, 0.5})) << "0.99 is not above 1.0: under 11%";
  EXPECT_FALSE(pb_improves({9e-6, 0.0}, {0.0, 0.0})) << "+11% but not +1e-5";
  EXPECT_TRUE(pb_improves({2e-6, 1.0}, {0.0, 0.95}))
      << "one neuron grew by 11%, another by 1e-5: both tests pass";
  EXPECT_FALSE(pb_improves({1.0, 1.0}, {1.0, 1.0}));
}

TEST(DendritePb, AnImprovingBatchRaisesEveryRecordToItsBest) {
  Rng rng(4);
  auto layer = phase_layer(rng);
  layer->begin_pb_candidates(1, rng, {0, false, 0.5});
  batch(*layer, random_tensor({6, 4}, rng), random_tensor({6, 3}, rng));
  const auto& st = layer->pb_stats(0);
  EXPECT_EQ(st.record, st.best) << "the first batch improves on zero records";
  EXPECT_TRUE(layer->end_pb_epoch());
  EXPECT_FALSE(layer->end_pb_epoch()) << "no batch since: not improving";
}

TEST(DendritePb, TheInstalledDendriteIsTheLastImprovingEpochsSnapshot) {
  Rng rng(6);
  auto layer = phase_layer(rng);
  layer->begin_pb_candidates(1, rng, {0, false, 0.5});
  const nn::Tensor x = random_tensor({6, 4}, rng);
  auto perturb = [&] {
    for (nn::Param* p : layer->candidate_params())
      for (float& v : p->value.data) v += float(0.1 * rng.normal());
  };
  auto candidate_weights = [&] {
    std::vector<std::vector<float>> w;
    for (nn::Param* p : layer->candidate_layer(0).params()) w.push_back(p->value.data);
    return w;
  };
  // Epoch 1 improves; epoch 2 improves (errors 100x larger); epoch 3 does not.
  batch(*layer, x, random_tensor({6, 3}, rng));
  ASSERT_TRUE(layer->end_pb_epoch());
  perturb();
  batch(*layer, x, random_tensor({6, 3}, rng, 100.0));
  ASSERT_TRUE(layer->end_pb_epoch());
  const auto snapshot = candidate_weights();
  perturb();
  batch(*layer, x, random_tensor({6, 3}, rng, 1e-3));
  ASSERT_FALSE(layer->end_pb_epoch());
  perturb();  // more training after the last improving epoch
  const std::vector<float> cascade_now = layer->candidate_cascade(0, 0).value.data;
  ASSERT_NE(candidate_weights(), snapshot);
  layer->install_best_candidates();
  ASSERT_EQ(layer->dendrites(), 2);
  std::vector<std::vector<float>> installed;
  for (nn::Param* p : layer->dendrite_layer(1).params()) installed.push_back(p->value.data);
  EXPECT_EQ(installed, snapshot) << "g as it was at the end of the last improving epoch";
  EXPECT_EQ(layer->cascade_weight(1, 0).value.data, cascade_now) << "u as at the phase's end";
  EXPECT_EQ(layer->output_weight(1).value.data, std::vector<float>(3, 0.f));
  EXPECT_FALSE(layer->has_candidates());
}

TEST(DendritePb, CandidatesStartAsSmallNormals) {
  Rng rng(9);
  auto base = nn::make_dense(60, 40);
  base->init(rng);
  DendriteLayer layer(std::move(base), Activation::kSigmoid, true);
  layer.begin_pb_candidates(1, rng, {0, false, 0.001});
  for (nn::Param* p : layer.candidate_layer(0).params()) {
    double sum = 0, sq = 0;
    for (float v : p->value.data) sum += v, sq += double(v) * v;
    const double n = double(p->value.size()), mean = sum / n;
    const double sd = std::sqrt(sq / n - mean * mean);
    EXPECT_NEAR(sd, 0.001, 0.001 * (p->name == "bias" ? 0.4 : 0.1)) << p->name;
    EXPECT_NEAR(mean, 0.0, 4 * 0.001 / std::sqrt(n)) << p->name;
  }
}

}  // namespace
