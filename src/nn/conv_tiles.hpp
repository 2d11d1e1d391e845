// The register tiles of the channels-last 'same' convolution (conv_engine.hpp says how they fit
// together). Only the conv engine's sources (conv_engine.cpp, conv_winograd.cpp) include this.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstring>
#include <vector>

#include "nn/conv_geom.hpp"
#include "nn/madd.hpp"
#include "nn/simd.hpp"

namespace dkws::nn::detail {

// R output positions x 8V output lanes:
//   y[r][o] = bias[o] + sum_{s<nseg} sum_{j<len} a[off[r] + s*aseg + j] * b[s*bseg + j*ldb + o]
// off[r] is position r's window origin in the padded input (relative to a); each kernel row s is
// a contiguous run of len floats there. All 8V lanes are stored (y rows are ldy >= 8V floats wide;
// padding lanes are the caller's to ignore).
//
// ROW1: one input channel, and the R positions neighbours along an image row (off[r] = r), so
// position r's run is a[s*aseg + r ...]. Neighbours share all but one input of each run: each
// input is broadcast once and multiplied into every position whose run holds it, R + LEN - 1
// broadcasts per kernel row instead of R * LEN (an AudioClassifier's first block was bound by
// them). Each accumulator takes the same products in the same order either way: the same bits.
template <int R, int V, int LEN, bool ROW1 = false>
inline void conv_tile(const float* a, const ptrdiff_t* off, int nseg, ptrdiff_t aseg, int len_rt,
                      const float* __restrict b, ptrdiff_t bseg, int ldb,
                      const float* __restrict bias, float* __restrict y, int ldy) {
  static_assert(!ROW1 || LEN > 0, "the shared-input order needs the run length at compile time");
  // LEN > 0 fixes the run length at compile time, so short runs (one input channel) unroll fully.
  const int len = LEN > 0 ? LEN : len_rt;
  v8f acc[R][V];
  for (int v = 0; v < V; ++v) {
    const v8f bv = load8(bias + 8 * v);
    for (int r = 0; r < R; ++r) acc[r][v] = bv;
  }
  if constexpr (ROW1) {
    for (int s = 0; s < nseg; ++s) {
      const float* __restrict as = a + s * aseg;
      v8f bj[LEN][V];
      for (int j = 0; j < LEN; ++j)
        for (int v = 0; v < V; ++v) bj[j][v] = load8(b + s * bseg + ptrdiff_t(j) * ldb + 8 * v);
      for (int t = 0; t < R + LEN - 1; ++t) {
        const float xv = as[t];
        for (int j = 0; j < LEN; ++j)  // position t - j reads input t as its tap j
          if (t - j >= 0 && t - j < R)
            for (int v = 0; v < V; ++v) acc[t - j][v] = madd(xv, bj[j][v], acc[t - j][v]);
      }
    }
  } else {
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
  }
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < V; ++v) store8(y + r * ldy + 8 * v, acc[r][v]);
}

// With 32 vector registers (AVX-512) a 16-lane tile of 8 positions keeps its 16 accumulators in
// registers; with 16 (AVX2 and narrower) it is run as two tiles of 4 positions instead, and the
// flat order takes 6 positions at a time: 12 accumulators, 2 weight vectors and the broadcast
// fill the 16 registers, 8 loads per 12 multiply-adds against 6 per 8 in two tiles of 4.
#if defined(__AVX512VL__)
constexpr int kMaxWideTile = 8;
constexpr int kFlatTile = 8;
#else
constexpr int kMaxWideTile = 6;
constexpr int kFlatTile = 6;
#endif

// All output lane chunks (16 wide, then 8) of R positions; y rows are opad wide.
template <int R, int LEN, bool ROW1 = false>
inline void conv_tile_all(const float* a, const ptrdiff_t* off, int nseg, ptrdiff_t aseg, int len,
                          const float* b, int opad, const float* bias, float* y) {
  const ptrdiff_t bseg = ptrdiff_t(len) * opad;
  int oc = 0;
  for (; oc + 16 <= opad; oc += 16) {
    if constexpr (R > kMaxWideTile) {  // 7 or 8 positions without AVX-512: two tiles
      constexpr int R1 = R / 2;
      conv_tile<R1, 2, LEN, ROW1>(a, off, nseg, aseg, len, b + oc, bseg, opad, bias + oc, y + oc,
                                  opad);
      // (with ROW1 the second tile's positions start R1 inputs on: off[R1] = R1)
      conv_tile<R - R1, 2, LEN, ROW1>(ROW1 ? a + R1 : a, off + R1, nseg, aseg, len, b + oc, bseg,
                                      opad, bias + oc, y + R1 * opad + oc, opad);
    } else {
      conv_tile<R, 2, LEN, ROW1>(a, off, nseg, aseg, len, b + oc, bseg, opad, bias + oc, y + oc,
                                 opad);
    }
  }
  if (oc < opad)
    conv_tile<R, 1, LEN, ROW1>(a, off, nseg, aseg, len, b + oc, bseg, opad, bias + oc, y + oc,
                               opad);
}

