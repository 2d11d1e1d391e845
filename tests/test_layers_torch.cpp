// dkws layers against PyTorch 1.13: forward outputs and gradients for the same inputs, weights and
// upstream gradient (tests/fixtures/torch_layers.json, made by tools/torch/make_layer_fixtures.py,
// exact float64 answers). Runs the fast kernels and the reference loops.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "dkws/nn/layers.hpp"
#include "nn/layer_util.hpp"

using namespace dkws::nn;

namespace {

const nlohmann::json& fixtures() {
  static const nlohmann::json doc = [] {
    std::ifstream f(DKWS_SOURCE_DIR "/tests/fixtures/torch_layers.json");
    return nlohmann::json::parse(f);
  }();
  return doc;
}

Tensor tensor(const nlohmann::json& shape, const nlohmann::json& values) {
  Tensor t(shape.get<Shape>());
  auto v = values.get<std::vector<float>>();
  EXPECT_EQ(v.size(), t.size());
  t.data = std::move(v);
  return t;
}

// Relative to each value and to the tensor's RMS, so sums that cancel to ~0 are not held to an
// impossible relative bound.
void expect_close(const std::vector<float>& got, const nlohmann::json& want_json,
                  const char* what) {
  const auto want = want_json.get<std::vector<double>>();
  ASSERT_EQ(got.size(), want.size()) << what;
  double rms = 0;
  for (double w : want) rms += w * w;
  rms = std::sqrt(rms / double(std::max<size_t>(want.size(), 1)));
  int bad = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    const double tol = 1e-5 * (std::abs(want[i]) + rms);
    if (!(std::abs(got[i] - want[i]) <= tol) && bad++ < 5)
      ADD_FAILURE() << what << "[" << i << "]: got " << got[i] << " want " << want[i];
  }
}

class TorchParity : public ::testing::TestWithParam<bool> {};
INSTANTIATE_TEST_SUITE_P(Kernels, TorchParity, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "reference" : "fast"; });

TEST_P(TorchParity, LayersMatchTorch) {
  detail::use_reference_kernels = GetParam();
  const auto& cases = fixtures().at("cases");
  ASSERT_GE(cases.size(), 8u);
  for (const auto& c : cases) {
    SCOPED_TRACE(c.at("name").get<std::string>());
    auto layer = make_layer(c.at("layer"));
    if (c.contains("weight")) {
      auto ps = layer->params();
      ASSERT_EQ(ps.size(), 2u);
      ps[0]->value.data = c.at("weight").get<std::vector<float>>();
      ps[1]->value.data = c.at("bias").get<std::vector<float>>();
      ASSERT_EQ(ps[0]->value.data.size(), ps[0]->value.size());
      for (Param* p : ps) p->grad.zero();
    }
    const Tensor x = tensor(c.at("x_shape"), c.at("x"));
    Tensor y, dx;
    layer->forward(x, y, {});
    ASSERT_EQ(y.shape, c.at("y_shape").get<Shape>());
    expect_close(y.data, c.at("y"), "y");
    const Tensor dy = tensor(c.at("y_shape"), c.at("dy"));
    layer->backward(x, y, dy, &dx);
    expect_close(dx.data, c.at("dx"), "dx");
    if (c.contains("weight")) {
      expect_close(layer->params()[0]->grad.data, c.at("dweight"), "dweight");
      expect_close(layer->params()[1]->grad.data, c.at("dbias"), "dbias");
    }
  }
  detail::use_reference_kernels = false;
}

}  // namespace
