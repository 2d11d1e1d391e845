// One pass over the training set, shared by the neuron phase (network parameters learn) and the
// dendrite phase (only candidate dendrites learn): the caller says which params the optimiser owns.
// With `targets`, batches train on soft targets (label smoothing, mixup, distillation); without,
// on one-hot labels (softmax_cross_entropy). In both the train accuracy compares with the labels
// (under mixup, each row's larger share's).
#pragma once
#include <vector>

#include "dkws/config.hpp"
#include "dkws/dataset.hpp"
#include "dkws/nn/optim.hpp"
#include "dkws/nn/sequential.hpp"
#include "train/soft_targets.hpp"

namespace dkws {

struct EpochStats {
  double loss = 0, acc = 0;
};

// Reusable buffers, so epochs do not allocate once warm.
struct EpochScratch {
  std::vector<size_t> order, rows;  // rows: the training-set row of each batch row
  nn::Tensor x, dlogits;
  std::vector<int> labels, pred;
};

// Augmentation inside an epoch: each row is the clean clip or one of its precomputed variants
// (uniformly), then gets SpecAugment masks. Its own generator, reseeded by the caller per epoch,
// keeps the shuffle and dropout streams the same as without augmentation.
struct EpochAugment {
  const FeatureSet* variants = nullptr;  // TaskData::train_variants
  int n_variants = 0;
  AugmentSpec spec;
  Rng rng;
};

EpochStats train_epoch(nn::Sequential& net, nn::Adam& optimiser,
                       const std::vector<nn::Param*>& learning, const FeatureSet& train,
                       int batch_size, Rng& rng, EpochScratch& scratch,
                       EpochAugment* augment = nullptr, SoftTargets* targets = nullptr);

}  // namespace dkws
