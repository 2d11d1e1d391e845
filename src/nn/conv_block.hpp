// The AudioClassifier's block, Conv2D -> ReLU -> MaxPool2D(2, 'valid') [-> Dropout], run by
// Sequential as one step. Apart, the four layers pass the full-resolution conv output through
// memory five more times in forward (ReLU in and out, pool in, dropout in and out) and as many in
// backward, and the conv's backward multiplies a gradient that is zero in three cells of every
// pool window. Together:
// - forward computes only the conv outputs some pool window reads (not an odd last row or
//   column), then one pass takes the pool's maximum, ReLU and dropout and records, per pooled
//   value, which of its four cells won (or that no gradient flows: the maximum is not positive).
//   With out a multiple of 8 that pass takes the conv's outputs as they come, from an L1 buffer:
//   two rows at a time for one input channel, Winograd's 2x2 blocks (each a pool window) for 8
//   or more (conv_winograd.hpp); the conv output does not go through memory;
// - backward gives the conv's weight and input gradients from the winning cells alone
//   (winner_grad.hpp). For one input channel, where a patch is too short for entry lists to pay,
//   the weight gradient of 8k outputs is taken window by window for 8 channels at once
//   (winner_wgrad_one_channel); otherwise (an input gradient asked for, other output counts) the
//   pooled gradient is spread back onto the conv's output layout and the dense backward runs.
//
// Forward is bit-exact with the layers run one by one: the same conv kernels, the same dropout
// draws (one fill_u32 of the pooled size), the same first-maximum tie rule and the same products.
// Gradients agree to float rounding (the winner path sums in another order; the dense path is
// bit-exact). The Layer objects keep their parameters; the block borrows the conv's weight and
// bias.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "dkws/nn/layer.hpp"
#include "nn/conv_engine.hpp"
#include "nn/winner_grad.hpp"

namespace dkws::nn::detail {

class ConvBlock2x2 {
 public:
  // How many layers from layers[first] form a block (4 with dropout, 3 without), or 0. `layers`
  // are the layers as Sequential would run them (a transparent wrapper replaced by its base).
  static int match(const std::vector<Layer*>& layers, size_t first);
  // `conv` is layers[first]; `dropout_rate` 0 when the block has no dropout.
  ConvBlock2x2(Layer& conv, float dropout_rate);

  // x [N, H, W, in] (`shape`) -> z [N, H/2, W/2, out]. x is read during the call only (the
  // conv keeps its own padded copy).
  void forward(const float* x, const Shape& shape, Tensor& z, const ForwardContext& ctx);
  // Accumulates the conv's weight and bias gradients; writes dx when not null. Of x only the
  // shape is read: it may have no data.
  void backward(const Tensor& x, const Tensor& dz, Tensor* dx);

 private:
  ConvGeom geom(const Shape& x) const;
  // The conv's gradients from the pool winners alone (winner_grad.hpp); false where no kernel
  // fits the input channel count, and the dense conv backward runs instead.
  bool winner_backward(const ConvGeom& g, const float* dz, float* dx);

  Param *weight_, *bias_;
  int out_;
  float rate_;
  bool masked_ = false;  // whether the last forward drew a dropout mask
  ConvEngine engine_;
  std::vector<float> y_;              // conv output [N, H, W, out], where not pooled as it comes
  std::vector<uint8_t> winner_;       // per pooled value: the cell (0-3, scan order) or kNoGradient
  std::vector<uint32_t> mask_;        // dropout scale bits per pooled value, as Dropout keeps them
  std::vector<float> dy_;             // conv output gradient (dense path)
  std::vector<WinnerEntry> entries_;  // [out][windows], counts_[c] used per channel
  std::vector<size_t> counts_;
  std::vector<int32_t> bases_;  // each pool window's top-left patch origin in the padded input
  std::vector<float> dwp_, wpad_, dxp_;  // weight rows and input gradient, vector-padded
};

}  // namespace dkws::nn::detail
