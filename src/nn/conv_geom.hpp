// Geometry of a 'same' stride-1 convolution and the zero-padded input copy the fast kernels read.
#pragma once
#include <cstddef>
#include <cstring>
#include <vector>

namespace dkws::nn::detail {

// Geometry of one 'same' stride-1 convolution over x [n][h][w][c].
struct ConvGeom {
  int n, h, w, c;  // input (and output) sizes
  int kh, kw;      // kernel
  int pbh, pbw;    // zero rows/cols padded before; the rest of k-1 goes after
  int hp() const { return h + kh - 1; }
  int wp() const { return w + kw - 1; }
  size_t padded_size() const { return size_t(n) * hp() * wp() * c; }
  bool operator==(const ConvGeom&) const = default;
};

// A zero-padded copy of an activation. The border is only re-zeroed when the geometry changes,
// since the interior copy never touches it.
struct PaddedBuffer {
  std::vector<float> data;
  ConvGeom geom{};

  // `slack` zero floats follow the padded image, for kernels that read whole vectors past a row.
  const float* fill(const float* x, const ConvGeom& g, size_t slack = 0) {
    if (!(g == geom) || data.size() != g.padded_size() + slack) {
      data.assign(g.padded_size() + slack, 0.f);
      geom = g;
    }
    const size_t row = size_t(g.w) * g.c;
    for (int i = 0; i < g.n; ++i)
      for (int r = 0; r < g.h; ++r) {
        float* dst = data.data() + ((size_t(i) * g.hp() + r + g.pbh) * g.wp() + g.pbw) * g.c;
        std::memcpy(dst, x + (size_t(i) * g.h + r) * row, row * sizeof(float));
      }
    return data.data();
  }
};

}  // namespace dkws::nn::detail
