// Conv2D, channels-last: x [N, H, W, in] -> y [N, H, W, out], 'same' zero padding, stride 1.
// weight [out][kh][kw][in], bias [out]. The fast path is detail::ConvEngine (conv_engine.hpp);
// the reference path below is the definition written as plain loops.
#include "nn/conv_engine.hpp"
#include "nn/layer_util.hpp"

namespace dkws::nn {
namespace {

// Reference: y[n][i][j][o] = b[o] + sum_{a,b,c} w[o][a][b][c] * x[n][i+a-pbh][j+b-pbw][c].
void forward_ref(const Tensor& x, const Tensor& w, const Tensor& bias, const detail::ConvGeom& g,
                 int out, Tensor& y) {
  for (int n = 0; n < g.n; ++n)
    for (int i = 0; i < g.h; ++i)
      for (int j = 0; j < g.w; ++j)
        for (int o = 0; o < out; ++o) {
          float s = bias[size_t(o)];
          for (int a = 0; a < g.kh; ++a)
            for (int b = 0; b < g.kw; ++b) {
              const int ii = i + a - g.pbh, jj = j + b - g.pbw;
              if (ii < 0 || ii >= g.h || jj < 0 || jj >= g.w) continue;
              for (int c = 0; c < g.c; ++c)
                s += w[((size_t(o) * g.kh + a) * g.kw + b) * g.c + c] *
                     x[((size_t(n) * g.h + ii) * g.w + jj) * g.c + c];
            }
          y[((size_t(n) * g.h + i) * g.w + j) * out + o] = s;
        }
}

// Reference backward: every product in the forward sum sends dy to its two factors' gradients.
void backward_ref(const Tensor& x, const Tensor& w, const Tensor& dy, const detail::ConvGeom& g,
                  int out, Tensor& dw, Tensor& db, Tensor* dx) {
  if (dx) dx->zero();
  for (int n = 0; n < g.n; ++n)
    for (int i = 0; i < g.h; ++i)
      for (int j = 0; j < g.w; ++j)
        for (int o = 0; o < out; ++o) {
          const float d = dy[((size_t(n) * g.h + i) * g.w + j) * out + o];
          db[size_t(o)] += d;
          for (int a = 0; a < g.kh; ++a)
            for (int b = 0; b < g.kw; ++b) {
              const int ii = i + a - g.pbh, jj = j + b - g.pbw;
              if (ii < 0 || ii >= g.h || jj < 0 || jj >= g.w) continue;
              for (int c = 0; c < g.c; ++c) {
                const size_t wi = ((size_t(o) * g.kh + a) * g.kw + b) * g.c + c;
                const size_t xi = ((size_t(n) * g.h + ii) * g.w + jj) * g.c + c;
                dw[wi] += d * x[xi];
                if (dx) (*dx)[xi] += d * w[wi];
              }
            }
        }
}

class Conv2D final : public Layer {
 public:
  Conv2D(int in, int out, int kh, int kw)
      : in_(in), out_(out), kh_(kh), kw_(kw), w_("weight", {out, kh, kw, in}), b_("bias", {out}) {}

  std::string kind() const override { return "conv2d"; }
  Shape output_shape(const Shape& in) const override {
    detail::check_input("conv2d", in, {-1, -1, in_});
    return {in[0], in[1], in[2], out_};
  }
  void forward(const Tensor& x, Tensor& y, const ForwardContext&) override {
    detail::check_input("conv2d", x.shape, {-1, -1, in_});
    detail::resize_to(y, {x.dim(0), x.dim(1), x.dim(2), out_});
    const auto g = geom(x.shape);
    if (detail::use_reference_kernels)
      forward_ref(x, w_.value, b_.value, g, out_, y);
    else
      engine_.forward(x.ptr(), g, w_.value.ptr(), b_.value.ptr(), out_, y.ptr());
  }
  void backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor* dx) override {
    if (dx) dx->resize(x.shape);
    const auto g = geom(x.shape);
    if (detail::use_reference_kernels)
      backward_ref(x, w_.value, dy, g, out_, w_.grad, b_.grad, dx);
    else
      engine_.backward(x.ptr(), g, w_.value.ptr(), out_, dy.ptr(), w_.grad.ptr(), b_.grad.ptr(),
                       dx ? dx->ptr() : nullptr);
  }
  std::vector<Param*> params() override { return {&w_, &b_}; }
  nlohmann::json config() const override {
    return {{"kind", "conv2d"}, {"in", in_}, {"out", out_}, {"kernel", {kh_, kw_}}};
  }
  void init(Rng& rng) override {
    detail::glorot_uniform(rng, w_.value, in_ * kh_ * kw_, out_ * kh_ * kw_);
    b_.value.zero();
  }
  double macs_per_item(const Shape& in) const override {
    return double(in[1]) * in[2] * out_ * kh_ * kw_ * in_;
  }

 private:
  detail::ConvGeom geom(const Shape& s) const {
    return {s[0], s[1], s[2], in_, kh_, kw_, (kh_ - 1) / 2, (kw_ - 1) / 2};
  }
  int in_, out_, kh_, kw_;
  Param w_, b_;
  detail::ConvEngine engine_;
};

}  // namespace

std::unique_ptr<Layer> make_conv2d(int in_ch, int out_ch, int kernel_h, int kernel_w) {
  if (in_ch <= 0 || out_ch <= 0 || kernel_h <= 0 || kernel_w <= 0)
    throw Error(fmt::format("conv2d: in, out and kernel must be positive (got {}, {}, {}x{})",
                            in_ch, out_ch, kernel_h, kernel_w));
  return std::make_unique<Conv2D>(in_ch, out_ch, kernel_h, kernel_w);
}

}  // namespace dkws::nn
