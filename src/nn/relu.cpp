// ReLU on any shape. Backward gates on the output (y > 0), as torch does.
#include "dkws/nn/layer.hpp"

namespace dkws::nn {
namespace {

class ReLU final : public Layer {
 public:
  std::string kind() const override { return "relu"; }
  Shape output_shape(const Shape& in) const override { return in; }

  void forward(const Tensor& x, Tensor& y, const ForwardContext&) override {
    y.resize(x.shape);
    const float* __restrict xv = x.ptr();
    float* __restrict yv = y.ptr();
    for (size_t i = 0, n = x.size(); i < n; ++i) yv[i] = xv[i] > 0.f ? xv[i] : 0.f;
  }

  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx) override {
    if (!dx) return;
    dx->resize(x.shape);
    const float* __restrict yv = y.ptr();
    const float* __restrict dv = dy.ptr();
    float* __restrict out = dx->ptr();
    for (size_t i = 0, n = y.size(); i < n; ++i) out[i] = yv[i] > 0.f ? dv[i] : 0.f;
  }

  nlohmann::json config() const override { return {{"kind", "relu"}}; }
};

}  // namespace

std::unique_ptr<Layer> make_relu() {
  return std::make_unique<ReLU>();
}

}  // namespace dkws::nn
