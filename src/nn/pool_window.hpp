// The max over one pool window for every channel, as MaxPool1D and MaxPool2D run it.
#pragma once
#include <cstdint>
#include <cstring>

#include "nn/simd.hpp"

namespace dkws::nn::detail {

// One max-pool output position: y[c] = max over the window cells of x[origin + cell[k] + c] and
// arg[c] = the flat index it came from. cell[] holds the cells' offsets from the window origin in
// scan order; the first maximum wins ties, as in torch.
inline void pool_window(const float* __restrict x, int32_t origin, const int32_t* cell, int ncells,
                        int ch, float* __restrict y, int32_t* __restrict arg) {
  const float* __restrict xo = x + origin;
  int c = 0;
  for (; c + 8 <= ch; c += 8) {
    const v8i lane = {0, 1, 2, 3, 4, 5, 6, 7};
    v8f best = load8(xo + cell[0] + c);
    v8i where = lane + (origin + cell[0] + c);
    for (int k = 1; k < ncells; ++k) {
      const v8f v = load8(xo + cell[k] + c);
      const v8i gt = v > best;
      best = gt ? v : best;
      where = gt ? lane + (origin + cell[k] + c) : where;
    }
    store8(y + c, best);
    store8(arg + c, where);
  }
  if (c + 4 <= ch) {  // a 4-channel group (narrow AudioClassifier widths)
    const v4i lane = {0, 1, 2, 3};
    v4f best, v;
    std::memcpy(&best, xo + cell[0] + c, sizeof best);
    v4i where = lane + (origin + cell[0] + c);
    for (int k = 1; k < ncells; ++k) {
      std::memcpy(&v, xo + cell[k] + c, sizeof v);
      const v4i gt = v > best;
      best = gt ? v : best;
      where = gt ? lane + (origin + cell[k] + c) : where;
    }
    std::memcpy(y + c, &best, sizeof best);
    std::memcpy(arg + c, &where, sizeof where);
    c += 4;
  }
  for (; c < ch; ++c) {  // the last channels, with selects rather than branches
    float best = xo[cell[0] + c];
    int32_t where = origin + cell[0] + c;
    for (int k = 1; k < ncells; ++k) {
      const float v = xo[cell[k] + c];
      const bool gt = v > best;
      best = gt ? v : best;
      where = gt ? origin + cell[k] + c : where;
    }
    y[c] = best;
    arg[c] = where;
  }
}

}  // namespace dkws::nn::detail
