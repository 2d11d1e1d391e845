// GaussianNoise (Keras): y = x + stddev * N(0, 1) in training, identity at inference. The normals
// come from one rng.fill_normal() over the whole batch in storage order (a vectorised float
// Box-Muller, ~0.8 ns an element against ~15 ns for rng.normal()), which advances the training
// generator by a single draw. The noise does not depend on x, so dx = dy.
#include <fmt/format.h>

#include "dkws/error.hpp"
#include "dkws/nn/layer.hpp"

namespace dkws::nn {
namespace {

class GaussianNoise final : public Layer {
 public:
  explicit GaussianNoise(float stddev) : stddev_(stddev) {}

  std::string kind() const override { return "gaussian_noise"; }
  Shape output_shape(const Shape& in) const override { return in; }

  void forward(const Tensor& x, Tensor& y, const ForwardContext& ctx) override {
    y.resize(x.shape);
    if (!ctx.training || stddev_ == 0.f) {
      std::copy(x.data.begin(), x.data.end(), y.data.begin());
      return;
    }
    if (!ctx.rng) throw Error("gaussian_noise: a training forward needs ForwardContext::rng");
    const size_t n = x.size();
    ctx.rng->fill_normal(y.ptr(), n);
    const float sd = stddev_;
    const float* __restrict xv = x.ptr();
    float* __restrict yv = y.ptr();
    for (size_t i = 0; i < n; ++i) yv[i] = xv[i] + sd * yv[i];
  }

  void backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor* dx) override {
    if (!dx) return;
    dx->resize(x.shape);
    std::copy(dy.data.begin(), dy.data.end(), dx->data.begin());
  }

  nlohmann::json config() const override {
    return {{"kind", "gaussian_noise"}, {"stddev", stddev_}};
  }

 private:
  float stddev_;
};

}  // namespace

std::unique_ptr<Layer> make_gaussian_noise(float stddev) {
  if (!(stddev >= 0.f))
    throw Error(fmt::format("gaussian_noise: stddev must be >= 0 (got {})", stddev));
  return std::make_unique<GaussianNoise>(stddev);
}

}  // namespace dkws::nn
