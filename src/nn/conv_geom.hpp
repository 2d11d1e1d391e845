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

// Copies n floats with fixed-size moves only: the image rows copied here are short (13 to a few
// hundred floats), and a memcpy call per row cost more than the copy itself. (GCC would turn the
// loop back into a memcpy call; the attribute stops it.)
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("no-tree-loop-distribute-patterns")))
#endif
inline void
copy_floats(float* __restrict dst, const float* __restrict src, size_t n) {
  if (n >= 8) {
    size_t k = 0;
    for (; k + 8 <= n; k += 8) std::memcpy(dst + k, src + k, 32);
    if (k < n) std::memcpy(dst + n - 8, src + n - 8, 32);  // overlaps what was just copied
    return;
  }
  size_t k = 0;
  if (n & 4) std::memcpy(dst, src, 16), k = 4;
  if (n & 2) std::memcpy(dst + k, src + k, 8), k += 2;
  if (n & 1) dst[k] = src[k];
}

// v = n zero floats. vector::assign(n, 0.f) runs libstdc++'s out-of-line fill loop, which took 3 %
// of a training step for the winner backward's input-gradient buffer; memset is several times
// faster.
inline void zero_floats(std::vector<float>& v, size_t n) {
  v.resize(n);
  if (n) std::memset(v.data(), 0, n * sizeof(float));
}

// A zero-padded copy of an activation. The border is only re-zeroed when the geometry changes,
// since the interior copy never touches it.
struct PaddedBuffer {
  std::vector<float> data;
  ConvGeom geom{};

  // `slack` zero floats follow the padded image, for kernels that read whole vectors past a row.
  const float* fill(const float* x, const ConvGeom& g, size_t slack = 0) {
    if (!(g == geom) || data.size() != g.padded_size() + slack) {
      zero_floats(data, g.padded_size() + slack);
      geom = g;
    }
    const size_t row = size_t(g.w) * g.c;
    for (int i = 0; i < g.n; ++i)
      for (int r = 0; r < g.h; ++r) {
        float* dst = data.data() + ((size_t(i) * g.hp() + r + g.pbh) * g.wp() + g.pbw) * g.c;
        copy_floats(dst, x + (size_t(i) * g.h + r) * row, row);
      }
    return data.data();
  }
};

}  // namespace dkws::nn::detail
