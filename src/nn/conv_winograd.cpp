#include "nn/conv_winograd.hpp"

#include <algorithm>

#include "nn/conv_tiles.hpp"
#include "nn/simd.hpp"

namespace dkws::nn::detail {
namespace {

// u[(i*4 + j)][ci][o] = (G g G^T)[i][j] for each output o and input channel ci of w
// [out][3][3][c], G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1]. u is zero-filled (padding lanes).
void transform_kernel(const float* w, int c, int out, int opad, float* u) {
  for (int o = 0; o < out; ++o)
    for (int ci = 0; ci < c; ++ci) {
      float k[3][3], t[4][3];
      for (int a = 0; a < 3; ++a)
        for (int b = 0; b < 3; ++b) k[a][b] = w[((size_t(o) * 3 + a) * 3 + b) * c + ci];
      for (int b = 0; b < 3; ++b) {
        t[0][b] = k[0][b];
        t[1][b] = 0.5f * (k[0][b] + k[1][b] + k[2][b]);
        t[2][b] = 0.5f * (k[0][b] - k[1][b] + k[2][b]);
        t[3][b] = k[2][b];
      }
      for (int i = 0; i < 4; ++i) {
        const float e[4] = {t[i][0], 0.5f * (t[i][0] + t[i][1] + t[i][2]),
                            0.5f * (t[i][0] - t[i][1] + t[i][2]), t[i][2]};
        for (int j = 0; j < 4; ++j) u[(size_t(i * 4 + j) * c + ci) * opad + o] = e[j];
      }
    }
}

// V = B^T d B, B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1], for 8 channels of the 4x4 patch at
// p (rows `row` floats apart, columns `col` apart): V[k] goes to v + k * vk.
inline void transform_patch(const float* p, ptrdiff_t row, ptrdiff_t col, float* v, ptrdiff_t vk) {
  v8f d[4][4];
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) d[i][j] = load8(p + i * row + j * col);
  for (int j = 0; j < 4; ++j) {
    const v8f d0 = d[0][j], d1 = d[1][j], d2 = d[2][j], d3 = d[3][j];
    d[0][j] = d0 - d2, d[1][j] = d1 + d2, d[2][j] = d2 - d1, d[3][j] = d1 - d3;
  }
  for (int i = 0; i < 4; ++i) {
    const v8f* t = d[i];
    store8(v + (i * 4 + 0) * vk, t[0] - t[2]);
    store8(v + (i * 4 + 1) * vk, t[1] + t[2]);
    store8(v + (i * 4 + 2) * vk, t[2] - t[1]);
    store8(v + (i * 4 + 3) * vk, t[1] - t[3]);
  }
}

// Y = A^T M A + bias, A^T = [1 1 1 0; 0 1 -1 -1], for 8 lanes of one patch's products M[k] at
// m + k * mk: the 2x2 outputs in scan order, `ycell` floats apart.
inline void inverse_transform(const float* m, ptrdiff_t mk, v8f bias, float* y, ptrdiff_t ycell) {
  v8f s[2][4];
  for (int j = 0; j < 4; ++j) {
    const v8f m0 = load8(m + j * mk), m1 = load8(m + (4 + j) * mk);
    const v8f m2 = load8(m + (8 + j) * mk), m3 = load8(m + (12 + j) * mk);
    s[0][j] = m0 + m1 + m2;
    s[1][j] = m1 - m2 - m3;
  }
  for (int i = 0; i < 2; ++i) {
    store8(y + (2 * i) * ycell, s[i][0] + s[i][1] + s[i][2] + bias);
    store8(y + (2 * i + 1) * ycell, s[i][1] - s[i][2] - s[i][3] + bias);
  }
}

// Products k of `count` patches: m[t][o] = sum_ci v[t][ci] * u[ci][o], kFlatTile patches a tile.
void products(const float* v, int cpad, int count, int c, const float* u, int opad,
              const float* zero, float* m) {
  constexpr int T = kFlatTile;
  ptrdiff_t off[8];  // (conv_tile_count compiles tiles up to 8 for every width)
  for (int t = 0; t < 8; ++t) off[t] = ptrdiff_t(t) * cpad;
  int t = 0;
  for (; t + T <= count; t += T)
    conv_tile_all<T, 0>(v + ptrdiff_t(t) * cpad, off, 1, 0, c, u, opad, zero, m + t * opad);
  const float* vt = v + ptrdiff_t(t) * cpad;
  float* mt = m + ptrdiff_t(t) * opad;
  conv_tile_count<0>(count - t, vt, off, 1, 0, c, u, opad, zero, mt);
}

}  // namespace

