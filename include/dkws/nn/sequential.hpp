// A stack of layers with the activations kept for backward. Owns its layers and buffers; after the
// first batch of a given size no forward or backward allocates.
#pragma once
#include <memory>
#include <vector>

#include "dkws/nn/layer.hpp"

namespace dkws::nn {

namespace detail {
class ConvBlock2x2;
}

class Sequential {
 public:
  Sequential();
  Sequential(Sequential&&);
  Sequential& operator=(Sequential&&);
  ~Sequential();

  void add(std::unique_ptr<Layer> layer);
  size_t size() const { return layers_.size(); }
  Layer& layer(size_t i) { return *layers_[i]; }
  const Layer& layer(size_t i) const { return *layers_[i]; }
  // Replaces layer i (e.g. with a dendrite wrapper around it).
  void replace(size_t i, std::unique_ptr<Layer> layer);
  std::unique_ptr<Layer> release(size_t i);

  // x: [N, item...]. Returns the last layer's output (valid until the next forward).
  const Tensor& forward(const Tensor& x, const ForwardContext& ctx);
  // Accumulates parameter gradients for dL/d(output). Input gradient is not computed.
  void backward(const Tensor& dout);
  // Gradient w.r.t. the model input as well (for tests).
  void backward(const Tensor& dout, Tensor& dinput);

  std::vector<Param*> params();
  std::vector<const Param*> params() const;
  void zero_grad();
  // Live parameters (Param::live), optionally only trainable ones.
  size_t count_params(bool trainable_only = false) const;
  Shape output_shape(const Shape& in) const;
  double macs_per_item(const Shape& in) const;
  // Conv2D -> ReLU -> MaxPool2D(2, 'valid') [-> Dropout] runs as one fused step (conv_block.hpp):
  // forward bit-exact with the layers one by one, gradients equal to float rounding; on by
  // default. Its inner activations are not kept (nor a leading reshape's output when a block
  // follows it), so callers of activation() turn it off.
  void set_fused_blocks(bool on) { fuse_blocks_ = on; }
  bool fused_blocks() const { return fuse_blocks_; }
  // Activation output of layer i from the last forward (with fused blocks off).
  const Tensor& activation(size_t i) const { return acts_[i + 1]; }

  // List of layer configs; dkws::net_from_config (models.hpp) rebuilds the network from it.
  nlohmann::json config() const;

 private:
  void backward_impl(const Tensor& dout, Tensor* dinput);
  void plan_steps();
  std::vector<std::unique_ptr<Layer>> layers_;
  std::vector<Tensor> acts_;   // acts_[0] = input copy, acts_[i+1] = output of layer i
  std::vector<Tensor> grads_;  // scratch gradients, ping-pong
  // Index of the first layer with parameters, found once per structure change (not per batch).
  static constexpr size_t kUnknown = size_t(-1);
  size_t first_weighted_ = kUnknown;
  // The layers grouped into steps: a fused block, or one layer (block null). Built on first use
  // after a structure change.
  struct Step {
    size_t first, count;
    std::unique_ptr<detail::ConvBlock2x2> block;
  };
  std::vector<Step> steps_;
  // Each layer as the plan saw it: itself, or the base of a transparent wrapper. A wrapper that
  // stops being transparent (a dendrite is added) changes this and the plan is made again.
  std::vector<Layer*> planned_as_, run_as_;
  bool fuse_blocks_ = true;
  bool last_forward_fused_ = false;
};

// Mean softmax cross-entropy over the batch. Writes dL/dlogits (already divided by N).
float softmax_cross_entropy(const Tensor& logits, const int* labels, Tensor& dlogits);
// Cross-entropy against target distributions `targets` (N x C, rows summing to 1) of the
// softmax of logits / temperature, times weight * temperature^2 (Hinton et al.'s distillation
// term, whose gradient scale then does not depend on the temperature). Returns that weighted
// mean loss and ADDS its gradient, weight * temperature * (softmax(logits / T) - targets) / N, to
// `dlogits`, which must already have the logits' shape (src/nn/soft_target_loss.cpp).
float soft_target_cross_entropy(const Tensor& logits, const float* targets, float temperature,
                                float weight, Tensor& dlogits);
// Softmax of each row of `logits` (N x C) / temperature into `out` (N x C floats).
void softmax_rows(const float* logits, int n, int c, float temperature, float* out);
// Index of the largest logit per row.
void argmax_rows(const Tensor& logits, std::vector<int>& out);

}  // namespace dkws::nn
