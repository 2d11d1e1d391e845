// Inverted dropout: in training each element is kept with probability 1 - rate and scaled by
// 1/(1-rate); at inference it is the identity. The mask of scale factors is kept for backward, as
// float bit patterns: the random words are drawn into it and turned into scales in place.
// The decisions come from one rng.fill_u32() over the whole batch (vectorised generator lanes,
// advancing the training generator by a single draw): element i is kept when its 32-bit word is
// >= ceil(rate * 2^32), so the keep probability is 1 - rate to within 2^-32.
#include <bit>

#include <fmt/format.h>

#include "dkws/error.hpp"
#include "dkws/nn/layer.hpp"
#include "nn/dropout_bits.hpp"

namespace dkws::nn {
namespace {

// out = a * mask elementwise, mask holding float bits; raw restrict pointers so it vectorises.
void multiply(const float* __restrict a, const uint32_t* __restrict mask, float* __restrict out,
              size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = a[i] * std::bit_cast<float>(mask[i]);
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
    const size_t n = x.size();
    mask_.resize(n);
    ctx.rng->fill_u32(mask_.data(), n);
    const detail::DropoutBits keep(rate_);
    const float* __restrict xv = x.ptr();
    float* __restrict yv = y.ptr();
    uint32_t* __restrict m = mask_.data();
    for (size_t i = 0; i < n; ++i) {
      m[i] = keep(m[i]);
      yv[i] = xv[i] * std::bit_cast<float>(m[i]);  // as backward: x * 0 keeps NaN/inf visible
    }
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
  bool masked_ = false;         // whether the last forward applied mask_
  std::vector<uint32_t> mask_;  // bits of 1/(1-rate) or 0.f per element
};

}  // namespace

std::unique_ptr<Layer> make_dropout(float rate) {
  if (!(rate >= 0.f && rate < 1.f))
    throw Error(fmt::format("dropout: rate must be in [0, 1) (got {})", rate));
  return std::make_unique<Dropout>(rate);
}

}  // namespace dkws::nn
