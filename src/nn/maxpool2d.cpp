// MaxPool2D over [N, H, W, C] with a square pool, size = stride, in both spatial axes. Same scheme
// as MaxPool1D: record the flat argmax per output element, route dy there in backward. The 2x2
// 'valid' pool of the AudioClassifier has its own kernels (maxpool2x2.hpp); the general path is
// their reference.
#include "nn/layer_util.hpp"
#include "nn/maxpool2x2.hpp"
#include "nn/pool_geometry.hpp"
#include "nn/pool_window.hpp"

namespace dkws::nn {
namespace {

class MaxPool2D final : public Layer {
 public:
  MaxPool2D(int pool, bool same) : pool_(pool), same_(same) {}

  std::string kind() const override { return "maxpool2d"; }
  Shape output_shape(const Shape& in) const override {
    const auto [oh, ow] = out_hw(in);
    return {in[0], oh, ow, in[3]};
  }

  void forward(const Tensor& x, Tensor& y, const ForwardContext&) override {
    const auto [oh, ow] = out_hw(x.shape);
    detail::resize_to(y, {x.dim(0), oh, ow, x.dim(3)});
    pool2x2_ = pool_ == 2 && !same_ && !detail::use_reference_kernels;
    if (pool2x2_)
      return detail::MaxPool2x2{x.dim(0), x.dim(1), x.dim(2), x.dim(3)}.forward(x.ptr(), y.ptr());
    argmax_.resize(y.size());
    const int n_items = x.dim(0), h = x.dim(1), w = x.dim(2), ch = x.dim(3);
    const auto ah = detail::pool_axis(h, pool_, same_), aw = detail::pool_axis(w, pool_, same_);
    // Cell offsets from the window's top-left cell, row-major. Full windows share one list;
    // windows clipped by the 'same' padding (last row/column only) get their own.
    cells_.resize(size_t(pool_) * pool_);
    auto fill_cells = [&](int rows, int cols) {
      int k = 0;
      for (int r = 0; r < rows; ++r)
        for (int q = 0; q < cols; ++q) cells_[size_t(k++)] = (r * w + q) * ch;
      return k;
    };
    const int full = fill_cells(pool_, pool_);
    for (int n = 0; n < n_items; ++n)
      for (int i = 0; i < ah.out; ++i)
        for (int j = 0; j < aw.out; ++j) {
          const int r0 = ah.begin(i, pool_), r1 = ah.end(i, pool_, h);
          const int c0 = aw.begin(j, pool_), c1 = aw.end(j, pool_, w);
          const bool clipped = r1 - r0 != pool_ || c1 - c0 != pool_;
          const int ncells = clipped ? fill_cells(r1 - r0, c1 - c0) : full;
          const size_t yo = ((size_t(n) * ah.out + i) * aw.out + j) * ch;
          detail::pool_window(x.ptr(), ((n * h + r0) * w + c0) * ch, cells_.data(), ncells, ch,
                              y.ptr() + yo, argmax_.data() + yo);
          if (clipped) fill_cells(pool_, pool_);
        }
  }

  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx) override {
    if (!dx) return;
    dx->resize(x.shape);
    if (pool2x2_)
      return detail::MaxPool2x2{x.dim(0), x.dim(1), x.dim(2), x.dim(3)}.backward(
          x.ptr(), y.ptr(), dy.ptr(), dx->ptr());
    dx->zero();
    for (size_t k = 0; k < dy.size(); ++k) (*dx)[size_t(argmax_[k])] += dy[k];
  }

  nlohmann::json config() const override {
    return {{"kind", "maxpool2d"}, {"pool", pool_}, {"same", same_}};
  }

 private:
  // Validates the input and gives the output height and width.
  std::pair<int, int> out_hw(const Shape& in) const {
    detail::check_input("maxpool2d", in, {-1, -1, -1});
    const int oh = detail::pool_axis(in[1], pool_, same_).out;
    const int ow = detail::pool_axis(in[2], pool_, same_).out;
    if (oh <= 0 || ow <= 0)
      throw Error(
          fmt::format("maxpool2d: input {}x{} is smaller than the pool {}", in[1], in[2], pool_));
    return {oh, ow};
  }

  int pool_;
  bool same_;
  bool pool2x2_ = false;  // whether the last forward ran the 2x2 'valid' kernels
  std::vector<int32_t> argmax_, cells_;
};

}  // namespace

std::unique_ptr<Layer> make_maxpool2d(int pool, bool same) {
  if (pool <= 0) throw Error(fmt::format("maxpool2d: pool must be positive (got {})", pool));
  return std::make_unique<MaxPool2D>(pool, same);
}

}  // namespace dkws::nn
