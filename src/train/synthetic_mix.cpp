#include "train/synthetic_mix.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "dkws/rng.hpp"

namespace dkws {

size_t SyntheticMix::rows_for(size_t real, size_t available, double ratio) {
  if (ratio <= 0) return 0;
  // n / (real + n) = ratio
  const auto n = size_t(std::llround(double(real) * ratio / (1 - ratio)));
  return std::min(n, available);
}

const FeatureSet& SyntheticMix::epoch_rows(const FeatureSet& real, const FeatureSet& synthetic,
                                           double ratio, uint64_t seed, int epoch) {
  const size_t n = rows_for(real.size(), synthetic.size(), ratio);
  const size_t dim = size_t(real.dim());
  // The real rows are the same every epoch: copy them once, then only replace the draw after them.
  if (real_ != &real || rows_.y.size() < real.size()) {
    rows_.frames = real.frames;
    rows_.coeffs = real.coeffs;
    rows_.x.assign(real.x.begin(), real.x.end());
    rows_.y.assign(real.y.begin(), real.y.end());
    real_ = &real;
  }
  rows_.x.resize(real.x.size());
  rows_.y.resize(real.y.size());
  // A partial Fisher-Yates shuffle: the first n of the pool are a uniform draw without
  // replacement.
  pool_.resize(synthetic.size());
  std::iota(pool_.begin(), pool_.end(), size_t(0));
  Rng rng(seed * 0xD1B54A32D192ED03ull + uint64_t(epoch) + 0x5D);
  for (size_t i = 0; i < n; ++i) std::swap(pool_[i], pool_[i + rng.below(pool_.size() - i)]);
  rows_.x.reserve(rows_.x.size() + n * dim);
  for (size_t i = 0; i < n; ++i) {
    const float* row = synthetic.row(pool_[i]);
    rows_.x.insert(rows_.x.end(), row, row + dim);
    rows_.y.push_back(synthetic.y[pool_[i]]);
  }
  return rows_;
}

}  // namespace dkws
