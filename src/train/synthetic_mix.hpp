// Each epoch's training rows when synthetic clips are mixed in (AugmentSpec::synthetic_ratio):
// every real row, then a fresh draw of synthetic rows sized so that a share `ratio` of the
// epoch's rows is synthetic. The draw is without replacement within an epoch and depends on the
// seed and epoch only, so a resumed run repeats it; with too few synthetic clips, all are used.
#pragma once
#include <cstdint>
#include <vector>

#include "dkws/dataset.hpp"

namespace dkws {

class SyntheticMix {
 public:
  // Synthetic rows per epoch beside `real` real rows at `ratio`, at most `available`.
  static size_t rows_for(size_t real, size_t available, double ratio);
  // The epoch's rows: real's, then the drawn synthetic ones. Valid until the next call.
  const FeatureSet& epoch_rows(const FeatureSet& real, const FeatureSet& synthetic, double ratio,
                               uint64_t seed, int epoch);

 private:
  FeatureSet rows_;  // the real rows (copied once), then this epoch's synthetic draw
  const FeatureSet* real_ = nullptr;
  std::vector<size_t> pool_;
};

}  // namespace dkws
