// Private helpers shared by the layer implementations in src/nn/: Glorot init, input checks, the
// switch that tests use to run the plain reference loops, max-pool windows, and the channels-last
// 'same' convolution engine that Conv1D (as a one-row image) and Conv2D both run on.
//
// How the fast convolution works.
// - The input is copied into a zero-padded buffer, so every output position reads a full window and
//   no inner loop has a border branch. Channels-last makes the window's part in one kernel row a
//   contiguous run of kw*in floats.
// - Weights are repacked to [kernel tap][out], out rounded up to a multiple of 8, so the innermost
//   loop is a broadcast-multiply-add over 8 or 16 output lanes, with a tile of up to 8 output
//   positions' accumulators in registers (conv_tile). Tiles run along image rows when rows are at
//   least 8 wide, else over positions in flat order so narrow images still fill them.
// - Layers with few outputs and long kernel rows (e.g. the input gradient of a one-channel layer)
//   use the other orientation instead: one dot product per output, vectorised along the kernel row
//   (conv_dot_tile). prefer_dot() picks the cheaper one.
// - The weight gradient is the same product with the sum running over positions (wgrad_tile). The
//   input gradient is a 'same' convolution of the padded upstream gradient with the kernel flipped
//   and in/out swapped, so it reuses the forward code.
// The reference loops live next to each layer (conv1d.cpp, conv2d.cpp, dense.cpp); the tests run
// both paths.
#pragma once
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "nn/conv_geom.hpp"
#include "nn/conv_planar.hpp"
#include "nn/madd.hpp"

#include "dkws/error.hpp"
#include "dkws/nn/layer.hpp"