// conv_tile_all for a tile of `count` positions, 1 to 8 (nothing otherwise), the count known at
// run time only: a switch to the compile-time tiles. A plain function, as the tile loops call it
// (one generic dispatcher taking a lambda trained ac_small 5 % slower, x86-64-v3, GCC 12).
template <int LEN, bool ROW1 = false>
[[gnu::always_inline]] inline void conv_tile_count(int count, const float* a, const ptrdiff_t* off,
                                                   int nseg, ptrdiff_t aseg, int len,
                                                   const float* b, int opad, const float* bias,
                                                   float* y) {
  switch (count) {
    case 8:
      return conv_tile_all<8, LEN, ROW1>(a, off, nseg, aseg, len, b, opad, bias, y);
    case 7:
      return conv_tile_all<7, LEN, ROW1>(a, off, nseg, aseg, len, b, opad, bias, y);
    case 6:
      return conv_tile_all<6, LEN, ROW1>(a, off, nseg, aseg, len, b, opad, bias, y);
    case 5:
      return conv_tile_all<5, LEN, ROW1>(a, off, nseg, aseg, len, b, opad, bias, y);
    case 4:
      return conv_tile_all<4, LEN, ROW1>(a, off, nseg, aseg, len, b, opad, bias, y);
    case 3:
      return conv_tile_all<3, LEN, ROW1>(a, off, nseg, aseg, len, b, opad, bias, y);
    case 2:
      return conv_tile_all<2, LEN, ROW1>(a, off, nseg, aseg, len, b, opad, bias, y);
    case 1:
      return conv_tile_all<1, LEN, ROW1>(a, off, nseg, aseg, len, b, opad, bias, y);
    default:
      return;
  }
}

// Output positions are taken kFlatTile at a time in flat (item, row, column) order, so narrow
// images and small batches still fill whole tiles; off[] gives each position's window origin in
// xp. Only rows < oh and columns < ow are computed, stored as [n][oh][ow][opad].
template <int LEN>
inline void conv_forward_flat(const float* xp, const ConvGeom& g, const float* wt,
                              const float* bias, int opad, float* y, int oh, int ow) {
  constexpr int R = kFlatTile;
  const int len = g.kw * g.c;
  const ptrdiff_t aseg = ptrdiff_t(g.wp()) * g.c, item = ptrdiff_t(g.hp()) * aseg;
  const ptrdiff_t total = ptrdiff_t(g.n) * oh * ow;
  ptrdiff_t off[8];         // R used; 8 for conv_tile_count's widest tile
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
    conv_tile_count<LEN>(count, xp, off, g.kh, aseg, len, wt, opad, bias, yp);
  }
}

// One output row of a wide image: tiles of 8 neighbours, whose windows are a fixed step (the
// input channel count) apart, then one tile for the row's remainder. `a` is the row's window
// origin in the padded input, yr its ow outputs of opad floats. ROW1: one input channel
// (conv_tile's shared-input order).
template <int LEN, bool ROW1>
inline void conv_row(const float* a, const ConvGeom& g, const float* wt, const float* bias,
                     int opad, float* yr, int ow) {
  const int len = g.kw * g.c;
  const ptrdiff_t aseg = ptrdiff_t(g.wp()) * g.c;
  ptrdiff_t off[8];
  for (int k = 0; k < 8; ++k) off[k] = ptrdiff_t(k) * g.c;
  int q = 0;
  for (; q + 8 <= ow; q += 8)
    conv_tile_all<8, LEN, ROW1>(a + q * g.c, off, g.kh, aseg, len, wt, opad, bias, yr + q * opad);
  conv_tile_count<LEN, ROW1>(ow - q, a + q * g.c, off, g.kh, aseg, len, wt, opad, bias,
                             yr + q * opad);
}

