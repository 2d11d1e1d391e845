// Global average pooling, channels-last: x [N, positions..., C] -> y [N, C], the mean over every
// position (L for a sequence, H x W for an image). It lets a conv stack end in a dense layer whose
// size does not grow with the input length, which keeps the DS-CNN family small.
#include "nn/layer_util.hpp"

namespace dkws::nn {
namespace {

class GlobalAvgPool final : public Layer {
 public:
  std::string kind() const override { return "global_avgpool"; }
  Shape output_shape(const Shape& in) const override {
    check(in);
    return {in[0], in.back()};
  }

  void forward(const Tensor& x, Tensor& y, const ForwardContext&) override {
    check(x.shape);
    const int n_items = x.dim(0), c = int(x.shape.back());
    const size_t positions = x.size() / (size_t(n_items) * size_t(c));
    detail::resize_to(y, {n_items, c});
    const float inv = 1.f / float(positions);
    for (int n = 0; n < n_items; ++n) {
      float* yr = y.ptr() + size_t(n) * c;
      for (int j = 0; j < c; ++j) yr[j] = 0;
      for (size_t p = 0; p < positions; ++p) {
        const float* xr = x.ptr() + (size_t(n) * positions + p) * size_t(c);
        for (int j = 0; j < c; ++j) yr[j] += xr[j];
      }
      for (int j = 0; j < c; ++j) yr[j] *= inv;
    }
  }

  // Every position receives dy / positions.
  void backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor* dx) override {
    if (!dx) return;
    dx->resize(x.shape);
    const int n_items = x.dim(0), c = int(x.shape.back());
    const size_t positions = x.size() / (size_t(n_items) * size_t(c));
    const float inv = 1.f / float(positions);
    for (int n = 0; n < n_items; ++n)
      for (size_t p = 0; p < positions; ++p) {
        float* dxr = dx->ptr() + (size_t(n) * positions + p) * size_t(c);
        for (int j = 0; j < c; ++j) dxr[j] = dy[size_t(n) * c + j] * inv;
      }
  }

  nlohmann::json config() const override { return {{"kind", "global_avgpool"}}; }

 private:
  static void check(const Shape& in) {
    bool ok = in.size() >= 3;
    for (int d : in) ok = ok && d > 0;
    if (!ok)
      throw Error("global_avgpool: expected input [N, positions..., C], got " +
                  detail::shape_str(in));
  }
};

}  // namespace

std::unique_ptr<Layer> make_global_avgpool() {
  return std::make_unique<GlobalAvgPool>();
}

}  // namespace dkws::nn
