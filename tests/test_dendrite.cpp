// Dendrite Nodes: the wrapped forward/backward against finite differences, perforation, the
// cascade-correlation gradient, install-invariance, parameter accounting, and the dendrite phase
// leaving the network untouched.
#include <cmath>

#include "dendrite/activation.hpp"
#include "dendrite/dendrite_layer.hpp"
#include "dkws/dendrite.hpp"
#include "dkws/model_file.hpp"
#include "dkws/nn/layers.hpp"
#include "test_util.hpp"
#include "toy_tasks.hpp"
#include "train/epoch.hpp"

namespace {

using namespace dkws;
using dendrite::Activation;
using dendrite::DendriteLayer;
using dkws::testing::random_tensor;

void randomise(nn::Param& p, Rng& rng, double scale = 0.5) {
  for (float& v : p.value.data) v = float(scale * rng.normal());
}

// A wrapped layer with D dendrites whose v and u are non-zero, so every path carries gradient.
std::unique_ptr<DendriteLayer> make_wrapped(std::unique_ptr<nn::Layer> base, int d, bool perforated,
                                            Activation act, Rng& rng) {
  base->init(rng);
  auto layer = std::make_unique<DendriteLayer>(std::move(base), act, perforated);
  for (int k = 0; k < d; ++k) layer->add_dendrite(layer->base().clone_shape(rng));
  for (nn::Param* p : layer->params()) randomise(*p, rng);
  return layer;
}

double weighted_sum(nn::Layer& layer, const nn::Tensor& x, const nn::Tensor& r) {
  nn::Tensor y;
  layer.forward(x, y, {});
  double s = 0;
  for (size_t i = 0; i < y.size(); ++i) s += double(y[i]) * r[i];
  return s;
}

// Central differences of L = sum(y * r) against backward for every param and the input.
void check_gradients(DendriteLayer& layer, nn::Tensor x, Rng& rng, bool check_input) {
  nn::Tensor y;
  layer.forward(x, y, {});
  const nn::Tensor r = random_tensor(y.shape, rng);
  for (nn::Param* p : layer.params()) p->grad.zero();
  nn::Tensor dx;
  layer.backward(x, y, r, check_input ? &dx : nullptr);
  const float h = 2e-3f;  // small enough that ReLU kinks are rarely crossed
  auto numeric = [&](float& slot) {
    const float saved = slot;
    slot = saved + h;
    const double up = weighted_sum(layer, x, r);
    slot = saved - h;
    const double down = weighted_sum(layer, x, r);
    slot = saved;
    return (up - down) / (2 * h);
  };
  for (nn::Param* p : layer.params()) {
    if (!p->trainable) continue;
    for (size_t i = 0; i < p->value.size(); ++i) {
      const double want = numeric(p->value[i]);
      EXPECT_NEAR(p->grad[i], want, 2e-2 * (1 + std::abs(want))) << p->name << "[" << i << "]";
    }
  }
  if (check_input)
    for (size_t i = 0; i < x.size(); ++i) {
      const double want = numeric(x[i]);
      EXPECT_NEAR(dx[i], want, 2e-2 * (1 + std::abs(want))) << "dx[" << i << "]";
    }
}

TEST(Dendrite, NeuronPhaseGradientsMatchFiniteDifferences) {
  Rng rng(7);
  for (Activation act : {Activation::kTanh, Activation::kSigmoid, Activation::kRelu}) {
    // gd: everything trainable and the input error flows through the dendrites too.
    auto dense = make_wrapped(nn::make_dense(5, 3), 3, false, act, rng);
    dense->set_neuron_phase(true);
    check_gradients(*dense, random_tensor({4, 5}, rng), rng, true);
    auto conv1 = make_wrapped(nn::make_conv1d(2, 3, 3), 2, false, act, rng);
    conv1->set_neuron_phase(true);
    check_gradients(*conv1, random_tensor({2, 6, 2}, rng), rng, true);
    auto conv2 = make_wrapped(nn::make_conv2d(2, 2, 3, 3), 2, false, act, rng);
    conv2->set_neuron_phase(true);
    check_gradients(*conv2, random_tensor({2, 4, 3, 2}, rng), rng, true);
    // cc neuron phase: f, v and u learn, g frozen.
    auto cc = make_wrapped(nn::make_conv1d(3, 4, 3), 3, true, act, rng);
    cc->set_neuron_phase(true);
    check_gradients(*cc, random_tensor({2, 5, 3}, rng), rng, false);
    // pb's update mode: f, v and g learn, u frozen.
    auto pb = make_wrapped(nn::make_conv1d(3, 4, 3), 3, true, act, rng);
    pb->set_neuron_phase(false, true);
    check_gradients(*pb, random_tensor({2, 5, 3}, rng), rng, false);
  }
}

// Both rule sets perforate: classic with g frozen, pb's update mode with g learning.
class Perforation : public ::testing::TestWithParam<std::string> {};

TEST_P(Perforation, InputGradientIsThatOfTheBaseLayerAlone) {
  const bool pb = GetParam() == "pb";
  Rng rng(3);
  auto layer = make_wrapped(nn::make_conv1d(3, 4, 3), 2, true, Activation::kTanh, rng);
  layer->set_neuron_phase(!pb, pb);
  EXPECT_EQ(layer->dendrite_layer(1).params()[0]->trainable, pb);
  EXPECT_EQ(layer->cascade_weight(1, 0).trainable, !pb);
  for (nn::Param* p : layer->params()) p->grad.zero();
  const nn::Tensor x = random_tensor({3, 7, 3}, rng);
  nn::Tensor y, dx, y_base, dx_base;
  layer->forward(x, y, {});
  const nn::Tensor dy = random_tensor(y.shape, rng);
  layer->backward(x, y, dy, &dx);
  auto base = layer->base().clone_shape(rng);
  for (size_t i = 0; i < base->params().size(); ++i)
    base->params()[i]->value = layer->base().params()[i]->value;
  base->forward(x, y_base, {});
  base->backward(x, y_base, dy, &dx_base);
  EXPECT_EQ(dx.data, dx_base.data);
  EXPECT_NE(y.data, y_base.data) << "the dendrites do contribute to the forward pass";
  const auto& g_grad = layer->dendrite_layer(0).params()[0]->grad.data;
  EXPECT_EQ(g_grad != std::vector<float>(g_grad.size(), 0.f), pb) << "g learns under pb only";
}

INSTANTIATE_TEST_SUITE_P(Dendrite, Perforation, ::testing::Values("classic", "pb"));

TEST(Dendrite, InstallingADendriteLeavesOutputsUnchanged) {
  Rng rng(5);
  auto layer = make_wrapped(nn::make_dense(6, 4), 1, true, Activation::kTanh, rng);
  const nn::Tensor x = random_tensor({5, 6}, rng);
  nn::Tensor before, after;
  layer->forward(x, before, {});
  layer->add_dendrite(layer->base().clone_shape(rng));
  layer->forward(x, after, {});
  EXPECT_EQ(before.data, after.data);
  EXPECT_EQ(layer->dendrites(), 2);
}

TEST(Dendrite, ParameterFormulaHoldsOnSeveralLayers) {
  Rng rng(1);
  struct Case {
    std::unique_ptr<nn::Layer> base;
    int channels;
  };
  std::vector<Case> cases;
  cases.push_back({nn::make_dense(10, 3), 3});
  cases.push_back({nn::make_conv1d(13, 8, 3), 8});
  cases.push_back({nn::make_conv2d(4, 6, 3, 3), 6});
  for (auto& c : cases) {
    size_t p = 0;
    for (auto* q : c.base->params()) p += q->value.size();
    for (int d : {0, 1, 2, 3, 4}) {
      auto layer = make_wrapped(c.base->clone_shape(rng), d, true, Activation::kTanh, rng);
      size_t counted = 0;
      for (auto* q : layer->params()) counted += q->value.size();
      const size_t C = size_t(c.channels), D = size_t(d);
      EXPECT_EQ(counted, p * (D + 1) + C * D + C * D * (D ? D - 1 : 0) / 2)
          << c.base->kind() << " D=" << d;
      EXPECT_EQ(counted, dendrite::dendrite_param_count(p, c.channels, d));
      layer->begin_candidates(3, rng);
      size_t with_candidates = 0;
      for (auto* q : layer->params()) with_candidates += q->value.size();
      EXPECT_EQ(with_candidates, counted) << "candidates are scaffolding, never counted";
    }
  }
}

TEST(Dendrite, CandidateGradientIsTheCascadeCorrelationGradient) {
  Rng rng(11);
  for (Activation act : {Activation::kTanh, Activation::kSigmoid}) {
    auto layer = make_wrapped(nn::make_conv1d(2, 3, 3), 1, true, act, rng);
    layer->freeze_all();
    layer->begin_candidates(1, rng);
    for (nn::Param* p : layer->candidate_params()) randomise(*p, rng);
    const nn::Tensor x = random_tensor({3, 5, 2}, rng);
    nn::Tensor y;
    layer->forward(x, y, {});
    const nn::Tensor e = random_tensor(y.shape, rng);
    for (nn::Param* p : layer->candidate_params()) p->grad.zero();
    layer->backward(x, y, e, nullptr);
    const int C = 3;
    const size_t positions = e.size() / C;
    const nn::Tensor h0 = layer->dendrite_output(0);

    // S = sum_c |sum_p (d - md)(e - me)| with the means of the unperturbed point held fixed.
    auto candidate_d = [&] {
      nn::Tensor a;
      layer->candidate_layer(0).forward(x, a, {});
      const nn::Param& u = layer->candidate_cascade(0, 0);
      for (size_t p = 0; p < positions; ++p)
        for (int c = 0; c < C; ++c) a[p * C + c] += u.value[size_t(c)] * h0[p * C + c];
      for (float& v : a.data) v = dendrite::activate(act, v);
      return a;
    };
    std::vector<double> md(C, 0), me(C, 0);
    const nn::Tensor d0 = candidate_d();
    for (size_t p = 0; p < positions; ++p)
      for (int c = 0; c < C; ++c)
        md[size_t(c)] += d0[p * C + c] / positions, me[size_t(c)] += e[p * C + c] / positions;
    auto score = [&] {
      const nn::Tensor d = candidate_d();
      double s = 0;
      for (int c = 0; c < C; ++c) {
        double cov = 0;
        for (size_t p = 0; p < positions; ++p)
          cov += (d[p * C + c] - md[size_t(c)]) * (e[p * C + c] - me[size_t(c)]);
        s += std::abs(cov);
      }
      return s;
    };
    const float h = 1e-2f;
    for (nn::Param* p : layer->candidate_params()) {
      for (size_t i = 0; i < p->value.size(); ++i) {
        const float saved = p->value[i];
        p->value[i] = saved + h;
        const double up = score();
        p->value[i] = saved - h;
        const double down = score();
        p->value[i] = saved;
        // The layer stores the gradient of -S / positions (a minimiser then climbs S).
        const double want = -(up - down) / (2 * h) / double(positions);
        EXPECT_NEAR(p->grad[i], want, 1e-3 + 2e-2 * std::abs(want)) << p->name << "[" << i << "]";
      }
    }
  }
}

// A little network on a 2-D task, wrapped for cc.
nn::Sequential two_layer_net(Rng& rng) {
  nn::Sequential net;
  net.add(nn::make_dense(2, 4));
  net.add(nn::make_relu());
  net.add(nn::make_dense(4, 2));
  for (size_t i = 0; i < net.size(); ++i) net.layer(i).init(rng);
  return net;
}

using dkws::testing::xor_set;

class DendritePhase : public ::testing::TestWithParam<std::string> {};

TEST_P(DendritePhase, LeavesOutputsAndNetworkWeightsBitIdentical) {
  const bool pb = GetParam() == "pb";
  Rng rng(2);
  nn::Sequential net = two_layer_net(rng);
  DendriteSpec spec;
  spec.mode = "cc";
  dendrite::wrap_layers(net, spec);
  dendrite::add_gd_dendrites(net, spec, rng);  // one installed dendrite, so cascades are exercised
  for (nn::Param* p : net.params()) randomise(*p, rng, 0.3);
  const FeatureSet data = xor_set(200, 4);
  nn::Tensor x({int(data.size()), 2});
  x.data = data.x;
  const std::vector<float> out_before = net.forward(x, {}).data;
  auto weights = [&] {
    std::vector<std::vector<float>> w;
    for (const nn::Param* p : net.params()) w.push_back(p->value.data);
    return w;
  };
  const auto weights_before = weights();

  std::vector<nn::Param*> candidates;
  for (auto* layer : dendrite::wrapped_layers(net)) {
    layer->freeze_all();
    if (pb)
      layer->begin_pb_candidates(2, rng, {5, false, 0.01});
    else
      layer->begin_candidates(2, rng);
    for (nn::Param* p : layer->candidate_params()) candidates.push_back(p);
  }
  nn::Adam opt(candidates, 0.01f);
  EpochScratch scratch;
  std::vector<float> candidate_before = candidates[0]->value.data;
  for (int epoch = 0; epoch < 3; ++epoch) {
    train_epoch(net, opt, candidates, data, 16, rng, scratch);
    for (auto* layer : dendrite::wrapped_layers(net)) layer->end_pb_epoch();
  }
  EXPECT_NE(candidates[0]->value.data, candidate_before) << "candidates did learn";
  EXPECT_EQ(net.forward(x, {}).data, out_before);
  EXPECT_EQ(weights(), weights_before);
  for (auto* layer : dendrite::wrapped_layers(net)) layer->install_best_candidates();
  EXPECT_EQ(net.forward(x, {}).data, out_before) << "installed with v = 0";
  EXPECT_EQ(dendrite::dendrite_count(net), 2);
}

INSTANTIATE_TEST_SUITE_P(Dendrite, DendritePhase, ::testing::Values("classic", "pb"));

// PerforatedAI's open GD dendrites train their dendrite-to-dendrite weights like any parameter;
// only Perforated Backpropagation (cc under pb) freezes them. With 3 dendrites on a Dense(4, 2),
// the cascade is C D (D - 1) / 2 = 2 * 3 = 6 weights.
TEST(Dendrite, NeuronPhaseTrainsTheGdCascadeUnderBothRuleSets) {
  struct Case {
    std::string rules, mode;
    size_t frozen;
  };
  for (const Case& c : {Case{"classic", "gd", 0}, Case{"pb", "gd", 0}, Case{"pb", "cc", 6}}) {
    Rng rng(3);
    nn::Sequential net;
    net.add(nn::make_dense(4, 2));
    net.layer(0).init(rng);
    DendriteSpec spec;
    spec.mode = c.mode;
    spec.rules = c.rules;
    dendrite::wrap_layers(net, spec);
    for (int k = 0; k < 3; ++k) dendrite::add_gd_dendrites(net, spec, rng);
    dendrite::set_neuron_phase(net, spec);
    EXPECT_EQ(net.count_params() - net.count_params(true), c.frozen) << c.rules << " " << c.mode;
  }
}

}  // namespace