// Wide images, row by row (conv_row). Rows < oh, columns < ow.
template <int LEN, bool ROW1>
inline void conv_forward_rows(const float* xp, const ConvGeom& g, const float* wt,
                              const float* bias, int opad, float* y, int oh, int ow) {
  const ptrdiff_t aseg = ptrdiff_t(g.wp()) * g.c, item = ptrdiff_t(g.hp()) * aseg;
  for (int i = 0; i < g.n; ++i)
    for (int r = 0; r < oh; ++r)
      conv_row<LEN, ROW1>(xp + i * item + r * aseg, g, wt, bias, opad,
                          y + (ptrdiff_t(i) * oh + r) * ow * opad, ow);
}

// One input channel, 3x3, wide rows (oh, ow even): the outputs two rows at a time, one row of a
// following 2x2 pool's windows, into `pair` [2][ow][opad], each pair handed to sink(pair, k)
// with k = item * oh / 2 + row / 2, the pool row's flat index. The conv output then stays in L1
// (ac_mid's first block wrote 665 KB a batch, for the pool to read back).
template <class Sink>
inline void conv_forward_row_pairs(const float* xp, const ConvGeom& g, const float* wt,
                                   const float* bias, int opad, int oh, int ow, float* pair,
                                   Sink&& sink) {
  const ptrdiff_t aseg = ptrdiff_t(g.wp()), item = ptrdiff_t(g.hp()) * aseg;
  for (int i = 0; i < g.n; ++i)
    for (int r = 0; r < oh; r += 2) {
      const float* a = xp + i * item + r * aseg;
      conv_row<3, true>(a, g, wt, bias, opad, pair, ow);
      conv_row<3, true>(a + aseg, g, wt, bias, opad, pair + ptrdiff_t(ow) * opad, ow);
      sink(pair, ptrdiff_t(i) * (oh / 2) + r / 2);
    }
}

// The outputs of an odd last row and an odd last column (of rows < oh, columns < ow), which the
// 2x2 blocks of conv_winograd.hpp leave out: direct, as conv_forward_flat takes them, kFlatTile
// positions at a time through `scratch`, then copied to their places in y [n][oh][ow][opad].
inline void conv_forward_edges(const float* xp, const ConvGeom& g, const float* wt,
                               const float* bias, int opad, float* y, int oh, int ow,
                               std::vector<float>& scratch) {
  constexpr int R = kFlatTile;
  const int len = g.kw * g.c;
  const ptrdiff_t aseg = ptrdiff_t(g.wp()) * g.c, item = ptrdiff_t(g.hp()) * aseg;
  scratch.resize(size_t(R) * opad);
  ptrdiff_t off[8] = {}, at[R] = {};  // window origins in xp (8: the widest tile); outputs in y
  int count = 0;
  const auto flush = [&] {
    conv_tile_count<0>(count, xp, off, g.kh, aseg, len, wt, opad, bias, scratch.data());
    for (int k = 0; k < count; ++k)
      std::memcpy(y + at[k] * opad, scratch.data() + k * opad, size_t(opad) * sizeof(float));
    count = 0;
  };
  const auto add = [&](int i, int r, int q) {
    off[count] = i * item + r * aseg + ptrdiff_t(q) * g.c;
    at[count] = (ptrdiff_t(i) * oh + r) * ow + q;
    if (++count == R) flush();
  };
  for (int i = 0; i < g.n; ++i) {
    if (ow % 2)
      for (int r = 0; r < oh - oh % 2; ++r) add(i, r, ow - 1);
    if (oh % 2)
      for (int q = 0; q < ow; ++q) add(i, oh - 1, q);
  }
  flush();
}

template <int LEN>
inline void conv_forward_len(const float* xp, const ConvGeom& g, const float* wt, const float* bias,
                             int opad, float* y, int oh, int ow) {
  if constexpr (LEN > 0)  // the shared-input tile needs the run length at compile time
    if (ow >= 8 && g.c == 1) return conv_forward_rows<LEN, true>(xp, g, wt, bias, opad, y, oh, ow);
  if (ow >= 8)
    conv_forward_rows<LEN, false>(xp, g, wt, bias, opad, y, oh, ow);
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
    for (int r = 0; r < R; ++r) y[r * ldy + o] = bias[o] + (hsum8(acc[r]) + tail[r]);
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

}  // namespace dkws::nn::detail
