// MaxPool1D over [N, L, C] with pool size = stride. Forward records, per output element, the flat
// index of the input it took; backward routes dy there. Channels-last keeps the inner loop over C
// contiguous: a vector compare-and-select (detail::pool_window).
#include "nn/layer_util.hpp"
#include "nn/pool_geometry.hpp"
#include "nn/pool_window.hpp"

namespace dkws::nn {
namespace {

class MaxPool1D final : public Layer {
 public:
  MaxPool1D(int pool, bool same) : pool_(pool), same_(same) {}

  std::string kind() const override { return "maxpool1d"; }
  Shape output_shape(const Shape& in) const override { return {in[0], out_len(in), in[2]}; }

  void forward(const Tensor& x, Tensor& y, const ForwardContext&) override {
    detail::resize_to(y, {x.dim(0), out_len(x.shape), x.dim(2)});
    argmax_.resize(y.size());
    const int n_items = x.dim(0), len = x.dim(1), ch = x.dim(2);
    const auto ax = detail::pool_axis(len, pool_, same_);
    // Cell offsets from a window's first row; a window clipped by the 'same' padding just
    // uses fewer of them.
    cells_.resize(size_t(pool_));
    for (int k = 0; k < pool_; ++k) cells_[size_t(k)] = k * ch;
    for (int n = 0; n < n_items; ++n)
      for (int i = 0; i < ax.out; ++i) {
        const int r0 = ax.begin(i, pool_), r1 = ax.end(i, pool_, len);
        const size_t yo = (size_t(n) * ax.out + i) * ch;
        detail::pool_window(x.ptr(), (n * len + r0) * ch, cells_.data(), r1 - r0, ch, y.ptr() + yo,
                            argmax_.data() + yo);
      }
  }

  void backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor* dx) override {
    if (!dx) return;
    dx->resize(x.shape);
    dx->zero();
    for (size_t k = 0; k < dy.size(); ++k) (*dx)[size_t(argmax_[k])] += dy[k];
  }

  nlohmann::json config() const override {
    return {{"kind", "maxpool1d"}, {"pool", pool_}, {"same", same_}};
  }

 private:
  // Validates the input and gives the output length.
  int out_len(const Shape& in) const {
    detail::check_input("maxpool1d", in, {-1, -1});
    const int out = detail::pool_axis(in[1], pool_, same_).out;
    if (out <= 0)
      throw Error(
          fmt::format("maxpool1d: input length {} is shorter than the pool {}", in[1], pool_));
    return out;
  }

  int pool_;
  bool same_;
  std::vector<int32_t> argmax_, cells_;
};

}  // namespace

std::unique_ptr<Layer> make_maxpool1d(int pool, bool same) {
  if (pool <= 0) throw Error(fmt::format("maxpool1d: pool must be positive (got {})", pool));
  return std::make_unique<MaxPool1D>(pool, same);
}

}  // namespace dkws::nn
