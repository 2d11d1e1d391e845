// The layer interface. Every layer has an explicit forward and backward; parameter gradients are
// accumulated into Param::grad by backward, so the optimiser sees them after one pass.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dkws/nn/tensor.hpp"
#include "dkws/rng.hpp"

namespace dkws::nn {

struct Param {
  std::string name;  // "weight", "bias", ... unique within its layer
  Tensor value;
  Tensor grad;
  bool trainable = true;
  // MaxNorm constraint on each output row (dim 0) of value; 0 disables it.
  float max_norm = 0.f;
  // Counted in parameter totals and saved in model files. Scaffolding (e.g. candidate dendrites)
  // sets this false.
  bool live = true;

  Param() = default;
  Param(std::string n, Shape s) : name(std::move(n)), value(s), grad(s) {}
};

struct ForwardContext {
  bool training = false;
  Rng* rng = nullptr;  // required when training with stochastic layers
};

class Layer {
 public:
  virtual ~Layer() = default;

  // Short type name used in model files ("conv1d", "dense", ...).
  virtual std::string kind() const = 0;
  // Output shape for an input shape; both include the batch dimension.
  virtual Shape output_shape(const Shape& in) const = 0;
  // y is resized by the layer. May keep per-batch state (dropout mask, pool argmax) for backward.
  virtual void forward(const Tensor& x, Tensor& y, const ForwardContext& ctx) = 0;
  // Given x, y from the last forward and dL/dy, accumulates dL/dparam into each Param::grad and,
  // when dx is not null, writes dL/dx (resized by the layer).
  virtual void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx) = 0;

  virtual std::vector<Param*> params() { return {}; }
  // Architecture hyperparameters (not weights): enough for make_layer() to rebuild the layer.
  virtual nlohmann::json config() const = 0;
  // A new layer of the same type and shape, with freshly initialised weights.
  virtual std::unique_ptr<Layer> clone_shape(Rng& rng) const;
  // Re-draws the weights (Glorot uniform, zero bias for weighted layers).
  virtual void init(Rng&) {}
  // Forward multiply-accumulates per item for an input shape (for GFLOP/s figures).
  virtual double macs_per_item(const Shape&) const { return 0; }
  // A wrapper whose forward and backward are at the moment exactly its base layer's (a dendrite
  // layer with no dendrites and no candidates) returns the base, so Sequential may run it in a
  // fused block as it would the base; anything else returns null.
  virtual Layer* transparent_base() { return nullptr; }

  std::vector<const Param*> params() const;
};

// Builds one of nn's own layers from config() output; throws dkws::Error on an unknown kind or bad
// values. Model files also hold wrappers of higher stages: dkws::layer_from_config (models.hpp)
// rebuilds any layer.
std::unique_ptr<Layer> make_layer(const nlohmann::json& cfg);

}  // namespace dkws::nn
