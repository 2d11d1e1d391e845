// Where the windows of a max pool fall: shared by the pool layers and by the code that exports
// them (src/deploy), which must place the same windows.
#pragma once
#include <algorithm>

namespace dkws::nn::detail {

// One axis of a max pool with pool size = stride = p. same=true is Keras/TF 'same': ceil(len/p)
// outputs and the total padding split with the smaller half before; same=false is 'valid' (floor).
// Output i covers input [i*p - pad_before, +p) clipped to [0, len); padded cells are ignored.
struct PoolAxis {
  int out, pad_before;
  int begin(int i, int p) const { return std::max(i * p - pad_before, 0); }
  int end(int i, int p, int len) const { return std::min(i * p - pad_before + p, len); }
};
inline PoolAxis pool_axis(int len, int p, bool same) {
  if (!same) return {len / p, 0};
  const int out = (len + p - 1) / p;
  return {out, std::max((out - 1) * p + p - len, 0) / 2};
}

}  // namespace dkws::nn::detail
