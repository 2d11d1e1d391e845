// Dense: x [N, F] -> y [N, out] = x W^T + b, weight [out][F], bias [out].
#include "nn/dense_kernels.hpp"
#include "nn/layer_util.hpp"

namespace dkws::nn {
namespace {

class Dense final : public Layer {
 public:
  Dense(int in, int out) : in_(in), out_(out), w_("weight", {out, in}), b_("bias", {out}) {}

  std::string kind() const override { return "dense"; }
  Shape output_shape(const Shape& in) const override {
    detail::check_input("dense", in, {in_});
    return {in[0], out_};
  }

  void forward(const Tensor& x, Tensor& y, const ForwardContext&) override {
    detail::check_input("dense", x.shape, {in_});
    detail::resize_to(y, {x.dim(0), out_});
    const int n_items = x.dim(0);
    const float* w = w_.value.ptr();
    if (detail::use_reference_kernels) {  // y[n][o] = b[o] + sum_i w[o][i] x[n][i]
      for (int n = 0; n < n_items; ++n)
        for (int o = 0; o < out_; ++o) {
          float s = b_.value[size_t(o)];
          for (int i = 0; i < in_; ++i) s += w[size_t(o) * in_ + i] * x[size_t(n) * in_ + i];
          y[size_t(n) * out_ + o] = s;
        }
      return;
    }
    detail::dense_forward(x.ptr(), w, b_.value.ptr(), n_items, in_, out_, y.ptr());
  }

  void backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor* dx) override {
    const int n_items = x.dim(0);
    const float* w = w_.value.ptr();
    float* dw = w_.grad.ptr();
    if (dx) dx->resize(x.shape);
    if (!detail::use_reference_kernels) {  // dense_kernels.cpp
      detail::dense_weight_grad(x.ptr(), dy.ptr(), n_items, in_, out_, dw, b_.grad.ptr());
      if (dx) detail::dense_input_grad(dy.ptr(), w, n_items, in_, out_, dx->ptr());
      return;
    }
    // Reference: rank-1 updates dW += dy^T x, db += sum dy, dx = dy W, one item at a time.
    if (dx) dx->zero();
    for (int n = 0; n < n_items; ++n) {
      const float* xn = x.ptr() + size_t(n) * in_;
      for (int o = 0; o < out_; ++o) {
        const float d = dy[size_t(n) * out_ + o];
        b_.grad[size_t(o)] += d;
        for (int i = 0; i < in_; ++i) {
          dw[size_t(o) * in_ + i] += d * xn[i];
          if (dx) (*dx)[size_t(n) * in_ + i] += d * w[size_t(o) * in_ + i];
        }
      }
    }
  }

  std::vector<Param*> params() override { return {&w_, &b_}; }
  nlohmann::json config() const override { return {{"kind", "dense"}, {"in", in_}, {"out", out_}}; }
  void init(Rng& rng) override {
    detail::glorot_uniform(rng, w_.value, in_, out_);
    b_.value.zero();
  }
  double macs_per_item(const Shape&) const override { return double(in_) * out_; }

 private:
  int in_, out_;
  Param w_, b_;
};

}  // namespace

std::unique_ptr<Layer> make_dense(int in_features, int out_features) {
  if (in_features <= 0 || out_features <= 0)
    throw Error(
        fmt::format("dense: in and out must be positive (got {}, {})", in_features, out_features));
  return std::make_unique<Dense>(in_features, out_features);
}

}  // namespace dkws::nn
