// The Dense layer's fast kernels; dense_kernels.hpp says how they work.
#include "nn/dense_kernels.hpp"

#include <algorithm>
#include <cstddef>
#include <cstring>

#include "nn/madd.hpp"
#include "nn/simd.hpp"

namespace dkws::nn::detail {
namespace {

// The vector vocabulary (vf, kLanes, loadv, in_register, the lane sums) is nn/simd.hpp's.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpsabi"

// Tile sizes that keep the accumulators plus the operands of one step in the vector registers:
// 32 with AVX-512 (16 accumulators), 16 otherwise (8 accumulators).
#if defined(__AVX512F__)
constexpr int kFwdItems = 4, kFwdOuts = 4, kRowTile = 4, kVecTile = 4;
#elif defined(__AVX__)
constexpr int kFwdItems = 2, kFwdOuts = 4, kRowTile = 4, kVecTile = 2;
#else
constexpr int kFwdItems = 2, kFwdOuts = 4, kRowTile = 4, kVecTile = 2;
#endif

// ---------------------------------------------------------------------------------------------
// Forward: y[r][c] = b[c] + sum_i x[r][i] w[c][i] for R items x C outputs. Lane l of acc[r][c]
// sums the products at i = l mod kLanes; the last in % kLanes products are summed apart (tail).

template <int R, int C>
inline void forward_tile(const float* __restrict x, const float* __restrict w,
                         const float* __restrict b, int in, float* __restrict y, int ldy) {
  vf acc[R][C] = {};
  const int nv = in - in % kLanes;
  for (int i = 0; i < nv; i += kLanes) {
    vf wv[C];
    for (int c = 0; c < C; ++c) {
      wv[c] = loadv(w + ptrdiff_t(c) * in + i);
      in_register(wv[c]);
    }
    for (int r = 0; r < R; ++r) {
      vf xv = loadv(x + ptrdiff_t(r) * in + i);
      in_register(xv);
      for (int c = 0; c < C; ++c) acc[r][c] = madd(xv, wv[c], acc[r][c]);
    }
  }
  float sum[R][C];
#if DKWS_SIMD_LANES == 16
  if constexpr (R * C == 16) {
    const vf all = hsum16(&acc[0][0]);
    std::memcpy(sum, &all, sizeof sum);
  } else
#elif DKWS_SIMD_LANES == 8
  if constexpr (R * C == 8) {
    const vf all = hsum8x8(&acc[0][0]);
    std::memcpy(sum, &all, sizeof sum);
  } else
#endif
  {
    for (int r = 0; r < R; ++r)
      for (int c = 0; c < C; ++c) sum[r][c] = hsum_halving(acc[r][c]);
  }
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < C; ++c) {
      float tail = 0.f;
      for (int i = nv; i < in; ++i)
        tail = madd(x[ptrdiff_t(r) * in + i], w[ptrdiff_t(c) * in + i], tail);
      y[ptrdiff_t(r) * ldy + c] = b[c] + (sum[r][c] + tail);
    }
}

// C outputs for n items: kFwdItems at a time, then one by one.
template <int C>
void forward_items(const float* x, const float* w, const float* b, int n, int in, float* y,
                   int ldy) {
  int k = 0;
  for (; k + kFwdItems <= n; k += kFwdItems)
    forward_tile<kFwdItems, C>(x + ptrdiff_t(k) * in, w, b, in, y + ptrdiff_t(k) * ldy, ldy);
  for (; k < n; ++k)
    forward_tile<1, C>(x + ptrdiff_t(k) * in, w, b, in, y + ptrdiff_t(k) * ldy, ldy);
}

// The last out % kFwdOuts outputs, as one tile of exactly that many.
template <int C>
void forward_rest(int rest, const float* x, const float* w, const float* b, int n, int in, float* y,
                  int ldy) {
  if constexpr (C > 0) {
    if (rest == C) return forward_items<C>(x, w, b, n, in, y, ldy);
    forward_rest<C - 1>(rest, x, w, b, n, in, y, ldy);
  }
}

// ---------------------------------------------------------------------------------------------
// Both gradients are one product with the sum over the rows of its second operand:
//   c[r][j] (+)= sum_{k < kn} a[k*ak + r*ar] * m[k*ldm + j]
// dW: rows = outputs, a = dy (ak = out, ar = 1), m = x, kn = items, accumulated into dW.
// dx: rows = items, a = dy (ak = 1, ar = out), m = w, kn = outputs, stored.
// Each element is summed over k in order, in one accumulator, on every path.
struct Product {
  const float* a;
  ptrdiff_t ak, ar;
  const float* m;
  ptrdiff_t ldm;
  float* c;
  ptrdiff_t ldc;
  int kn;
};

// R rows x V vectors of columns starting at row r0, column j0.
template <int R, int V, bool ACC>
inline void product_tile(const Product& p, int r0, int j0) {
  const float* __restrict a = p.a + r0 * p.ar;
  const float* __restrict m = p.m + j0;
  const ptrdiff_t ak = p.ak, ar = p.ar, ldm = p.ldm;
  vf acc[R][V] = {};
  for (int k = 0; k < p.kn; ++k) {
    vf mv[V];
    for (int v = 0; v < V; ++v) {
      mv[v] = loadv(m + k * ldm + v * kLanes);
      in_register(mv[v]);
    }
    for (int r = 0; r < R; ++r) {
      const float av = a[k * ak + r * ar];
      for (int v = 0; v < V; ++v) acc[r][v] = madd(av, mv[v], acc[r][v]);
    }
  }
  float* __restrict c = p.c + r0 * p.ldc + j0;
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < V; ++v) {
      float* cp = c + r * p.ldc + v * kLanes;
      storev(cp, ACC ? loadv(cp) + acc[r][v] : acc[r][v]);
    }
}

