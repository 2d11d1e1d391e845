// The fast dendrite layer (blocked over positions, per-channel kernels) against its plain reference
// loops, DendriteLayer::forward_reference / backward_reference: Conv1D, Conv2D and Dense wrappers
// with 1 to 3 dendrites, perforated and not, in every phase the trainer uses (and with everything
// trainable), over two batches of different sizes with gradients accumulating, and the dendrite
// phase's candidates (cascade-correlation gradient and scores) over three batches.
#include <gtest/gtest.h>

#include <cstdio>
#include <functional>

#include <fmt/core.h>

#include "dendrite/dendrite_layer.hpp"
#include "dkws/nn/layers.hpp"
#include "tensor_compare.hpp"

namespace {

using namespace dkws;
using dendrite::Activation;
using dendrite::DendriteLayer;
// Float rounding: the two paths add the same terms in different orders (and the reference sums
// positions in double). The worst error seen is printed, to show the margin.
constexpr double kTol = 1e-5;
double worst_error = 0;

void expect_close(const std::vector<float>& fast, const std::vector<double>& ref,
                  const std::string& what) {
  dkws::testing::expect_close(fast, ref, kTol, what);
  worst_error = std::max(worst_error, dkws::testing::scaled_error(fast, ref));
}

void expect_close(const std::vector<float>& fast, const std::vector<float>& ref,
                  const std::string& what) {
  expect_close(fast, std::vector<double>(ref.begin(), ref.end()), what);
}

enum class Phase { kAllTrainable, kNeuron, kNeuronNoCascade, kDendrite };

const char* phase_name(Phase p) {
  switch (p) {
    case Phase::kAllTrainable:
      return "all trainable";
    case Phase::kNeuron:
      return "neuron phase";
    case Phase::kNeuronNoCascade:
      return "neuron phase, u frozen";
    case Phase::kDendrite:
      return "dendrite phase";
  }
  return "?";
}

nn::Tensor random_tensor(nn::Shape shape, Rng& rng) {
  nn::Tensor t(std::move(shape));
  for (float& v : t.data) v = float(rng.normal());
  return t;
}

void randomise(const std::vector<nn::Param*>& params, Rng& rng) {
  for (nn::Param* p : params)
    for (float& v : p->value.data) v = float(0.5 * rng.normal());
}

// `layer`'s twin: the same config and weights, built through make_dendrite_layer.
std::unique_ptr<DendriteLayer> twin(DendriteLayer& layer) {
  std::unique_ptr<nn::Layer> built = dendrite::make_dendrite_layer(layer.config());
  std::unique_ptr<DendriteLayer> copy(static_cast<DendriteLayer*>(built.release()));
  const auto src = layer.params(), dst = copy->params();
  EXPECT_EQ(src.size(), dst.size());
  for (size_t i = 0; i < src.size(); ++i) dst[i]->value = src[i]->value;
  return copy;
}

void enter_phase(DendriteLayer& layer, Phase phase, int candidates, Rng& rng) {
  switch (phase) {
    case Phase::kAllTrainable:
      for (nn::Param* p : layer.params()) p->trainable = true;
      break;
    case Phase::kNeuron:
    case Phase::kNeuronNoCascade:
      layer.set_neuron_phase(phase == Phase::kNeuron);
      break;
    case Phase::kDendrite:
      layer.freeze_all();
      layer.begin_candidates(candidates, rng);
      break;
  }
  for (nn::Param* p : layer.params()) p->grad.zero();
  for (nn::Param* p : layer.candidate_params()) p->grad.zero();
}

struct Case {
  std::function<std::unique_ptr<nn::Layer>()> base;
  std::function<nn::Shape(int)> input_shape;  // for a batch of n items
};

void check_case(const Case& c, int dendrites, bool perforated, Activation act, Phase phase) {
  Rng rng(100 + uint64_t(dendrites) * 7 + uint64_t(perforated));
  auto fast = std::make_unique<DendriteLayer>(c.base(), act, perforated);
  fast->init(rng);
  for (int k = 0; k < dendrites; ++k) fast->add_dendrite(fast->base().clone_shape(rng));
  randomise(fast->params(), rng);  // v and u non-zero, so every path carries signal
  auto ref = twin(*fast);
  const int candidates = 2;
  enter_phase(*fast, phase, candidates, rng);
  enter_phase(*ref, phase, candidates, rng);
  if (phase == Phase::kDendrite) {
    randomise(fast->candidate_params(), rng);  // cascade weights start at 0: make them count
    const auto src = fast->candidate_params(), dst = ref->candidate_params();
    ASSERT_EQ(src.size(), dst.size());
    for (size_t i = 0; i < src.size(); ++i) dst[i]->value = src[i]->value;
  }

  // Batches of different sizes, gradients accumulating across them; the first asks for no input
  // error (as the network's first layer does), the others do.
  const std::vector<int> batches =
      phase == Phase::kDendrite ? std::vector<int>{3, 5, 2} : std::vector<int>{3, 5};
  for (size_t b = 0; b < batches.size(); ++b) {
    SCOPED_TRACE(fmt::format("batch {}", b));
    const nn::Tensor x = random_tensor(c.input_shape(batches[b]), rng);
    nn::Tensor y_fast, y_ref, dx_fast, dx_ref;
    fast->forward(x, y_fast, {});
    ref->forward_reference(x, y_ref, {});
    expect_close(y_fast.data, y_ref.data, "y");
    for (int k = 0; k < dendrites; ++k)
      expect_close(fast->dendrite_output(k).data, ref->dendrite_output(k).data,
                   fmt::format("h{}", k));
    const nn::Tensor dy = random_tensor(y_ref.shape, rng);
    const bool want_dx = b > 0;
    fast->backward(x, y_fast, dy, want_dx ? &dx_fast : nullptr);
    ref->backward_reference(x, y_ref, dy, want_dx ? &dx_ref : nullptr);
    if (want_dx) expect_close(dx_fast.data, dx_ref.data, "dx");
  }
  const auto pf = fast->params(), pr = ref->params();
  const size_t base_params = fast->base().params().size();
  for (size_t i = 0; i < pf.size(); ++i) {
    expect_close(pf[i]->grad.data, pr[i]->grad.data, "grad " + pf[i]->name);
    // Trainable gradients are not trivially zero (the comparison means something). Frozen
    // dendrite parameters get none when perforated; f's backward always runs.
    const double size = dkws::testing::rms({pr[i]->grad.data.begin(), pr[i]->grad.data.end()});
    if (pr[i]->trainable) {
      EXPECT_GT(size, 0) << pf[i]->name;
    } else if (perforated && i >= base_params) {
      EXPECT_EQ(size, 0) << pf[i]->name;
    }
  }
  const auto cf = fast->candidate_params(), cr = ref->candidate_params();
  ASSERT_EQ(cf.size(), cr.size());
  for (size_t i = 0; i < cf.size(); ++i) {
    expect_close(cf[i]->grad.data, cr[i]->grad.data, "candidate grad " + cf[i]->name);
    EXPECT_GT(dkws::testing::rms({cr[i]->grad.data.begin(), cr[i]->grad.data.end()}), 0);
  }
  const auto sf = fast->epoch_scores(), sr = ref->epoch_scores();
  ASSERT_EQ(sf.size(), sr.size());
  for (size_t k = 0; k < sf.size(); ++k)
    expect_close(std::vector<float>(sf[k].begin(), sf[k].end()), sr[k],
                 fmt::format("score of candidate {}", k));
}

TEST(DendriteReference, FastPathEqualsReferenceLoops) {
  const std::vector<std::pair<std::string, Case>> cases = {
      {"dense 6->4",
       {[] { return nn::make_dense(6, 4); },
        [](int n) {
          return nn::Shape{n, 6};
        }}},
      {"conv1d 3->4 k3",
       {[] { return nn::make_conv1d(3, 4, 3); },
        [](int n) {
          return nn::Shape{n, 7, 3};
        }}},
      {"conv2d 2->3 3x3",
       {[] { return nn::make_conv2d(2, 3, 3, 3); },
        [](int n) {
          return nn::Shape{n, 5, 4, 2};
        }}},
  };
  const Activation acts[] = {Activation::kTanh, Activation::kSigmoid, Activation::kRelu};
  for (const auto& [name, c] : cases)
    for (int d = 1; d <= 3; ++d)
      for (bool perforated : {true, false})
        for (Phase phase :
             {Phase::kAllTrainable, Phase::kNeuron, Phase::kNeuronNoCascade, Phase::kDendrite}) {
          const Activation act = acts[size_t(d - 1)];
          SCOPED_TRACE(fmt::format("{}, {} dendrite{} ({}), {}, {}", name, d, d == 1 ? "" : "s",
                                   dendrite::activation_name(act),
                                   perforated ? "perforated" : "not perforated",
                                   phase_name(phase)));
          check_case(c, d, perforated, act, phase);
        }
  std::printf("worst error / (|ref| + rms): %.3g (tolerance %.0e)\n", worst_error, kTol);
}

}  // namespace
