// Inverted dropout: in training each element is kept when rng.uniform() >= rate (one draw per
// element, in storage order) and scaled by 1/(1-rate); at inference it is the identity. The mask
// of scale factors is kept for backward.
#include "nn/layers_internal.hpp"

namespace dkws::nn {
namespace {

class Dropout final : public Layer {
 public:
  explicit Dropout(float rate) : rate_(rate) {}

  std::string kind() const override { return "dropout"; }
  Shape output_shape(const Shape& in) const override { return in; }

  void forward(const Tensor& x, Tensor& y, const ForwardContext& ctx) override {
    y.resize(x.shape);
    masked_ = ctx.training && rate_ > 0.f;
    if (!masked_) {
      std::copy(x.data.begin(), x.data.end(), y.data.begin());
      return;
    }
    if (!ctx.rng) throw Error("dropout: a training forward needs ForwardContext::rng");
    const float scale = 1.f / (1.f - rate_);
    const double rate = rate_;
    mask_.resize(x.size());
    // Draw from a local copy so the generator state stays in registers, then hand it back: the
    // stream is exactly that of calling ctx.rng->uniform() once per element.
    Rng rng = *ctx.rng;
    for (float& m : mask_) m = scale * float(rng.uniform() >= rate);  // branch-free: no mispredicts
    *ctx.rng = rng;
    for (size_t i = 0; i < x.size(); ++i) y[i] = x[i] * mask_[i];
  }

  void backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor* dx) override {
    if (!dx) return;
    dx->resize(x.shape);
    if (!masked_) {
      std::copy(dy.data.begin(), dy.data.end(), dx->data.begin());
      return;
    }
    for (size_t i = 0; i < dy.size(); ++i) (*dx)[i] = dy[i] * mask_[i];
  }

  nlohmann::json config() const override { return {{"kind", "dropout"}, {"rate", rate_}}; }

 private:
  float rate_;
  bool masked_ = false;  // whether the last forward applied mask_
  std::vector<float> mask_;
};

}  // namespace

std::unique_ptr<Layer> make_dropout(float rate) {
  if (!(rate >= 0.f && rate < 1.f))
    throw Error(fmt::format("dropout: rate must be in [0, 1) (got {})", rate));
  return std::make_unique<Dropout>(rate);
}

}  // namespace dkws::nn
