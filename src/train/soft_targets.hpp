// The training targets of a batch when they are more than one-hot labels: label smoothing, mixup
// (inputs and targets of a batch mixed with a shuffled copy of the batch) and knowledge
// distillation from cached teacher logits. train_epoch calls mix() before the forward pass and
// loss() after it.
#pragma once
#include <vector>

#include "dkws/config.hpp"
#include "dkws/nn/tensor.hpp"
#include "dkws/rng.hpp"

namespace dkws {

class SoftTargets {
 public:
  // `teacher_logits`: training rows x `classes` (row-major), or empty for no distillation.
  SoftTargets(const TrainSpec& spec, int classes, std::vector<float> teacher_logits);

  // Mixup's draws depend on the seed and epoch only, so a resumed run repeats them, and they use
  // their own generator so the shuffle and dropout streams stay those of a run without mixup.
  void begin_epoch(uint64_t seed, int epoch);
  // Mixes the n rows of `x` (n x dim) with a random permutation of themselves at one
  // lambda ~ Beta(mixup, mixup); `labels` become each row's larger share's label (for the train
  // accuracy). Does nothing when mixup is off.
  void mix(nn::Tensor& x, std::vector<int>& labels, const std::vector<size_t>& rows);
  // Mean loss of the batch whose training-set rows are `rows`, and dL/dlogits in `dlogits`:
  // (1 - w) CE(smoothed labels) + w T^2 CE(teacher at T), targets mixed like the inputs. The
  // batch's mix() (which leaves x alone when mixup is off) must come first: it records the labels.
  float loss(const nn::Tensor& logits, const std::vector<size_t>& rows, nn::Tensor& dlogits);

  // The smoothed one-hot target of `label`, for tests.
  std::vector<float> smoothed(int label) const;

 private:
  void add_hard(int label, float share, float* q) const;
  void add_teacher(size_t row, float share, float* q) const;

  TrainSpec spec_;
  int classes_;
  Rng rng_;
  // The current batch's mixing: row i is lambda * itself + (1 - lambda) * row partner[i].
  double lambda_ = 1;
  std::vector<size_t> partner_;
  std::vector<int> own_labels_;
  std::vector<float> mixed_x_, hard_, soft_, teacher_probs_;
};

// A Beta(a, a) draw from two Gamma(a) draws (Marsaglia and Tsang; a < 1 by boosting).
double beta_symmetric(Rng& rng, double a);

}  // namespace dkws