void WinogradConv::forward(const float* xp, const ConvGeom& g, const float* w, const float* bias,
                           int out, int opad, int oh, int ow, const BlockSink& sink) {
  // Patches are taken kFlatTile at a time (as many as one register tile holds): transformed,
  // multiplied (16 tiles, one per k) and transformed back. (Groups of 4 tiles, so that U[k] stays
  // in L1 across more patches, measured no faster at these sizes.)
  constexpr int kGroup = kFlatTile;
  const int c = g.c, cpad = round_up8(c);
  zero_floats(u_, size_t(16) * c * opad);
  transform_kernel(w, c, out, opad, u_.data());
  zero_floats(zero_, size_t(opad));
  v_.resize(size_t(16) * kGroup * cpad);
  m_.resize(size_t(16) * kGroup * opad);
  y4_.resize(size_t(kGroup) * 4 * opad);
  bias_.assign(size_t(opad), 0.f);
  std::copy(bias, bias + out, bias_.begin());

  const ptrdiff_t row = ptrdiff_t(g.wp()) * c, item = ptrdiff_t(g.hp()) * row;
  const ptrdiff_t vk = ptrdiff_t(kGroup) * cpad, mk = ptrdiff_t(kGroup) * opad;
  const int th = oh / 2, tw = ow / 2;
  const ptrdiff_t total = ptrdiff_t(g.n) * th * tw;
  int i = 0, r = 0, q = 0;  // the next patch's item and top-left output
  for (ptrdiff_t p = 0; p < total; p += kGroup) {
    const int count = int(std::min<ptrdiff_t>(kGroup, total - p));
    for (int t = 0; t < count; ++t) {
      // output (r, q) reads padded rows r..r+2 and columns q..q+2: the patch is 4x4 from (r, q)
      // (r + 3 <= oh + 1 <= h + 1, the padded input's last row; columns alike)
      const float* patch = xp + i * item + r * row + ptrdiff_t(q) * c;
      for (int cc = 0; cc < c; cc += 8)
        transform_patch(patch + cc, row, c, v_.data() + t * cpad + cc, vk);
      if ((q += 2) == 2 * tw) {
        q = 0;
        if ((r += 2) == 2 * th) r = 0, ++i;
      }
    }
    for (int k = 0; k < 16; ++k)
      products(v_.data() + k * vk, cpad, count, c, u_.data() + ptrdiff_t(k) * c * opad, opad,
               zero_.data(), m_.data() + k * mk);
    for (int t = 0; t < count; ++t)
      for (int oc = 0; oc < opad; oc += 8)
        inverse_transform(m_.data() + t * opad + oc, mk, load8(bias_.data() + oc),
                          y4_.data() + size_t(t) * 4 * opad + oc, opad);
    sink(y4_.data(), p, count);
  }
}

void WinogradConv::forward(const float* xp, const ConvGeom& g, const float* w, const float* bias,
                           int out, int opad, float* y, int oh, int ow) {
  const ptrdiff_t tw = ow / 2, per_item = ptrdiff_t(oh / 2) * tw;
  forward(xp, g, w, bias, out, opad, oh, ow, [&](const float* y4, ptrdiff_t first, int count) {
    for (int t = 0; t < count; ++t) {
      const ptrdiff_t b = first + t, i = b / per_item, r = 2 * (b % per_item / tw),
                      q = 2 * (b % tw);
      float* at = y + ((i * oh + r) * ow + q) * opad;
      const float* src = y4 + ptrdiff_t(t) * 4 * opad;
      for (int oc = 0; oc < opad; oc += 8) {
        store8(at + oc, load8(src + oc));
        store8(at + opad + oc, load8(src + opad + oc));
        store8(at + ptrdiff_t(ow) * opad + oc, load8(src + 2 * opad + oc));
        store8(at + ptrdiff_t(ow + 1) * opad + oc, load8(src + 3 * opad + oc));
      }
    }
  });
}

}  // namespace dkws::nn::detail
