// The first convolution of an AudioClassifier reads one input channel and writes few (2 to 16).
// The general channels-last kernels give each position only `out` lanes of work, so most of every
// vector is empty and the weight gradient needs a widened copy of dy. This path fills all kW lanes
// (16 with AVX-512, else 8) with kW/out neighbouring positions x out channels:
//
//   y[q][o]  = b[o] + sum_t w[o][t] * xp[q + off_t]      lanes (q..q+kW/out-1) x (o)
//   dw[o][t] = sum_q dy[q][o] * xp[q + off_t]
//
// where the input values are spread across lanes by one permute. q runs over the flat padded grid
// (image, row, column of the padded row length), so each of the 9 taps is one constant offset and
// the loop over q is long and branch-free. Outputs are computed on that grid (the few positions in
// padding columns are computed and dropped), and dy is placed on it with zeros in those positions.
// Used by ConvEngine for 3x3 kernels over one channel with 1, 2 or 4 outputs; the reference loops
// in conv2d.cpp check it.
#pragma once
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstring>
#include <type_traits>
#include <utility>
#include <vector>

#include "nn/conv_geom.hpp"
#include "nn/madd.hpp"
#include "nn/simd.hpp"

namespace dkws::nn::detail {

class PlanarConv {
 public:
  static bool applies(const ConvGeom& g, int out) {
    // With 8 or more outputs the channels-last kernels already fill their 8-lane tiles, and
    // measured faster there (bench/dendrite_cost bare conv2d 1->8: 227 us against 302 us here).
    return g.c == 1 && g.kh == 3 && g.kw == 3 && (out == 1 || out == 2 || out == 4);
  }

  // y [n][h][w][out] from the padded plane xp [n][hp][wp].
  void forward(const float* xp, const ConvGeom& g, const float* w, const float* bias, int out,
               float* y) {
    const float* grid = forward_grid(xp, g, w, bias, out);
    // Keep the real positions: row r of image i starts at grid position (i*hp + r)*wp.
    const size_t row = size_t(g.w) * out;
    for (int i = 0; i < g.n; ++i)
      for (int r = 0; r < g.h; ++r)
        copy_floats(y + (size_t(i) * g.h + r) * row, grid + (size_t(i) * g.hp() + r) * g.wp() * out,
                    row);
  }

  // The outputs on the flat padded grid: position (i, r, q) at (i*hp + r)*wp + q, out floats
  // each; the grid's padding positions hold junk. Valid until the next forward.
  float* forward_grid(const float* xp, const ConvGeom& g, const float* w, const float* bias,
                      int out) {
    with_out(out, [&](auto o) { forward_t<decltype(o)::value>(xp, g, w, bias); });
    return grid_.data();
  }

  // dw [out][3][3] and db [out] += weight and bias gradients; dy [n][h][w][out] channels-last.
  void wgrad(const float* xp, const ConvGeom& g, const float* dy, int out, float* dw, float* db) {
    float* grid = dy_grid(g, out);
    const size_t row = size_t(g.w) * out;
    for (int i = 0; i < g.n; ++i)
      for (int r = 0; r < g.h; ++r)
        copy_floats(grid + (size_t(i) * g.hp() + r) * g.wp() * out,
                    dy + (size_t(i) * g.h + r) * row, row);
    wgrad_grid(xp, g, out, dw, db);
  }

  // The output gradient's place on the grid, for a caller to write the real positions of;
  // padding positions are zero and must stay so.
  float* dy_grid(const ConvGeom& g, int out) {
    const size_t size = flat_span(g) * size_t(out);
    if (!(dy_geom_ == g) || dy_grid_.size() != size) {
      zero_floats(dy_grid_, size);
      dy_geom_ = g;
    }
    return dy_grid_.data();
  }
  // wgrad() with the output gradient already in dy_grid().
  void wgrad_grid(const float* xp, const ConvGeom& g, int out, float* dw, float* db) {
    with_out(out, [&](auto o) { wgrad_t<decltype(o)::value>(xp, g, dw, db); });
  }

 private:
  // Calls f with out as a compile-time constant (one of the counts applies() accepts).
  template <class F>
  static void with_out(int out, F&& f) {
    switch (out) {
      case 1:
        return f(std::integral_constant<int, 1>{});
      case 2:
        return f(std::integral_constant<int, 2>{});
      default:
        return f(std::integral_constant<int, 4>{});
    }
  }

  static constexpr int kTaps = 9;
  // Lanes per vector: AVX-512's 16, else AVX2's 8 (a 16-lane vector there is split in two and
  // its lane-spreading permute crosses the halves, which GCC builds from scalar moves: the v3
  // build trained ac_small at a quarter of the native rate). Each output is the same chain of
  // multiply-adds at either width; only the weight gradient's lane sums group differently.
#if defined(__AVX512F__)
  static constexpr int kW = 16;
  using V = v16f;
#else
  static constexpr int kW = 8;
  using V = v8f;
#endif

