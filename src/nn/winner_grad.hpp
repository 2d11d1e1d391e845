// A 3x3 'same' conv's weight and input gradients when a 2x2 max pool follows it: only each pool
// window's winning cell receives gradient, one in four of the conv's outputs per channel (fewer
// still after ReLU and dropout). The dense kernels multiply every zero; here the gradient is a
// list per output channel of (patch origin, value) entries, and each entry is one patch-sized
// multiply-add:
//
//   dw[c][a][k]              += g * xp[origin + a * row + k]     (patch row a, k < 3 * in)
//   dxp[origin + a * row + k] += g * w[c][a][k]
//
// where xp and dxp are the zero-padded input and input gradient (row = padded row length in
// floats). A patch row of 3 * in floats is handled as nv whole 8-float vectors: the lanes past
// 3 * in read the next pixel's inputs (their weight-gradient lanes are dropped) and add
// g * 0 to the next pixel's gradient (the padded weight rows are zero there), so buffers carry
// 8 floats of slack at the end. Accumulators stay in registers: all three rows when they fit,
// else one row (or a 24-vector part of it) per pass over the list.
//
// With 'same' padding output position (r, q)'s patch starts at padded row r, column q.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "nn/madd.hpp"
#include "nn/simd.hpp"

namespace dkws::nn::detail {

// A pool window's winner byte where its maximum is not positive: ReLU passes no gradient.
constexpr uint8_t kNoGradient = 4;

struct WinnerEntry {
  int32_t origin;  // the patch's first float in the padded input
  float g;         // dL/dy at that conv output
};

// Sum over entries of g * x[origin + r * row + 8v + lane] into acc rows dw (ldw floats apart).
template <int ROWS, int NV>
void winner_wgrad(const float* __restrict xp, ptrdiff_t row, const WinnerEntry* e, size_t count,
                  float* __restrict dw, ptrdiff_t ldw) {
  // Two accumulator sets (even and odd entries) keep enough independent FMA chains in flight
  // when a set is short.
  constexpr int kSets = ROWS * NV < 8 ? 2 : 1;
  v8f acc[kSets][ROWS][NV] = {};
  size_t i = 0;
  for (; i + kSets <= count; i += kSets)
    for (int s = 0; s < kSets; ++s) {
      const float* p = xp + e[i + s].origin;
      const v8f g = splat<v8f>(e[i + s].g);
      for (int r = 0; r < ROWS; ++r)
        for (int v = 0; v < NV; ++v) acc[s][r][v] += g * load8(p + r * row + 8 * v);
    }
  for (; i < count; ++i) {
    const float* p = xp + e[i].origin;
    const v8f g = splat<v8f>(e[i].g);
    for (int r = 0; r < ROWS; ++r)
      for (int v = 0; v < NV; ++v) acc[0][r][v] += g * load8(p + r * row + 8 * v);
  }
  for (int r = 0; r < ROWS; ++r)
    for (int v = 0; v < NV; ++v) {
      v8f sum = acc[0][r][v];
      if constexpr (kSets == 2) sum += acc[1][r][v];
      store8(dw + r * ldw + 8 * v, load8(dw + r * ldw + 8 * v) + sum);
    }
}

// dxp[origin + r * row + 8v + lane] += g * w[r][8v + lane] for every entry.
template <int ROWS, int NV>
void winner_dgrad(float* __restrict dxp, ptrdiff_t row, const WinnerEntry* e, size_t count,
                  const float* __restrict w, ptrdiff_t ldw) {
  v8f wr[ROWS][NV];
  for (int r = 0; r < ROWS; ++r)
    for (int v = 0; v < NV; ++v) wr[r][v] = load8(w + r * ldw + 8 * v);
  for (size_t i = 0; i < count; ++i) {
    float* p = dxp + e[i].origin;
    const v8f g = splat<v8f>(e[i].g);
    for (int r = 0; r < ROWS; ++r)
      for (int v = 0; v < NV; ++v)
        store8(p + r * row + 8 * v, load8(p + r * row + 8 * v) + g * wr[r][v]);
  }
}

// The pooled gradient of 8 channels from flat index o, times its dropout scale (mask bits, or no
// mask), and the winning cells they go to (0-3 in scan order, or kNoGradient, 4).
inline void pooled_gradient8(const float* __restrict dz, const uint32_t* __restrict mask,
                             const uint8_t* __restrict winner, size_t o, v8f& g, v8i& win) {
  g = load8(dz + o);
  if (mask) {
    v8f scale;
    std::memcpy(&scale, mask + o, sizeof scale);
    g *= scale;
  }
  v8u8 w8;
  std::memcpy(&w8, winner + o, sizeof w8);
  win = widen_u8(w8);
}

// One input channel (an AudioClassifier's first conv), 3x3 'same', out a multiple of 8: dw
// [out][9] and db [out] accumulate g * patch over each pool window's winning cell, with g the
// pooled gradient dz [n][oh][ow][out] times its dropout scale (mask bits, or none), and no
// gradient where winner says kNoGradient (4). The dense path spreads dz back onto the conv output
// (665 KB a batch for ac_mid's first block) and multiplies its zeros, 36 multiply-adds a window
// and channel where 9 carry the gradient. Here the four cells' patches of window (i, j) lie in
// the 4 x 4 input square at padded row 2i, column 2j; the winner at cell (dr, dc) reads tap
// (a, b) at square row dr + a, column dc + b, so kernel row a finds every channel's value in
// square rows a and a + 1 (8 floats, one register) at lane 4 dr + dc + b: one permute and one
// multiply-add per tap for 8 channels.
inline void winner_wgrad_one_channel(const float* __restrict xp, int n, int hp, int wp, int oh,
                                     int ow, int out, const float* __restrict dz,
                                     const uint32_t* __restrict mask,
                                     const uint8_t* __restrict winner, float* __restrict dw,
                                     float* __restrict db) {
  for (int c0 = 0; c0 < out; c0 += 8) {
    v8f acc[9] = {}, bias = {};
    for (int i = 0; i < n; ++i)
      for (int r = 0; r < oh; ++r) {
        const float* top = xp + (size_t(i) * hp + 2 * size_t(r)) * wp;
        for (int q = 0; q < ow; ++q) {
          const size_t o = ((size_t(i) * oh + r) * ow + q) * out + c0;
          v8f gv;
          v8i win;
          pooled_gradient8(dz, mask, winner, o, gv, win);
          gv = win != kNoGradient ? gv : v8f{};
          const v8i base = ((win & 2) << 1) | (win & 1);
          v4f sq[4];
          for (int u = 0; u < 4; ++u)
            std::memcpy(&sq[u], top + size_t(u) * wp + 2 * q, sizeof(v4f));
          bias += gv;
          for (int a = 0; a < 3; ++a) {
            const v8f rows = __builtin_shufflevector(sq[a], sq[a + 1], 0, 1, 2, 3, 4, 5, 6, 7);
            for (int b = 0; b < 3; ++b)
              acc[a * 3 + b] = madd(gv, permute8(rows, base + b), acc[a * 3 + b]);
          }
        }
      }
    float t[8];
    for (int k = 0; k < 9; ++k) {
      std::memcpy(t, &acc[k], sizeof t);
      for (int l = 0; l < 8; ++l) dw[size_t(c0 + l) * 9 + k] += t[l];
    }
    std::memcpy(t, &bias, sizeof t);
    for (int l = 0; l < 8; ++l) db[c0 + l] += t[l];
  }
}

// Calls f(ROWS, NV) with compile-time constants for a patch row of nv vectors: all 3 rows in one
// pass up to 9 vectors a row, else one row (or a 24-vector part of one) per pass, as
// f(integral_constant<1>, ...). Returns false where no kernel fits (the caller goes dense).
template <class F>
bool with_winner_kernel(int nv, F&& f) {
  using std::integral_constant;
  constexpr integral_constant<int, 3> all_rows;
  constexpr integral_constant<int, 1> one_row;
  switch (nv) {
    case 1:
      return f(all_rows, integral_constant<int, 1>{}), true;
    case 2:
      return f(all_rows, integral_constant<int, 2>{}), true;
    case 3:
      return f(all_rows, integral_constant<int, 3>{}), true;
    case 5:
      return f(all_rows, integral_constant<int, 5>{}), true;
    case 6:
      return f(all_rows, integral_constant<int, 6>{}), true;
    case 9:
      return f(all_rows, integral_constant<int, 9>{}), true;
    case 12:
      return f(one_row, integral_constant<int, 12>{}), true;
    case 18:
      return f(one_row, integral_constant<int, 18>{}), true;
    case 24:
    case 48:
      return f(one_row, integral_constant<int, 24>{}), true;
    default:
      return false;
  }
}

}  // namespace dkws::nn::detail