// R rows x the last `cols` (< kLanes) columns, in scalars.
template <int R, bool ACC>
inline void product_tail(const Product& p, int r0, int j0, int cols) {
  const float* __restrict a = p.a + r0 * p.ar;
  const float* __restrict m = p.m + j0;
  const ptrdiff_t ak = p.ak, ar = p.ar, ldm = p.ldm;
  float acc[R][kLanes] = {};
  for (int k = 0; k < p.kn; ++k)
    for (int r = 0; r < R; ++r) {
      const float av = a[k * ak + r * ar];
      for (int j = 0; j < cols; ++j) acc[r][j] = madd(av, m[k * ldm + j], acc[r][j]);
    }
  float* __restrict c = p.c + r0 * p.ldc + j0;
  for (int r = 0; r < R; ++r)
    for (int j = 0; j < cols; ++j)
      c[r * p.ldc + j] = ACC ? c[r * p.ldc + j] + acc[r][j] : acc[r][j];
}

// R rows of a block of V column vectors, or of the last `cols` (< kLanes) columns when V = 0.
template <int R, int V, bool ACC>
inline void product_block(const Product& p, int r0, int j0, int cols) {
  if constexpr (V > 0)
    product_tile<R, V, ACC>(p, r0, j0);
  else
    product_tail<R, ACC>(p, r0, j0, cols);
}

// The rows left after the kRowTile-row tiles, as one tile of exactly that many.
template <int R, int V, bool ACC>
void product_last_rows(const Product& p, int r0, int rows, int j0, int cols) {
  if constexpr (R > 0) {
    if (rows == R) return product_block<R, V, ACC>(p, r0, j0, cols);
    product_last_rows<R - 1, V, ACC>(p, r0, rows, j0, cols);
  }
}

// Every row of one column block.
template <int V, bool ACC>
void product_rows(const Product& p, int rows, int j0, int cols) {
  int r = 0;
  for (; r + kRowTile <= rows; r += kRowTile) product_block<kRowTile, V, ACC>(p, r, j0, cols);
  product_last_rows<kRowTile - 1, V, ACC>(p, r, rows - r, j0, cols);
}

// The column vectors left after the kVecTile-wide blocks, as one block of exactly that many.
template <int V, bool ACC>
void product_rest(const Product& p, int rows, int j0, int nvec) {
  if constexpr (V > 0) {
    if (nvec == V) return product_rows<V, ACC>(p, rows, j0, 0);
    product_rest<V - 1, ACC>(p, rows, j0, nvec);
  }
}

// Column blocks outermost: a block of the second operand (kn rows x kVecTile vectors) stays in
// L1 while every row tile goes past it.
template <bool ACC>
void product(const Product& p, int rows, int cols) {
  constexpr int wide = kVecTile * kLanes;
  int j = 0;
  for (; j + wide <= cols; j += wide) product_rows<kVecTile, ACC>(p, rows, j, 0);
  const int nvec = (cols - j) / kLanes;
  if (nvec > 0) product_rest<kVecTile - 1, ACC>(p, rows, j, nvec);
  j += nvec * kLanes;
  if (j < cols) product_rows<0, ACC>(p, rows, j, cols - j);
}

#pragma GCC diagnostic pop

}  // namespace

void dense_forward(const float* x, const float* w, const float* b, int n, int in, int out,
                   float* y) {
  // Items in blocks of about 384 KB of x (L2), each block passing the weights once; within a
  // block, output tiles outermost so their weight rows stay in L1.
  const int block = std::max(kFwdItems, (96 * 1024 / std::max(in, 1)) / kFwdItems * kFwdItems);
  for (int k0 = 0; k0 < n; k0 += block) {
    const int nb = std::min(block, n - k0);
    const float* xb = x + ptrdiff_t(k0) * in;
    float* yb = y + ptrdiff_t(k0) * out;
    int o = 0;
    for (; o + kFwdOuts <= out; o += kFwdOuts)
      forward_items<kFwdOuts>(xb, w + ptrdiff_t(o) * in, b + o, nb, in, yb + o, out);
    if (o < out)
      forward_rest<kFwdOuts - 1>(out - o, xb, w + ptrdiff_t(o) * in, b + o, nb, in, yb + o, out);
  }
}

void dense_weight_grad(const float* x, const float* dy, int n, int in, int out, float* dw,
                       float* db) {
  for (int o = 0; o < out; ++o) {
    float s = 0.f;
    for (int k = 0; k < n; ++k) s += dy[ptrdiff_t(k) * out + o];
    db[o] += s;
  }
  product<true>(Product{dy, out, 1, x, in, dw, in, n}, out, in);
}

void dense_input_grad(const float* dy, const float* w, int n, int in, int out, float* dx) {
  product<false>(Product{dy, 1, out, w, in, dx, in, out}, n, in);
}

}  // namespace dkws::nn::detail