  // One past the last output position on the flat padded grid.
  static size_t flat_span(const ConvGeom& g) {
    return (size_t(g.n - 1) * g.hp() + g.h - 1) * g.wp() + g.w;
  }
  static std::array<ptrdiff_t, kTaps> offsets(const ConvGeom& g) {
    std::array<ptrdiff_t, kTaps> off{};
    for (int a = 0; a < 3; ++a)
      for (int b = 0; b < 3; ++b) off[size_t(a * 3 + b)] = ptrdiff_t(a) * g.wp() + b;
    return off;
  }
  // The kW/OUT input values at p, each repeated OUT times across the lanes (lane l reads value
  // l/OUT). Reads kW floats (a full-width load: a narrower copy into a vector stalls store
  // forwarding), so callers keep p + kW inside the buffer. A constant permutation, which GCC and
  // Clang both take.
  template <int OUT>
  static V spread(const float* p) {
    V v;
    std::memcpy(&v, p, sizeof v);
    return spread_lanes<OUT>(v, std::make_index_sequence<kW>{});
  }
  template <int OUT, size_t... L>
  static V spread_lanes(V v, std::index_sequence<L...>) {
    return __builtin_shufflevector(v, v, int(L / OUT)...);
  }
  // Groups whose kW-float reads at every tap stay inside the padded input.
  static size_t safe_groups(const ConvGeom& g, size_t groups, size_t pos) {
    const size_t size = size_t(g.n) * g.hp() * g.wp(), reach = 2 * size_t(g.wp()) + 2 + kW;
    return size < reach ? 0 : std::min(groups, (size - reach) / pos + 1);
  }
  template <int OUT>
  static V lanes_of(const float* per_channel, int stride) {  // lane l: per_channel[(l%OUT)*stride]
    V v;
    for (int l = 0; l < kW; ++l) v[l] = per_channel[(l % OUT) * stride];
    return v;
  }

  template <int OUT>
  void forward_t(const float* xp, const ConvGeom& g, const float* w, const float* bias) {
    constexpr size_t kPos = kW / OUT;
    const size_t span = flat_span(g), groups = safe_groups(g, span / kPos, kPos);
    const auto off = offsets(g);
    V wt[kTaps];
    for (int t = 0; t < kTaps; ++t) wt[t] = lanes_of<OUT>(w + t, kTaps);
    const V b = lanes_of<OUT>(bias, 1);
    grid_.resize(span * OUT);
    for (size_t k = 0; k < groups; ++k) {
      const float* x = xp + k * kPos;
      V acc = b;
      for (int t = 0; t < kTaps; ++t) acc = madd(wt[t], spread<OUT>(x + off[size_t(t)]), acc);
      std::memcpy(grid_.data() + k * kW, &acc, sizeof acc);
    }
    for (size_t q = groups * kPos; q < span; ++q)  // the last few positions
      for (int o = 0; o < OUT; ++o) {
        float s = bias[o];
        for (int t = 0; t < kTaps; ++t) s = madd(w[o * kTaps + t], xp[q + off[size_t(t)]], s);
        grid_[q * OUT + size_t(o)] = s;
      }
  }

  // Reads dy from dy_grid_ (padding positions zero).
  template <int OUT>
  void wgrad_t(const float* xp, const ConvGeom& g, float* dw, float* db) {
    constexpr size_t kPos = kW / OUT;
    const size_t span = flat_span(g), groups = safe_groups(g, span / kPos, kPos);
    const auto off = offsets(g);
    V acc[kTaps] = {}, bacc = {};
    for (size_t k = 0; k < groups; ++k) {
      V d;
      std::memcpy(&d, dy_grid_.data() + k * kW, sizeof d);
      const float* x = xp + k * kPos;
      bacc += d;
      for (int t = 0; t < kTaps; ++t) acc[t] = madd(d, spread<OUT>(x + off[size_t(t)]), acc[t]);
    }
    for (int o = 0; o < OUT; ++o) {
      for (int t = 0; t < kTaps; ++t) {
        float s = 0;
        for (size_t l = size_t(o); l < kW; l += OUT) s += acc[t][l];
        for (size_t q = groups * kPos; q < span; ++q)
          s = madd(dy_grid_[q * OUT + size_t(o)], xp[q + off[size_t(t)]], s);
        dw[o * kTaps + t] += s;
      }
      float s = 0;
      for (size_t l = size_t(o); l < kW; l += OUT) s += bacc[l];
      for (size_t q = groups * kPos; q < span; ++q) s += dy_grid_[q * OUT + size_t(o)];
      db[o] += s;
    }
  }

  std::vector<float> grid_, dy_grid_;
  ConvGeom dy_geom_{};
};

}  // namespace dkws::nn::detail
