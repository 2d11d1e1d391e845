// Optimiser and learning-rate schedule with PyTorch 1.13 semantics, and the MaxNorm constraint.
#pragma once
#include <vector>

#include <nlohmann/json.hpp>

#include "dkws/nn/layer.hpp"

namespace dkws::nn {

// torch.optim.Adam (no weight decay, no amsgrad).
class Adam {
 public:
  Adam(std::vector<Param*> params, float lr, float beta1 = 0.9f, float beta2 = 0.999f,
       float eps = 1e-8f);
  // Updates every trainable param from its grad. Frozen params are skipped.
  void step();
  float lr() const { return lr_; }
  void set_lr(float lr) { lr_ = lr; }
  long steps() const { return t_; }
  nlohmann::json state() const;  // moments and step count, for resume
  void load_state(const nlohmann::json& j);

 private:
  std::vector<Param*> params_;
  std::vector<std::vector<float>> m_, v_;
  float lr_, b1_, b2_, eps_;
  long t_ = 0;
};

// torch.optim.lr_scheduler.ReduceLROnPlateau (relative threshold, cooldown 0).
class ReduceLROnPlateau {
 public:
  ReduceLROnPlateau(bool mode_max, float factor = 0.1f, int patience = 5, float threshold = 1e-4f,
                    float min_lr = 0.f);
  // Returns the new learning rate given the current one and this epoch's metric.
  float step(float metric, float lr);
  nlohmann::json state() const;
  void load_state(const nlohmann::json& j);

 private:
  bool mode_max_;
  float factor_, threshold_, min_lr_;
  int patience_;
  double best_;
  int bad_epochs_ = 0;
};

// Rescales every row (dim 0) of each param with max_norm > 0 to L2 norm <= max_norm
// (Keras MaxNorm: w * clip(norm, 0, c) / (eps + norm)).
void apply_max_norm(const std::vector<Param*>& params);

}  // namespace dkws::nn