namespace dkws::nn::detail {

// Tests set this to run the reference loops of Dense/Conv1D/Conv2D instead of the fast kernels.
inline bool use_reference_kernels = false;

// Keras glorot_uniform: U(-l, l) with l = sqrt(6 / (fan_in + fan_out)), drawn in storage order.
inline void glorot_uniform(Rng& rng, Tensor& w, int fan_in, int fan_out) {
  const double limit = std::sqrt(6.0 / double(fan_in + fan_out));
  for (float& v : w.data) v = float(rng.uniform(-limit, limit));
}

inline std::string shape_str(const Shape& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

// Throws unless `in` is [N, dims...] with the given item dims (-1 matches any size).
inline void check_input(const char* kind, const Shape& in, std::initializer_list<int> dims) {
  bool ok = in.size() == dims.size() + 1 && !in.empty() && in[0] > 0;
  size_t i = 1;
  for (int d : dims) {
    if (!ok) break;
    ok = in[i] > 0 && (d < 0 || in[i] == d);
    ++i;
  }
  if (!ok) {
    std::string want = "[N";
    for (int d : dims) want += d < 0 ? ", *" : ", " + std::to_string(d);
    throw Error(fmt::format("{}: expected input {}, got {}", kind, want + "]", shape_str(in)));
  }
}

// t.resize(dims) without building a temporary Shape: after the first batch of a given rank and
// size nothing is allocated.
inline void resize_to(Tensor& t, std::initializer_list<int> dims) {
  t.shape.assign(dims);
  t.data.resize(shape_size(t.shape));
}

// Inverted dropout's decision, shared by Dropout and the fused conv block so that both draw the
// same masks: random word w keeps its element when w >= ceil(rate * 2^32) (keep probability
// 1 - rate to within 2^-32; rate < 1 is a float, so rate * 2^32 is exact in double and its
// ceiling is below 2^32), and the mask holds the bits of the scale 1/(1 - rate), else 0.
struct DropoutBits {
  uint32_t threshold, scale;
  explicit DropoutBits(float rate)
      : threshold(uint32_t(std::ceil(double(rate) * 0x1.0p32))),
        scale(std::bit_cast<uint32_t>(1.f / (1.f - rate))) {}
  uint32_t operator()(uint32_t word) const { return word >= threshold ? scale : 0u; }
};

inline int round_up8(int v) {
  return (v + 7) / 8 * 8;
}

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

// Eight float lanes as a GCC/Clang vector type: the tiles below must keep their accumulators in
// registers, which auto-vectorisation of nested fixed-size loops does not reliably achieve. On
// targets without 256-bit vectors the compiler splits each operation in two.
// Everything here is inline and internal, so the ABI note GCC gives for 32-byte vectors passed
// by value on targets without AVX does not apply.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpsabi"
typedef float v8f __attribute__((vector_size(32)));
typedef int32_t v8i __attribute__((vector_size(32)));
inline v8f load8(const float* p) {
  v8f v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void store8(float* p, v8f v) {
  std::memcpy(p, &v, sizeof v);
}
inline void store8(int32_t* p, v8i v) {
  std::memcpy(p, &v, sizeof v);
}

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
    typedef float v4f __attribute__((vector_size(16)));
    typedef int32_t v4i __attribute__((vector_size(16)));
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

// ---------------------------------------------------------------------------------------------
// Convolution core (ConvGeom and PaddedBuffer are in conv_geom.hpp).

// R output positions x 8V output lanes:
//   y[r][o] = bias[o] + sum_{s<nseg} sum_{j<len} a[off[r] + s*aseg + j] * b[s*bseg + j*ldb + o]
// off[r] is position r's window origin in the padded input (relative to a); each kernel row s is
// a contiguous run of len floats there. All 8V lanes are stored (y rows are ldy >= 8V floats wide;
// padding lanes are the caller's to ignore).
template <int R, int V, int LEN>
inline void conv_tile(const float* a, const ptrdiff_t* off, int nseg, ptrdiff_t aseg, int len_rt,
                      const float* __restrict b, ptrdiff_t bseg, int ldb,
                      const float* __restrict bias, float* __restrict y, int ldy) {
  // LEN > 0 fixes the run length at compile time, so short runs (one input channel) unroll fully.
  const int len = LEN > 0 ? LEN : len_rt;
  v8f acc[R][V];
  for (int v = 0; v < V; ++v) {
    const v8f bv = load8(bias + 8 * v);
    for (int r = 0; r < R; ++r) acc[r][v] = bv;
  }
  for (int s = 0; s < nseg; ++s) {
    const float* __restrict ar[R];
    for (int r = 0; r < R; ++r) ar[r] = a + off[r] + s * aseg;
    const float* __restrict bs = b + s * bseg;
#pragma GCC unroll 4
    for (int j = 0; j < len; ++j) {
      v8f bj[V];
      for (int v = 0; v < V; ++v) bj[v] = load8(bs + ptrdiff_t(j) * ldb + 8 * v);
      for (int r = 0; r < R; ++r) {
        const float xv = ar[r][j];
        for (int v = 0; v < V; ++v) acc[r][v] = madd(xv, bj[v], acc[r][v]);
      }
    }
  }
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < V; ++v) store8(y + r * ldy + 8 * v, acc[r][v]);
}

// With 32 vector registers (AVX-512) a 16-lane tile of 8 positions keeps its 16 accumulators in
// registers; with 16 (AVX2 and narrower) it is run as two tiles of 4 positions instead.
#if defined(__AVX512VL__)
constexpr int kMaxWideTile = 8;
#else
constexpr int kMaxWideTile = 4;
#endif

// All output lane chunks (16 wide, then 8) of R positions; y rows are opad wide.
template <int R, int LEN>
inline void conv_tile_all(const float* a, const ptrdiff_t* off, int nseg, ptrdiff_t aseg, int len,
                          const float* b, int opad, const float* bias, float* y) {
  const ptrdiff_t bseg = ptrdiff_t(len) * opad;
  int oc = 0;
  for (; oc + 16 <= opad; oc += 16) {
    if constexpr (R > kMaxWideTile) {
      constexpr int R1 = R / 2;
      conv_tile<R1, 2, LEN>(a, off, nseg, aseg, len, b + oc, bseg, opad, bias + oc, y + oc, opad);
      conv_tile<R - R1, 2, LEN>(a, off + R1, nseg, aseg, len, b + oc, bseg, opad, bias + oc,
                                y + R1 * opad + oc, opad);
    } else {
      conv_tile<R, 2, LEN>(a, off, nseg, aseg, len, b + oc, bseg, opad, bias + oc, y + oc, opad);
    }
  }
  if (oc < opad)
    conv_tile<R, 1, LEN>(a, off, nseg, aseg, len, b + oc, bseg, opad, bias + oc, y + oc, opad);
}

// Output positions are taken 8 at a time in flat (item, row, column) order, so narrow images and
// small batches still fill whole tiles; off[] gives each position's window origin in xp.
// Only rows < oh and columns < ow are computed, stored as [n][oh][ow][opad].
template <int LEN>
inline void conv_forward_flat(const float* xp, const ConvGeom& g, const float* wt,
                              const float* bias, int opad, float* y, int oh, int ow) {
  constexpr int R = 8;
  const int len = g.kw * g.c;
  const ptrdiff_t aseg = ptrdiff_t(g.wp()) * g.c, item = ptrdiff_t(g.hp()) * aseg;
  const ptrdiff_t total = ptrdiff_t(g.n) * oh * ow;
  ptrdiff_t off[R];
  int i = 0, r = 0, q = 0;  // the next position's item, row and column
  for (ptrdiff_t p = 0; p < total; p += R) {
    const int count = int(std::min<ptrdiff_t>(R, total - p));
    for (int k = 0; k < count; ++k) {
      off[k] = i * item + r * aseg + ptrdiff_t(q) * g.c;
      if (++q == ow) {
        q = 0;
        if (++r == oh) r = 0, ++i;
      }
    }
    float* yp = y + p * opad;
    switch (count) {
      case 8:
        conv_tile_all<8, LEN>(xp, off, g.kh, aseg, len, wt, opad, bias, yp);
        break;
      case 7:
        conv_tile_all<7, LEN>(xp, off, g.kh, aseg, len, wt, opad, bias, yp);
        break;
      case 6:
        conv_tile_all<6, LEN>(xp, off, g.kh, aseg, len, wt, opad, bias, yp);
        break;
      case 5:
        conv_tile_all<5, LEN>(xp, off, g.kh, aseg, len, wt, opad, bias, yp);
        break;
      case 4:
        conv_tile_all<4, LEN>(xp, off, g.kh, aseg, len, wt, opad, bias, yp);
        break;
      case 3:
        conv_tile_all<3, LEN>(xp, off, g.kh, aseg, len, wt, opad, bias, yp);
        break;
      case 2:
        conv_tile_all<2, LEN>(xp, off, g.kh, aseg, len, wt, opad, bias, yp);
        break;
      default:
        conv_tile_all<1, LEN>(xp, off, g.kh, aseg, len, wt, opad, bias, yp);
        break;
    }
  }
}

// Wide images: tiles of 8 neighbours along each image row, whose windows are a fixed step (the
// input channel count) apart, then one tile for the row's remainder. Rows < oh, columns < ow.
template <int LEN>
inline void conv_forward_rows(const float* xp, const ConvGeom& g, const float* wt,
                              const float* bias, int opad, float* y, int oh, int ow) {
  const int len = g.kw * g.c;
  const ptrdiff_t aseg = ptrdiff_t(g.wp()) * g.c, item = ptrdiff_t(g.hp()) * aseg;
  ptrdiff_t off[8];
  for (int k = 0; k < 8; ++k) off[k] = ptrdiff_t(k) * g.c;
  for (int i = 0; i < g.n; ++i)
    for (int r = 0; r < oh; ++r) {
      const float* a = xp + i * item + r * aseg;
      float* yr = y + (ptrdiff_t(i) * oh + r) * ow * opad;
      int q = 0;
      for (; q + 8 <= ow; q += 8)
        conv_tile_all<8, LEN>(a + q * g.c, off, g.kh, aseg, len, wt, opad, bias, yr + q * opad);
      const float* aq = a + q * g.c;
      float* yq = yr + q * opad;
      switch (ow - q) {
        case 7:
          conv_tile_all<7, LEN>(aq, off, g.kh, aseg, len, wt, opad, bias, yq);
          break;
        case 6:
          conv_tile_all<6, LEN>(aq, off, g.kh, aseg, len, wt, opad, bias, yq);
          break;
        case 5:
          conv_tile_all<5, LEN>(aq, off, g.kh, aseg, len, wt, opad, bias, yq);
          break;
        case 4:
          conv_tile_all<4, LEN>(aq, off, g.kh, aseg, len, wt, opad, bias, yq);
          break;
        case 3:
          conv_tile_all<3, LEN>(aq, off, g.kh, aseg, len, wt, opad, bias, yq);
          break;
        case 2:
          conv_tile_all<2, LEN>(aq, off, g.kh, aseg, len, wt, opad, bias, yq);
          break;
        case 1:
          conv_tile_all<1, LEN>(aq, off, g.kh, aseg, len, wt, opad, bias, yq);
          break;
        default:
          break;
      }
    }
}

template <int LEN>
inline void conv_forward_len(const float* xp, const ConvGeom& g, const float* wt, const float* bias,
                             int opad, float* y, int oh, int ow) {
  if (ow >= 8)
    conv_forward_rows<LEN>(xp, g, wt, bias, opad, y, oh, ow);
  else
    conv_forward_flat<LEN>(xp, g, wt, bias, opad, y, oh, ow);
}

// y [n][oh][ow][opad] = 'same' convolution of the padded input xp (geometry g) with weights
// packed as wt[kh][kw*c][opad], plus bias[opad], at output rows < oh and columns < ow.
inline void conv_forward_packed(const float* xp, const ConvGeom& g, const float* wt,
                                const float* bias, int opad, float* y, int oh, int ow) {
  switch (g.kw * g.c) {  // short kernel rows (one input channel) get fully unrolled tiles
    case 3:
      return conv_forward_len<3>(xp, g, wt, bias, opad, y, oh, ow);
    case 5:
      return conv_forward_len<5>(xp, g, wt, bias, opad, y, oh, ow);
    default:
      return conv_forward_len<0>(xp, g, wt, bias, opad, y, oh, ow);
  }
}

// J weight-gradient rows x 8V lanes, summed over every position:
//   dw[jj][o] += sum_{i,r,q} xp[i][r + s][q*c + j0 + jj] * dy[i][r][q][o]
// where `a` already points at xp + s*aseg + j0 (the row's kernel-row and column offset).
template <int J, int V>
inline void wgrad_tile(const float* a, const ConvGeom& g, const float* __restrict dy, int ldy,
                       float* __restrict dw, int ldw) {
  v8f acc[J][V] = {};
  const ptrdiff_t prow = ptrdiff_t(g.wp()) * g.c, item = ptrdiff_t(g.hp()) * prow;
  for (int i = 0; i < g.n; ++i)
    for (int r = 0; r < g.h; ++r) {
      const float* __restrict ar = a + i * item + r * prow;
      const float* __restrict dr = dy + (ptrdiff_t(i) * g.h + r) * g.w * ldy;
      for (int q = 0; q < g.w; ++q) {
        const float* __restrict aq = ar + ptrdiff_t(q) * g.c;
        v8f dq[V];
        for (int v = 0; v < V; ++v) dq[v] = load8(dr + ptrdiff_t(q) * ldy + 8 * v);
        for (int jj = 0; jj < J; ++jj)
          for (int v = 0; v < V; ++v) acc[jj][v] = madd(aq[jj], dq[v], acc[jj][v]);
      }
    }
  for (int jj = 0; jj < J; ++jj)
    for (int v = 0; v < V; ++v)
      store8(dw + jj * ldw + 8 * v, load8(dw + jj * ldw + 8 * v) + acc[jj][v]);
}

// All `rows` weight-gradient rows of one kernel row, 8 at a time, then the remainder.
template <int V>
inline void wgrad_rows(const float* a, const ConvGeom& g, const float* dy, int ldy, float* dw,
                       int ldw, int rows) {
  constexpr int J = 8;
  int j = 0;
  for (; j + J <= rows; j += J) wgrad_tile<J, V>(a + j, g, dy, ldy, dw + j * ldw, ldw);
  switch (rows - j) {  // each remainder count has its own fixed-size tile
    case 7:
      wgrad_tile<7, V>(a + j, g, dy, ldy, dw + j * ldw, ldw);
      break;
    case 6:
      wgrad_tile<6, V>(a + j, g, dy, ldy, dw + j * ldw, ldw);
      break;
    case 5:
      wgrad_tile<5, V>(a + j, g, dy, ldy, dw + j * ldw, ldw);
      break;
    case 4:
      wgrad_tile<4, V>(a + j, g, dy, ldy, dw + j * ldw, ldw);
      break;
    case 3:
      wgrad_tile<3, V>(a + j, g, dy, ldy, dw + j * ldw, ldw);
      break;
    case 2:
      wgrad_tile<2, V>(a + j, g, dy, ldy, dw + j * ldw, ldw);
      break;
    case 1:
      wgrad_tile<1, V>(a + j, g, dy, ldy, dw + j * ldw, ldw);
      break;
    default:
      break;
  }
}

// Copies `rows` rows of `width` floats from rows `sstride` apart to rows `dstride` apart, where
// one of the strides is `width` and the other round_up8(width) (adding or dropping channel
// padding). Rows up to 16 floats move as whole 8-float vectors: a store's lanes past `width`
// land in the next row, which is written afterwards, and the last rows, whose spill would leave
// the buffer, go one float at a time. Wider rows are a memcpy each. (A loop over the vectors
// would itself be turned into a memcpy call per row by the compiler, slow for 4-float rows.)
inline void copy_rows(const float* __restrict src, int sstride, float* __restrict dst, int dstride,
                      size_t rows, int width) {
  const size_t tight = size_t(std::min(sstride, dstride)), limit = tight * rows;
  size_t p = 0;
  if (width <= 8) {
    for (; p < rows && p * tight + 8 <= limit; ++p)
      store8(dst + p * dstride, load8(src + p * sstride));
  } else if (width <= 16) {
    for (; p < rows && p * tight + 16 <= limit; ++p) {
      store8(dst + p * dstride, load8(src + p * sstride));
      store8(dst + p * dstride + 8, load8(src + p * sstride + 8));
    }
  } else {
    for (; p < rows; ++p)
      std::memcpy(dst + p * dstride, src + p * sstride, size_t(width) * sizeof(float));
  }
  for (; p < rows; ++p)
    for (int c = 0; c < width; ++c) dst[p * dstride + c] = src[p * sstride + c];
}

// Drops channel padding: rows `stride` apart -> rows `width` apart.
inline void compact_rows(const float* src, size_t rows, int stride, int width, float* dst) {
  copy_rows(src, stride, dst, width, rows, width);
}

// Adds it: rows `width` apart -> rows `stride` apart. Lanes past `width` receive whatever follows
// in src (the next row) and must be ignored by the reader.
inline void expand_rows(const float* src, size_t rows, int width, int stride, float* dst) {
  copy_rows(src, width, dst, stride, rows, width);
}

inline float hsum(v8f v) {
  float t[8];
  std::memcpy(t, &v, sizeof t);
  return ((t[0] + t[4]) + (t[1] + t[5])) + ((t[2] + t[6]) + (t[3] + t[7]));
}

// The other orientation, for few output channels (e.g. the input gradient of a one-channel
// layer): each output is a dot product over the window, vectorised along the contiguous kernel
// row, for R positions of one image row at a time:
//   y[r*ldy + o] = bias[o] + sum_{s<nseg} sum_{j<len} a[r*astride + s*aseg + j] * w[(o*nseg +
//   s)*len + j]
template <int R>
inline void conv_dot_tile(const float* a, ptrdiff_t astride, int nseg, ptrdiff_t aseg, int len,
                          const float* __restrict w, int nout, const float* __restrict bias,
                          float* __restrict y, int ldy) {
  for (int o = 0; o < nout; ++o) {
    v8f acc[R] = {};
    float tail[R] = {};
    for (int s = 0; s < nseg; ++s) {
      const float* __restrict as = a + s * aseg;
      const float* __restrict ws = w + (ptrdiff_t(o) * nseg + s) * len;
      int j = 0;
      for (; j + 8 <= len; j += 8) {
        const v8f wv = load8(ws + j);
        for (int r = 0; r < R; ++r) acc[r] = madd(load8(as + r * astride + j), wv, acc[r]);
      }
      for (; j < len; ++j)
        for (int r = 0; r < R; ++r) tail[r] = madd(as[r * astride + j], ws[j], tail[r]);
    }
    for (int r = 0; r < R; ++r) y[r * ldy + o] = bias[o] + (hsum(acc[r]) + tail[r]);
  }
}

inline void conv_dot_rows(const float* xp, const ConvGeom& g, const float* w, const float* bias,
                          int out, float* y) {
  constexpr int R = 4;
  const int len = g.kw * g.c;
  const ptrdiff_t aseg = ptrdiff_t(g.wp()) * g.c, item = ptrdiff_t(g.hp()) * aseg;
  for (int i = 0; i < g.n; ++i)
    for (int r = 0; r < g.h; ++r) {
      const float* a = xp + i * item + r * aseg;
      float* yr = y + (ptrdiff_t(i) * g.h + r) * g.w * out;
      int q = 0;
      for (; q + R <= g.w; q += R)
        conv_dot_tile<R>(a + q * g.c, g.c, g.kh, aseg, len, w, out, bias, yr + q * out, out);
      for (; q < g.w; ++q)
        conv_dot_tile<1>(a + q * g.c, g.c, g.kh, aseg, len, w, out, bias, yr + q * out, out);
    }
}

// Rough instruction counts per output position of the two orientations; the cheaper one runs.
inline bool prefer_dot(const ConvGeom& g, int out) {
  const int len = g.kw * g.c;
  const double broadcast = double(g.kh) * len * ((out + 7) / 8);
  const double dot = double(out) * (g.kh * (len / 8 + len % 8) + 4);
  return dot < broadcast;
}

// dy[p][o] summed over positions, 8 lanes at a time (dy rows ldy >= round_up8(out) wide).
inline void bias_grad(const float* __restrict dy, size_t positions, int ldy, int out,
                      float* __restrict db) {
  for (int oc = 0; oc < out; oc += 8) {
    v8f acc[4] = {};  // independent partial sums hide the add latency
    size_t p = 0;
    for (; p + 4 <= positions; p += 4)
      for (int k = 0; k < 4; ++k) acc[k] += load8(dy + (p + k) * ldy + oc);
    for (; p < positions; ++p) acc[0] += load8(dy + p * ldy + oc);
    float t[8];
    const v8f sum = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    std::memcpy(t, &sum, sizeof t);
    for (int o = oc; o < std::min(out, oc + 8); ++o) db[o] += t[o - oc];
  }
}

// Weight-gradient tile holding every tap of a small kernel (NSEG kernel rows of LEN floats):
// one pass over the positions instead of one per kernel row.
template <int NSEG, int LEN, int V>
inline void wgrad_tile_all_taps(const float* xp, const ConvGeom& g, const float* __restrict dy,
                                int ldy, float* __restrict dw, int ldw) {
  v8f acc[NSEG * LEN][V] = {};
  const ptrdiff_t aseg = ptrdiff_t(g.wp()) * g.c, item = ptrdiff_t(g.hp()) * aseg;
  for (int i = 0; i < g.n; ++i)
    for (int r = 0; r < g.h; ++r) {
      const float* __restrict ar = xp + i * item + r * aseg;
      const float* __restrict dr = dy + (ptrdiff_t(i) * g.h + r) * g.w * ldy;
      for (int q = 0; q < g.w; ++q) {
        v8f dq[V];
        for (int v = 0; v < V; ++v) dq[v] = load8(dr + ptrdiff_t(q) * ldy + 8 * v);
        for (int s = 0; s < NSEG; ++s) {
          const float* __restrict aq = ar + s * aseg + ptrdiff_t(q) * g.c;
          for (int j = 0; j < LEN; ++j)
            for (int v = 0; v < V; ++v)
              acc[s * LEN + j][v] = madd(aq[j], dq[v], acc[s * LEN + j][v]);
        }
      }
    }
  for (int t = 0; t < NSEG * LEN; ++t)
    for (int v = 0; v < V; ++v)
      store8(dw + t * ldw + 8 * v, load8(dw + t * ldw + 8 * v) + acc[t][v]);
}

// Scratch and the three passes of one channels-last 'same' convolution with weights
// [out][kh][kw][in] and bias [out]. Owned by Conv1D/Conv2D; nothing allocates after the first
// batch of a given size.
class ConvEngine {
 public:
  void forward(const float* x, const ConvGeom& g, const float* w, const float* bias, int out,
               float* y) {
    if (PlanarConv::applies(g, out))
      return planar_.forward(xpad_.fill(x, g, kSlack), g, w, bias, out, y);
    conv(xpad_.fill(x, g, kSlack), g, w, bias, out, y, g.h, g.w);
  }

  // A conv output or gradient laid out as n images of h x w positions of `out` floats, rows
  // `row` floats apart and images `item` apart.
  struct View {
    float* data;
    int h, w;
    size_t row, item;
  };

  // For a fused block: at least the outputs in rows < oh and columns < ow (a following 'valid'
  // pool reads no others). The one-channel planar kernel's padded grid is returned as it is;
  // otherwise the cropped outputs are written to y as [n][oh][ow][out].
  View forward_view(const float* x, const ConvGeom& g, const float* w, const float* bias, int out,
                    int oh, int ow, float* y) {
    if (PlanarConv::applies(g, out))
      return planar_view(planar_.forward_grid(xpad_.fill(x, g, kSlack), g, w, bias, out), g, out);
    const auto [h, wd] = conv(xpad_.fill(x, g, kSlack), g, w, bias, out, y, oh, ow);
    return {y, h, wd, size_t(wd) * out, size_t(h) * wd * out};
  }

  // Where backward_view() takes the output gradient from: the planar grid (padding kept zero), or
  // `dense` [n][h][w][out].
  View grad_view(const ConvGeom& g, int out, float* dense) {
    if (PlanarConv::applies(g, out)) return planar_view(planar_.dy_grid(g, out), g, out);
    return {dense, g.h, g.w, size_t(g.w) * out, size_t(g.h) * g.w * out};
  }

  // backward() with dy written through grad_view(), for the input of the last forward: its
  // padded copy from then is reused.
  void backward_view(const ConvGeom& g, const float* w, int out, const View& dy, float* dw,
                     float* db, float* dx) {
    if (!PlanarConv::applies(g, out))
      return backward_padded(padded_input(), g, w, out, dy.data, dw, db, dx);
    planar_.wgrad_grid(padded_input(), g, out, dw, db);
    if (!dx) return;
    dyd_.resize(size_t(g.n) * g.h * g.w * out);
    const size_t row = size_t(g.w) * out;
    for (int i = 0; i < g.n; ++i)
      for (int r = 0; r < g.h; ++r)
        copy_floats(dyd_.data() + (size_t(i) * g.h + r) * row, dy.data + i * dy.item + r * dy.row,
                    row);
    input_grad(g, w, out, dyd_.data(), dx);
  }

  // The last forward's zero-padded input, kSlack zero floats past its end.
  const float* padded_input() const { return xpad_.data.data(); }
  static constexpr size_t kSlack = 8;

  // Accumulates dw, db; writes dx when not null.
  void backward(const float* x, const ConvGeom& g, const float* w, int out, const float* dy,
                float* dw, float* db, float* dx) {
    backward_padded(xpad_.fill(x, g, kSlack), g, w, out, dy, dw, db, dx);
  }

 private:
  void backward_padded(const float* xp, const ConvGeom& g, const float* w, int out, const float* dy,
                       float* dw, float* db, float* dx) {
    if (PlanarConv::applies(g, out)) {
      planar_.wgrad(xp, g, dy, out, dw, db);
      if (dx) input_grad(g, w, out, dy, dx);
      return;
    }
    const int opad = round_up8(out), taps = g.kh * g.kw * g.c;
    const size_t positions = size_t(g.n) * g.h * g.w;
    // The 8/16-lane tiles read dy rows opad wide.
    // (Their padding lanes only reach padding columns of dwt and are never read.)
    const float* dyw = dy;
    if (opad != out) {
      dyw_.resize(positions * opad);
      expand_rows(dy, positions, out, opad, dyw_.data());
      dyw = dyw_.data();
    }
    bias_grad(dyw, positions, opad, out, db);
    dwt_.assign(size_t(taps) * opad, 0.f);
    wgrad(xp, g, dyw, opad, dwt_.data());
    for (int o = 0; o < out; ++o)
      for (int t = 0; t < taps; ++t) dw[size_t(o) * taps + t] += dwt_[size_t(t) * opad + o];
    if (dx) input_grad(g, w, out, dy, dx);
  }

  static View planar_view(float* grid, const ConvGeom& g, int out) {
    return {grid, g.h, g.w, size_t(g.wp()) * out, size_t(g.hp()) * g.wp() * out};
  }

  void input_grad(const ConvGeom& g, const float* w, int out, const float* dy, float* dx) {
    const int taps = g.kh * g.kw * g.c;
    // Input: dx = 'same' conv of dy (padded with the *after* padding first) with the kernel
    // flipped in space and in/out swapped: wf[c][kh'][kw'][o] = w[o][kh-1-kh'][kw-1-kw'][c].
    const ConvGeom gd{g.n, g.h, g.w, out, g.kh, g.kw, g.kh - 1 - g.pbh, g.kw - 1 - g.pbw};
    wf_.resize(size_t(taps) * out);
    for (int o = 0; o < out; ++o)
      for (int a = 0; a < g.kh; ++a)
        for (int b = 0; b < g.kw; ++b)
          for (int c = 0; c < g.c; ++c)
            wf_[((size_t(c) * g.kh + (g.kh - 1 - a)) * g.kw + (g.kw - 1 - b)) * out + o] =
                w[((size_t(o) * g.kh + a) * g.kw + b) * g.c + c];
    zero_.assign(round_up8(g.c), 0.f);
    conv(dypad_.fill(dy, gd), gd, wf_.data(), zero_.data(), g.c, dx, g.h, g.w);
  }

  // y [n][oh][ow][out] = 'same' conv of the padded xp with w [out][kh][kw][g.c] plus bias, rows
  // < oh and columns < ow (or the whole image, as the returned extent says).
  std::pair<int, int> conv(const float* xp, const ConvGeom& g, const float* w, const float* bias,
                           int out, float* y, int oh, int ow) {
    if (prefer_dot(g, out)) {
      conv_dot_rows(xp, g, w, bias, out, y);
      return {g.h, g.w};
    }
    const int opad = round_up8(out), taps = g.kh * g.kw * g.c;
    // wt[t][o] = w[o][t]; padding lanes are zero.
    wt_.assign(size_t(taps) * opad, 0.f);
    for (int o = 0; o < out; ++o)
      for (int t = 0; t < taps; ++t) wt_[size_t(t) * opad + o] = w[size_t(o) * taps + t];
    bias_.assign(opad, 0.f);
    std::copy(bias, bias + out, bias_.begin());
    if (opad == out) {
      conv_forward_packed(xp, g, wt_.data(), bias_.data(), opad, y, oh, ow);
      return {oh, ow};
    }
    const size_t positions = size_t(g.n) * oh * ow;
    ywide_.resize(positions * opad);
    conv_forward_packed(xp, g, wt_.data(), bias_.data(), opad, ywide_.data(), oh, ow);
    compact_rows(ywide_.data(), positions, opad, out, y);
    return {oh, ow};
  }

  // dwt[kh][kw*c][opad] += sum over positions of window (x) dy (dy rows opad wide).
  static void wgrad(const float* xp, const ConvGeom& g, const float* dy, int opad, float* dwt) {
    const int len = g.kw * g.c;
    const ptrdiff_t aseg = ptrdiff_t(g.wp()) * g.c;
    int oc = 0;
    if (g.kh == 3 && len == 3) {  // one input channel, 3x3: all 9 taps in one pass
      for (; oc + 16 <= opad; oc += 16)
        wgrad_tile_all_taps<3, 3, 2>(xp, g, dy + oc, opad, dwt + oc, opad);
      if (oc < opad) wgrad_tile_all_taps<3, 3, 1>(xp, g, dy + oc, opad, dwt + oc, opad);
      return;
    }
    for (int s = 0; s < g.kh; ++s) {
      float* dws = dwt + ptrdiff_t(s) * len * opad;
      for (oc = 0; oc + 16 <= opad; oc += 16)
        wgrad_rows<2>(xp + s * aseg, g, dy + oc, opad, dws + oc, opad, len);
      if (oc < opad) wgrad_rows<1>(xp + s * aseg, g, dy + oc, opad, dws + oc, opad, len);
    }
  }

  PaddedBuffer xpad_, dypad_;
  PlanarConv planar_;
  std::vector<float> wt_, bias_, dyw_, dwt_, wf_, zero_, ywide_, dyd_;
};

#pragma GCC diagnostic pop

}  // namespace dkws::nn::detail
