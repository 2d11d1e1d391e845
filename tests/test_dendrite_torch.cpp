// The dendrite layer against PyTorch 1.13 (tests/fixtures/torch_dendrites.json, made by
// tools/torch/make_dendrite_fixtures.py, exact float64 answers): dendrite-wrapped Conv1D, Conv2D
// and Dense, perforated and not, forward and every gradient; and the dendrite phase's candidates,
// their cascade-correlation gradient batch by batch and their scores. Runs the fast path and the
// reference loops (forward_reference / backward_reference).
#include <gtest/gtest.h>

#include <cstdio>

#include "dendrite/dendrite_layer.hpp"
#include "dkws/nn/layers.hpp"
#include "tensor_compare.hpp"

namespace {

using namespace dkws;
using dendrite::DendriteLayer;
using nlohmann::json;

// Float rounding: the fixtures are exact, dkws computes in float32 (its tanh is a rational fit
// good to a few ulp). The worst error seen is printed, to show the margin.
constexpr double kTol = 1e-5;

const json& fixtures() {
  static const json doc = dkws::testing::read_fixture("torch_dendrites.json");
  return doc;
}

class DendriteTorch : public ::testing::TestWithParam<bool> {
 protected:
  bool reference() const { return GetParam(); }

  std::unique_ptr<DendriteLayer> build(const json& c) {
    std::unique_ptr<nn::Layer> built = dendrite::make_dendrite_layer(c.at("layer"));
    EXPECT_EQ(built->kind(), "dendrite");
    auto layer = std::unique_ptr<DendriteLayer>(static_cast<DendriteLayer*>(built.release()));
    load(layer->params(), c.at("params"));
    return layer;
  }

  // Each parameter's values by name; every name in `values` must be used.
  void load(const std::vector<nn::Param*>& params, const json& values) {
    ASSERT_EQ(params.size(), values.size());
    for (nn::Param* p : params) {
      p->value.data = values.at(p->name).get<std::vector<float>>();
      ASSERT_EQ(p->value.data.size(), p->value.size()) << p->name;
      p->grad.zero();
    }
  }

  void forward(DendriteLayer& layer, const nn::Tensor& x, nn::Tensor& y) {
    reference() ? layer.forward_reference(x, y, {}) : layer.forward(x, y, {});
  }
  void backward(DendriteLayer& layer, const nn::Tensor& x, const nn::Tensor& y,
                const nn::Tensor& dy, nn::Tensor* dx) {
    reference() ? layer.backward_reference(x, y, dy, dx) : layer.backward(x, y, dy, dx);
  }

  void check(const std::vector<float>& got, const json& want, const std::string& what) {
    const auto w = want.get<std::vector<double>>();
    dkws::testing::expect_close(got, w, kTol, what);
    worst_ = std::max(worst_, dkws::testing::scaled_error(got, w));
  }

  void TearDown() override {
    std::printf("worst error / (|want| + rms): %.3g (tolerance %.0e)\n", worst_, kTol);
  }

  double worst_ = 0;
};

INSTANTIATE_TEST_SUITE_P(Paths, DendriteTorch, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "reference" : "fast"; });

// Every wrapped case twice: everything trainable (so every gradient is checked), and in the
// neuron phase, whose flags (g_k frozen when perforated) take the fast path's shortcuts.
TEST_P(DendriteTorch, WrappedLayersMatchTorch) {
  const auto& cases = fixtures().at("wrapped");
  ASSERT_GE(cases.size(), 8u);
  for (const auto& c : cases)
    for (bool neuron_phase : {false, true}) {
      SCOPED_TRACE(c.at("name").get<std::string>() + (neuron_phase ? ", neuron phase" : ""));
      auto layer = build(c);
      ASSERT_EQ(layer->dendrites(), c.at("layer").at("dendrites").get<int>());
      if (neuron_phase) layer->set_neuron_phase(true);
      const nn::Tensor x = dkws::testing::fixture_tensor(c.at("x_shape"), c.at("x"));
      nn::Tensor y, dx;
      forward(*layer, x, y);
      ASSERT_EQ(y.shape, c.at("y_shape").get<nn::Shape>());
      check(y.data, c.at("y"), "y");
      const nn::Tensor dy = dkws::testing::fixture_tensor(c.at("y_shape"), c.at("dy"));
      backward(*layer, x, y, dy, &dx);
      check(dx.data, c.at("dx"), "dx");
      int checked = 0;
      for (nn::Param* p : layer->params()) {
        if (!p->trainable) continue;
        check(p->grad.data, c.at("grads").at(p->name), "grad " + p->name);
        ++checked;
      }
      EXPECT_EQ(size_t(checked), neuron_phase && layer->perforated()
                                     ? c.at("grads").size() - 2 * size_t(layer->dendrites())
                                     : c.at("grads").size());
    }
}

// The dendrite phase: installed weights frozen, candidates trained inside backward.
TEST_P(DendriteTorch, CandidateGradientsAndScoresMatchTorch) {
  const auto& cases = fixtures().at("candidates");
  ASSERT_GE(cases.size(), 3u);
  for (const auto& c : cases) {
    SCOPED_TRACE(c.at("name").get<std::string>());
    auto layer = build(c);
    layer->freeze_all();
    Rng rng(1);
    const auto& candidates = c.at("candidates");
    layer->begin_candidates(int(candidates.size()), rng);
    std::vector<std::vector<nn::Param*>> cand_params(candidates.size());
    const auto all = layer->candidate_params();
    ASSERT_EQ(all.size() % candidates.size(), 0u);
    const size_t per = all.size() / candidates.size();
    for (size_t k = 0; k < candidates.size(); ++k) {
      cand_params[k].assign(all.begin() + long(k * per), all.begin() + long((k + 1) * per));
      load(cand_params[k], candidates[k]);
    }
    const auto& batches = c.at("batches");
    for (size_t b = 0; b < batches.size(); ++b) {
      SCOPED_TRACE("batch " + std::to_string(b));
      const auto& batch = batches[b];
      for (nn::Param* p : all) p->grad.zero();  // the fixture holds each batch's gradient alone
      const nn::Tensor x = dkws::testing::fixture_tensor(batch.at("x_shape"), batch.at("x"));
      nn::Tensor y, dx;
      forward(*layer, x, y);
      check(y.data, batch.at("y"), "y");
      const nn::Tensor e = dkws::testing::fixture_tensor(batch.at("y_shape"), batch.at("dy"));
      backward(*layer, x, y, e, &dx);
      check(dx.data, batch.at("dx"), "dx");
      for (size_t k = 0; k < candidates.size(); ++k)
        for (nn::Param* p : cand_params[k])
          check(p->grad.data, batch.at("candidate_grads")[k].at(p->name),
                "candidate " + std::to_string(k) + " grad " + p->name);
    }
    const auto scores = layer->epoch_scores();
    ASSERT_EQ(scores.size(), candidates.size());
    for (size_t k = 0; k < scores.size(); ++k)
      check(std::vector<float>(scores[k].begin(), scores[k].end()), c.at("scores")[k],
            "score of candidate " + std::to_string(k));
  }
}

}  // namespace
