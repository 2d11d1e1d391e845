// Inverted dropout: in training each element is kept when rng.uniform() >= rate (one draw per
// element, in storage order) and scaled by 1/(1-rate); at inference it is the identity. The mask
// of scale factors is kept for backward.
#include "nn/layers_internal.hpp"

namespace dkws::nn {
namespace {

// out = a * b elementwise; raw restrict pointers so it vectorises.
void multiply(const float* __restrict a, const float* __restrict b, float* __restrict out,
              size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = a[i] * b[i];
}

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
    mask_.resize(x.size());
    // uniform() is (next_u64() >> 11) * 2^-53 exactly, so `uniform() >= rate` is the integer test
    // `(next_u64() >> 11) >= ceil(rate * 2^53)`: the same draws and decisions, without the
    // int-to-double conversion and with no branch. The generator is copied locally so its state
    // stays in registers, then handed back.
    const uint64_t threshold = uint64_t(std::ceil(double(rate_) * 0x1.0p53));
    uint32_t scale_bits;
    std::memcpy(&scale_bits, &scale, sizeof scale);
    Rng rng = *ctx.rng;
    for (float& m : mask_) {
      const uint32_t keep = uint32_t((rng.next_u64() >> 11) >= threshold);
      const uint32_t bits = scale_bits & (0u - keep);
      std::memcpy(&m, &bits, sizeof m);
    }
    *ctx.rng = rng;
    multiply(x.ptr(), mask_.data(), y.ptr(), x.size());
  }

  void backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor* dx) override {
    if (!dx) return;
    dx->resize(x.shape);
    if (!masked_) {
      std::copy(dy.data.begin(), dy.data.end(), dx->data.begin());
      return;
    }
    multiply(dy.ptr(), mask_.data(), dx->ptr(), dy.size());
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
