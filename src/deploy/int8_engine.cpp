// The C++ int8 reference engine: integer-only inference over a QModel, written independently of
// the generated C kernels (kws_ops.c) so the host parity test compares two implementations of the
// same arithmetic. Activations are channels-last int8; each conv position computes f's and every
// g_k's accumulator for a channel, then the dendrite combine, then the ReLU clamp.
#include <algorithm>

#include <fmt/core.h>

#include "deploy/c/kws_frontend.h"
#include "deploy/frontend_tables.hpp"
#include "dkws/deploy.hpp"
#include "dkws/error.hpp"

namespace dkws::deploy {
namespace {

int8_t clamp8(int32_t v) {
  return int8_t(std::clamp(v, -128, 127));
}

// Accumulator of output channel `row` (of the wide [(D+1) * cout] layer) at (oy, ox).
int32_t conv_acc(const QLayer& l, const int8_t* in, int row, int oy, int ox) {
  int32_t acc = l.bias[size_t(row)];
  const int8_t* w = l.weight.data() + size_t(row) * size_t(l.kh * l.kw * l.cin);
  for (int a = 0; a < l.kh; ++a) {
    const int iy = oy + a - l.pad_h;
    if (iy < 0 || iy >= l.h) continue;  // zero padding: real 0, contributes nothing
    for (int b = 0; b < l.kw; ++b) {
      const int ix = ox + b - l.pad_w;
      if (ix < 0 || ix >= l.w) continue;
      const int8_t* x = in + (size_t(iy) * size_t(l.w) + size_t(ix)) * size_t(l.cin);
      const int8_t* wk = w + (size_t(a) * size_t(l.kw) + size_t(b)) * size_t(l.cin);
      for (int c = 0; c < l.cin; ++c) acc += (int32_t(x[c]) - l.in_zp) * int32_t(wk[c]);
    }
  }
  return acc;
}

// Reference: DendriteLayer::forward_reference (src/dendrite/dendrite_reference.cpp).
void run_conv(const QLayer& l, const int8_t* in, int8_t* out) {
  const int C = l.cout, D = l.dendrites;
  std::vector<int32_t> h(size_t(std::max(D, 1)));
  for (int oy = 0; oy < l.oh; ++oy)
    for (int ox = 0; ox < l.ow; ++ox)
      for (int c = 0; c < C; ++c) {
        int32_t y = l.out_zp + apply_multiplier(conv_acc(l, in, c, oy, ox), l.acc_mul[size_t(c)]);
        size_t cascade = 0;  // index of u_k0 for this k in cascade_mul
        for (int k = 0; k < D; ++k) {
          const int row = (k + 1) * C + c;
          int32_t a = l.a_zp[size_t(k)] +
                      apply_multiplier(conv_acc(l, in, row, oy, ox), l.acc_mul[size_t(row)]);
          for (int j = 0; j < k; ++j)
            a += apply_multiplier(h[size_t(j)] - l.h_zp[size_t(j)],
                                  l.cascade_mul[cascade + size_t(j) * size_t(C) + size_t(c)]);
          cascade += size_t(k) * size_t(C);
          h[size_t(k)] = l.lut[size_t(k)][size_t(clamp8(a) + 128)];
          y += apply_multiplier(h[size_t(k)] - l.h_zp[size_t(k)],
                                l.out_mul[size_t(k) * size_t(C) + size_t(c)]);
        }
        if (l.relu) y = std::max(y, int32_t(l.out_zp));
        out[(size_t(oy) * size_t(l.ow) + size_t(ox)) * size_t(C) + size_t(c)] = clamp8(y);
      }
}

void run_pool(const QLayer& l, const int8_t* in, int8_t* out) {
  for (int oy = 0; oy < l.oh; ++oy)
    for (int ox = 0; ox < l.ow; ++ox)
      for (int c = 0; c < l.cout; ++c) {
        int8_t best = -128;
        for (int iy = std::max(oy * l.kh - l.pad_h, 0);
             iy < std::min(oy * l.kh - l.pad_h + l.kh, l.h); ++iy)
          for (int ix = std::max(ox * l.kw - l.pad_w, 0);
               ix < std::min(ox * l.kw - l.pad_w + l.kw, l.w); ++ix)
            best = std::max(
                best, in[(size_t(iy) * size_t(l.w) + size_t(ix)) * size_t(l.cin) + size_t(c)]);
        out[(size_t(oy) * size_t(l.ow) + size_t(ox)) * size_t(l.cout) + size_t(c)] = best;
      }
}

void run_depthwise(const QLayer& l, const int8_t* in, int8_t* out) {
  for (int oy = 0; oy < l.oh; ++oy)
    for (int ox = 0; ox < l.ow; ++ox)
      for (int c = 0; c < l.cout; ++c) {
        int32_t acc = l.bias[size_t(c)];
        for (int a = 0; a < l.kh; ++a)
          for (int b = 0; b < l.kw; ++b) {
            const int iy = oy + a - l.pad_h, ix = ox + b - l.pad_w;
            if (iy < 0 || iy >= l.h || ix < 0 || ix >= l.w) continue;  // padding: real 0
            const int8_t x =
                in[(size_t(iy) * size_t(l.w) + size_t(ix)) * size_t(l.cin) + size_t(c)];
            acc += (int32_t(x) - l.in_zp) *
                   int32_t(
                       l.weight[(size_t(c) * size_t(l.kh) + size_t(a)) * size_t(l.kw) + size_t(b)]);
          }
        int32_t y = l.out_zp + apply_multiplier(acc, l.acc_mul[size_t(c)]);
        if (l.relu) y = std::max(y, int32_t(l.out_zp));
        out[(size_t(oy) * size_t(l.ow) + size_t(ox)) * size_t(l.cout) + size_t(c)] = clamp8(y);
      }
}

// Mean at the input's scale: zp + (sum of (x - zp)) / positions, rounded half away from zero.
void run_avgpool(const QLayer& l, const int8_t* in, int8_t* out) {
  const int32_t positions = l.h * l.w;
  for (int c = 0; c < l.cout; ++c) {
    int32_t sum = 0;
    for (int32_t p = 0; p < positions; ++p)
      sum += int32_t(in[size_t(p) * size_t(l.cin) + size_t(c)]) - l.in_zp;
    const int32_t mean =
        sum >= 0 ? (sum + positions / 2) / positions : -((-sum + positions / 2) / positions);
    out[c] = clamp8(l.in_zp + mean);
  }
}

}  // namespace

void quantize_input(const QModel& q, const float* features, int8_t* out) {
  const int n = q.front_end.frames() * q.front_end.coeffs();
  for (int i = 0; i < n; ++i) {
    // Same float operations as kws_runtime.c: divide, clamp, round half away from zero.
    float v = features[i] / q.in_scale;
    v = std::clamp(v, -1000.f, 1000.f);
    const int32_t r = int32_t(v + (v >= 0.f ? 0.5f : -0.5f));
    out[i] = clamp8(r + q.in_zp);
  }
}

std::vector<int8_t> run_int8(const QModel& q, const int8_t* input) {
  const QLayer& first = q.layers.front();
  std::vector<int8_t> cur(input, input + size_t(first.h) * size_t(first.w) * size_t(first.cin));
  std::vector<int8_t> next;
  for (const QLayer& l : q.layers) {
    next.assign(size_t(l.oh) * size_t(l.ow) * size_t(l.cout), 0);
    switch (l.kind) {
      case QLayer::kConv:
        run_conv(l, cur.data(), next.data());
        break;
      case QLayer::kPool:
        run_pool(l, cur.data(), next.data());
        break;
      case QLayer::kDepthwise:
        run_depthwise(l, cur.data(), next.data());
        break;
      case QLayer::kAvgPool:
        run_avgpool(l, cur.data(), next.data());
        break;
    }
    cur.swap(next);
  }
  return cur;
}

int argmax_scores(const std::vector<int8_t>& scores) {
  return int(std::max_element(scores.begin(), scores.end()) - scores.begin());
}

std::vector<float> c_front_end(const FrontEndConfig& fe, const int16_t* pcm, size_t n) {
  const FrontEndTables t(fe);
  std::vector<float> feat(size_t(fe.frames()) * size_t(fe.coeffs()));
  std::vector<float> scratch(kws_fe_scratch_floats(&t.fe));
  kws_fe_window(&t.fe, pcm, n, feat.data(), scratch.data());
  return feat;
}

std::vector<int8_t> classify_pcm(const QModel& q, const int16_t* pcm, size_t n) {
  const std::vector<float> feat = c_front_end(q.front_end, pcm, n);
  std::vector<int8_t> in(feat.size());
  quantize_input(q, feat.data(), in.data());
  return run_int8(q, in.data());
}

void check_input_rate(const FrontEndConfig& fe, int rate, const std::string& what) {
  if (rate != fe.sample_rate)
    throw Error(fmt::format("{}: {} Hz input, but the model's front end expects {} Hz", what, rate,
                            fe.sample_rate));
}

}  // namespace dkws::deploy
