// Depthwise Conv1D, channels-last: x [N, L, C] -> y [N, L, C], 'same' zero padding, stride 1.
// Each channel has its own kernel (torch Conv1d with groups = C): weight [C][k], bias [C].
// y[n][l][c] = b[c] + sum_t w[c][t] * x[n][l + t - pb][c], pb = (k - 1) / 2, zero outside [0, L).
// The DS-CNN family pairs it with a pointwise (kernel 1) conv1d. One loop nest serves both
// kernel modes: the channel loop is innermost and contiguous, which the compiler vectorises, and
// the layer is a small share of a DS-CNN's multiply-adds next to the pointwise convs.
#include "nn/layer_util.hpp"

namespace dkws::nn {
namespace {

class DepthwiseConv1D final : public Layer {
 public:
  DepthwiseConv1D(int channels, int k)
      : c_(channels), k_(k), w_("weight", {channels, k}), b_("bias", {channels}) {}

  std::string kind() const override { return "depthwise_conv1d"; }
  Shape output_shape(const Shape& in) const override {
    detail::check_input("depthwise_conv1d", in, {-1, c_});
    return in;
  }

  void forward(const Tensor& x, Tensor& y, const ForwardContext&) override {
    detail::check_input("depthwise_conv1d", x.shape, {-1, c_});
    detail::resize_to(y, {x.dim(0), x.dim(1), c_});
    const int n_items = x.dim(0), len = x.dim(1), pb = (k_ - 1) / 2;
    const float* w = w_.value.ptr();
    for (int n = 0; n < n_items; ++n)
      for (int l = 0; l < len; ++l) {
        float* yr = y.ptr() + (size_t(n) * len + l) * c_;
        for (int c = 0; c < c_; ++c) yr[c] = b_.value[size_t(c)];
        for (int t = 0; t < k_; ++t) {
          const int src = l + t - pb;
          if (src < 0 || src >= len) continue;
          const float* xr = x.ptr() + (size_t(n) * len + src) * c_;
          for (int c = 0; c < c_; ++c) yr[c] += w[size_t(c) * k_ + t] * xr[c];
        }
      }
  }

  // dw[c][t] += sum dy[l][c] x[l+t-pb][c]; db[c] += sum dy[l][c]; dx[l+t-pb][c] += w[c][t]
  // dy[l][c].
  void backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor* dx) override {
    const int n_items = x.dim(0), len = x.dim(1), pb = (k_ - 1) / 2;
    const float* w = w_.value.ptr();
    float* dw = w_.grad.ptr();
    if (dx) {
      dx->resize(x.shape);
      dx->zero();
    }
    for (int n = 0; n < n_items; ++n)
      for (int l = 0; l < len; ++l) {
        const float* dyr = dy.ptr() + (size_t(n) * len + l) * c_;
        for (int c = 0; c < c_; ++c) b_.grad[size_t(c)] += dyr[c];
        for (int t = 0; t < k_; ++t) {
          const int src = l + t - pb;
          if (src < 0 || src >= len) continue;
          const size_t row = (size_t(n) * len + src) * c_;
          const float* xr = x.ptr() + row;
          for (int c = 0; c < c_; ++c) dw[size_t(c) * k_ + t] += dyr[c] * xr[c];
          if (!dx) continue;
          float* dxr = dx->ptr() + row;
          for (int c = 0; c < c_; ++c) dxr[c] += w[size_t(c) * k_ + t] * dyr[c];
        }
      }
  }

  std::vector<Param*> params() override { return {&w_, &b_}; }
  nlohmann::json config() const override {
    return {{"kind", "depthwise_conv1d"}, {"channels", c_}, {"kernel", k_}};
  }
  // Keras DepthwiseConv1D's glorot_uniform: fan_in = k (one input channel), fan_out = k.
  void init(Rng& rng) override {
    detail::glorot_uniform(rng, w_.value, k_, k_);
    b_.value.zero();
  }
  double macs_per_item(const Shape& in) const override { return double(in[1]) * c_ * k_; }

 private:
  int c_, k_;
  Param w_, b_;
};

}  // namespace

std::unique_ptr<Layer> make_depthwise_conv1d(int channels, int kernel) {
  if (channels <= 0 || kernel <= 0)
    throw Error(fmt::format("depthwise_conv1d: channels and kernel must be positive (got {}, {})",
                            channels, kernel));
  return std::make_unique<DepthwiseConv1D>(channels, kernel);
}

}  // namespace dkws::nn
