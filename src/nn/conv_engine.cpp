#include "nn/conv_engine.hpp"

#include <algorithm>

#include "nn/conv_tiles.hpp"

namespace dkws::nn::detail {

void ConvEngine::forward(const float* x, const ConvGeom& g, const float* w, const float* bias,
                         int out, float* y) {
  if (PlanarConv::applies(g, out))
    return planar_.forward(xpad_.fill(x, g, kSlack), g, w, bias, out, y);
  forward_conv(xpad_.fill(x, g, kSlack), g, w, bias, out, y, g.h, g.w);
}

ConvEngine::View ConvEngine::forward_view(const float* x, const ConvGeom& g, const float* w,
                                          const float* bias, int out, int oh, int ow, float* y) {
  if (PlanarConv::applies(g, out))
    return planar_view(planar_.forward_grid(xpad_.fill(x, g, kSlack), g, w, bias, out), g, out);
  const auto [h, wd] = forward_conv(xpad_.fill(x, g, kSlack), g, w, bias, out, y, oh, ow);
  return {y, h, wd, size_t(wd) * out, size_t(h) * wd * out};
}

bool ConvEngine::forward_blocks(const float* x, const ConvGeom& g, const float* w,
                                const float* bias, int out, int oh, int ow,
                                const WinogradConv::BlockSink& sink) {
  if (!WinogradConv::applies(g) || out % 8 != 0 || oh % 2 || ow % 2) return false;
  winograd_.forward(xpad_.fill(x, g, kSlack), g, w, bias, out, out, oh, ow, sink);
  return true;
}

bool ConvEngine::forward_row_pairs(const float* x, const ConvGeom& g, const float* w,
                                   const float* bias, int out, int oh, int ow,
                                   const WinogradConv::BlockSink& sink) {
  if (g.c != 1 || g.kh != 3 || g.kw != 3 || out % 8 != 0 || ow < 8 || oh % 2 || ow % 2 ||
      PlanarConv::applies(g, out) || prefer_dot(g, out))
    return false;
  const float* xp = xpad_.fill(x, g, kSlack);
  pack_weights(g, w, bias, out);
  ywide_.resize(size_t(2) * ow * out);
  conv_forward_row_pairs(xp, g, wt_.data(), bias_.data(), out, oh, ow, ywide_.data(),
                         [&](const float* pair, ptrdiff_t k) { sink(pair, k, 1); });
  return true;
}

ConvEngine::View ConvEngine::grad_view(const ConvGeom& g, int out, float* dense) {
  if (PlanarConv::applies(g, out)) return planar_view(planar_.dy_grid(g, out), g, out);
  return {dense, g.h, g.w, size_t(g.w) * out, size_t(g.h) * g.w * out};
}

void ConvEngine::backward_view(const ConvGeom& g, const float* w, int out, const View& dy,
                               float* dw, float* db, float* dx) {
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

void ConvEngine::backward_padded(const float* xp, const ConvGeom& g, const float* w, int out,
                                 const float* dy, float* dw, float* db, float* dx) {
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
  zero_floats(dwt_, size_t(taps) * opad);
  wgrad(xp, g, dyw, opad, dwt_.data());
  for (int o = 0; o < out; ++o)
    for (int t = 0; t < taps; ++t) dw[size_t(o) * taps + t] += dwt_[size_t(t) * opad + o];
  if (dx) input_grad(g, w, out, dy, dx);
}

void ConvEngine::input_grad(const ConvGeom& g, const float* w, int out, const float* dy,
                            float* dx) {
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

std::pair<int, int> ConvEngine::forward_conv(const float* xp, const ConvGeom& g, const float* w,
                                             const float* bias, int out, float* y, int oh, int ow) {
  if (!WinogradConv::applies(g) || oh < 2 || ow < 2) return conv(xp, g, w, bias, out, y, oh, ow);
  const int opad = round_up8(out);
  const size_t positions = size_t(g.n) * oh * ow;
  if (opad != out) ywide_.resize(positions * opad);
  float* yw = opad == out ? y : ywide_.data();
  winograd_.forward(xp, g, w, bias, out, opad, yw, oh, ow);
  if (oh % 2 || ow % 2) {
    pack_weights(g, w, bias, out);
    conv_forward_edges(xp, g, wt_.data(), bias_.data(), opad, yw, oh, ow, edge_);
  }
  if (opad != out) compact_rows(ywide_.data(), positions, opad, out, y);
  return {oh, ow};
}

void ConvEngine::pack_weights(const ConvGeom& g, const float* w, const float* bias, int out) {
  const int opad = round_up8(out), taps = g.kh * g.kw * g.c;
  // wt[t][o] = w[o][t]; padding lanes are zero.
  zero_floats(wt_, size_t(taps) * opad);
  for (int o = 0; o < out; ++o)
    for (int t = 0; t < taps; ++t) wt_[size_t(t) * opad + o] = w[size_t(o) * taps + t];
  bias_.assign(opad, 0.f);
  std::copy(bias, bias + out, bias_.begin());
}

std::pair<int, int> ConvEngine::conv(const float* xp, const ConvGeom& g, const float* w,
                                     const float* bias, int out, float* y, int oh, int ow) {
  if (prefer_dot(g, out)) {
    conv_dot_rows(xp, g, w, bias, out, y);
    return {g.h, g.w};
  }
  const int opad = round_up8(out);
  pack_weights(g, w, bias, out);
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

void ConvEngine::wgrad(const float* xp, const ConvGeom& g, const float* dy, int opad, float* dwt) {
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

}  // namespace dkws::nn::detail
