// Conv1D, channels-last: x [N, L, in] -> y [N, L, out], 'same' zero padding, stride 1.
// weight [out][k][in], bias [out]. The fast path runs the shared convolution engine as a one-row
// image (conv_engine.hpp); the reference path below is the definition as plain loops.
#include "nn/conv_engine.hpp"
#include "nn/layer_util.hpp"

namespace dkws::nn {
namespace {

// Reference: y[n][l][o] = b[o] + sum_{k,c} w[o][k][c] * x[n][l+k-pb][c], zero outside [0, L).
void forward_ref(const Tensor& x, const Tensor& w, const Tensor& bias, int in, int out, int k,
                 Tensor& y) {
  const int n_items = x.dim(0), len = x.dim(1), pb = (k - 1) / 2;
  for (int n = 0; n < n_items; ++n)
    for (int l = 0; l < len; ++l)
      for (int o = 0; o < out; ++o) {
        float s = bias[size_t(o)];
        for (int t = 0; t < k; ++t) {
          const int src = l + t - pb;
          if (src < 0 || src >= len) continue;
          for (int c = 0; c < in; ++c)
            s += w[(size_t(o) * k + t) * in + c] * x[(size_t(n) * len + src) * in + c];
        }
        y[(size_t(n) * len + l) * out + o] = s;
      }
}

void backward_ref(const Tensor& x, const Tensor& w, const Tensor& dy, int in, int out, int k,
                  Tensor& dw, Tensor& db, Tensor* dx) {
  const int n_items = x.dim(0), len = x.dim(1), pb = (k - 1) / 2;
  if (dx) dx->zero();
  for (int n = 0; n < n_items; ++n)
    for (int l = 0; l < len; ++l)
      for (int o = 0; o < out; ++o) {
        const float d = dy[(size_t(n) * len + l) * out + o];
        db[size_t(o)] += d;
        for (int t = 0; t < k; ++t) {
          const int src = l + t - pb;
          if (src < 0 || src >= len) continue;
          for (int c = 0; c < in; ++c) {
            const size_t wi = (size_t(o) * k + t) * in + c, xi = (size_t(n) * len + src) * in + c;
            dw[wi] += d * x[xi];
            if (dx) (*dx)[xi] += d * w[wi];
          }
        }
      }
}

class Conv1D final : public Layer {
 public:
  Conv1D(int in, int out, int k)
      : in_(in), out_(out), k_(k), w_("weight", {out, k, in}), b_("bias", {out}) {}

  std::string kind() const override { return "conv1d"; }
  Shape output_shape(const Shape& in) const override {
    detail::check_input("conv1d", in, {-1, in_});
    return {in[0], in[1], out_};
  }
  void forward(const Tensor& x, Tensor& y, const ForwardContext&) override {
    detail::check_input("conv1d", x.shape, {-1, in_});
    detail::resize_to(y, {x.dim(0), x.dim(1), out_});
    if (detail::use_reference_kernels)
      forward_ref(x, w_.value, b_.value, in_, out_, k_, y);
    else
      engine_.forward(x.ptr(), geom(x.shape), w_.value.ptr(), b_.value.ptr(), out_, y.ptr());
  }
  void backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor* dx) override {
    if (dx) dx->resize(x.shape);
    if (detail::use_reference_kernels)
      backward_ref(x, w_.value, dy, in_, out_, k_, w_.grad, b_.grad, dx);
    else
      engine_.backward(x.ptr(), geom(x.shape), w_.value.ptr(), out_, dy.ptr(), w_.grad.ptr(),
                       b_.grad.ptr(), dx ? dx->ptr() : nullptr);
  }
  std::vector<Param*> params() override { return {&w_, &b_}; }
  nlohmann::json config() const override {
    return {{"kind", "conv1d"}, {"in", in_}, {"out", out_}, {"kernel", k_}};
  }
  void init(Rng& rng) override {
    detail::glorot_uniform(rng, w_.value, in_ * k_, out_ * k_);
    b_.value.zero();
  }
  double macs_per_item(const Shape& in) const override { return double(in[1]) * out_ * k_ * in_; }

 private:
  // A sequence is an image of height 1 with a 1 x k kernel.
  detail::ConvGeom geom(const Shape& s) const {
    return {s[0], 1, s[1], in_, 1, k_, 0, (k_ - 1) / 2};
  }
  int in_, out_, k_;
  Param w_, b_;
  detail::ConvEngine engine_;
};

}  // namespace

std::unique_ptr<Layer> make_conv1d(int in_ch, int out_ch, int kernel) {
  if (in_ch <= 0 || out_ch <= 0 || kernel <= 0)
    throw Error(fmt::format("conv1d: in, out and kernel must be positive (got {}, {}, {})", in_ch,
                            out_ch, kernel));
  return std::make_unique<Conv1D>(in_ch, out_ch, kernel);
}

}  // namespace dkws::nn
