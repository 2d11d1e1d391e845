/* int8 kernels of a dkws-generated library. Integer arithmetic only; see kws_ops.h. */
#include "kws_ops.h"

static int8_t clamp8(int32_t v) {
  return (int8_t)(v < -128 ? -128 : v > 127 ? 127 : v);
}

int32_t kws_requant(int32_t x, kws_mul_t q) {
  int64_t p = (int64_t)x * (int64_t)q.m;
  return (int32_t)((p + ((int64_t)1 << (q.shift - 1))) >> q.shift);
}

/* Accumulator of wide-layer row `row` at output (oy, ox). Padded cells are real 0, so the kernel
 * taps are clipped to the input once per position instead of tested one by one. */
static int32_t conv_acc(const kws_layer_t* l, const int8_t* in, int row, int oy, int ox) {
  int32_t acc = l->bias[row];
  const int8_t* w = l->weight + (size_t)row * (size_t)(l->kh * l->kw * l->cin);
  const int a0 = l->pad_h - oy > 0 ? l->pad_h - oy : 0;
  const int a1 = l->h + l->pad_h - oy < l->kh ? l->h + l->pad_h - oy : l->kh;
  const int b0 = l->pad_w - ox > 0 ? l->pad_w - ox : 0;
  const int b1 = l->w + l->pad_w - ox < l->kw ? l->w + l->pad_w - ox : l->kw;
  const int span = (b1 - b0) * l->cin, zp = l->in_zp;
  int a, i;
  for (a = a0; a < a1; ++a) {
    const int8_t* x =
        in + ((size_t)(oy + a - l->pad_h) * (size_t)l->w + (size_t)(ox + b0 - l->pad_w)) *
                 (size_t)l->cin;
    const int8_t* wk = w + ((size_t)a * (size_t)l->kw + (size_t)b0) * (size_t)l->cin;
    /* Taps b0..b1 of one kernel row are contiguous in both the input and the weights. */
    for (i = 0; i < span; ++i) acc += ((int32_t)x[i] - zp) * (int32_t)wk[i];
  }
  return acc;
}

/* Reference: dkws DendriteLayer::forward_reference (src/dendrite/dendrite_reference.cpp). */
void kws_conv_s8(const kws_layer_t* l, const int8_t* in, int8_t* out) {
  const int C = l->cout, D = l->dendrites;
  int32_t h[KWS_MAX_DENDRITES];
  int oy, ox, c, k, j;
  for (oy = 0; oy < l->oh; ++oy) {
    for (ox = 0; ox < l->ow; ++ox) {
      int8_t* dst = out + ((size_t)oy * (size_t)l->ow + (size_t)ox) * (size_t)C;
      for (c = 0; c < C; ++c) {
        int32_t y = l->out_zp + kws_requant(conv_acc(l, in, c, oy, ox), l->acc_mul[c]);
        const kws_mul_t* cascade = l->cascade_mul;
        for (k = 0; k < D; ++k) {
          int row = (k + 1) * C + c;
          int32_t a = l->a_zp[k] + kws_requant(conv_acc(l, in, row, oy, ox), l->acc_mul[row]);
          for (j = 0; j < k; ++j) a += kws_requant(h[j] - l->h_zp[j], cascade[j * C + c]);
          cascade += k * C;
          h[k] = l->lut[k * 256 + clamp8(a) + 128];
          y += kws_requant(h[k] - l->h_zp[k], l->out_mul[k * C + c]);
        }
        if (l->relu && y < l->out_zp) y = l->out_zp;
        dst[c] = clamp8(y);
      }
    }
  }
}

void kws_pool_s8(const kws_layer_t* l, const int8_t* in, int8_t* out) {
  int oy, ox, c, iy, ix;
  for (oy = 0; oy < l->oh; ++oy) {
    int y0 = oy * l->kh - l->pad_h, y1 = y0 + l->kh;
    if (y0 < 0) y0 = 0;
    if (y1 > l->h) y1 = l->h;
    for (ox = 0; ox < l->ow; ++ox) {
      int x0 = ox * l->kw - l->pad_w, x1 = x0 + l->kw;
      if (x0 < 0) x0 = 0;
      if (x1 > l->w) x1 = l->w;
      for (c = 0; c < l->cout; ++c) {
        int8_t best = -128;
        for (iy = y0; iy < y1; ++iy)
          for (ix = x0; ix < x1; ++ix) {
            int8_t v = in[((size_t)iy * (size_t)l->w + (size_t)ix) * (size_t)l->cin + (size_t)c];
            if (v > best) best = v;
          }
        out[((size_t)oy * (size_t)l->ow + (size_t)ox) * (size_t)l->cout + (size_t)c] = best;
      }
    }
  }
}

/* One kernel per channel: weight [cout][kh][kw], cin == cout, no dendrites. */
void kws_dwconv_s8(const kws_layer_t* l, const int8_t* in, int8_t* out) {
  const int C = l->cout, zp = l->in_zp;
  int oy, ox, c, a, b;
  for (oy = 0; oy < l->oh; ++oy) {
    for (ox = 0; ox < l->ow; ++ox) {
      int8_t* dst = out + ((size_t)oy * (size_t)l->ow + (size_t)ox) * (size_t)C;
      for (c = 0; c < C; ++c) {
        int32_t acc = l->bias[c], y;
        const int8_t* w = l->weight + (size_t)c * (size_t)(l->kh * l->kw);
        for (a = 0; a < l->kh; ++a) {
          const int iy = oy + a - l->pad_h;
          if (iy < 0 || iy >= l->h) continue; /* padding is real 0 */
          for (b = 0; b < l->kw; ++b) {
            const int ix = ox + b - l->pad_w;
            if (ix < 0 || ix >= l->w) continue;
            acc += ((int32_t)
                        in[((size_t)iy * (size_t)l->w + (size_t)ix) * (size_t)l->cin + (size_t)c] -
                    zp) *
                   (int32_t)w[a * l->kw + b];
          }
        }
        y = l->out_zp + kws_requant(acc, l->acc_mul[c]);
        if (l->relu && y < l->out_zp) y = l->out_zp;
        dst[c] = clamp8(y);
      }
    }
  }
}

/* Mean over all h x w positions at the input's scale, rounded half away from zero. */
void kws_avgpool_s8(const kws_layer_t* l, const int8_t* in, int8_t* out) {
  const int32_t positions = (int32_t)l->h * (int32_t)l->w;
  int32_t p, sum, mean;
  int c;
  for (c = 0; c < l->cout; ++c) {
    sum = 0;
    for (p = 0; p < positions; ++p)
      sum += (int32_t)in[(size_t)p * (size_t)l->cin + (size_t)c] - l->in_zp;
    mean = sum >= 0 ? (sum + positions / 2) / positions : -((-sum + positions / 2) / positions);
    out[c] = clamp8(l->in_zp + mean);
  }
}

void kws_quantize_features(const kws_model_t* m, const float* feat, int8_t* out) {
  const int n = m->fe->frames * m->fe->coeffs;
  int i;
  for (i = 0; i < n; ++i) {
    float v = feat[i] / m->in_scale;
    int32_t r;
    if (v < -1000.0f) v = -1000.0f;
    if (v > 1000.0f) v = 1000.0f;
    r = (int32_t)(v + (v >= 0.0f ? 0.5f : -0.5f));
    out[i] = clamp8(r + m->in_zp);
  }
}

const int8_t* kws_run_layers(const kws_model_t* m) {
  int8_t* buf[2];
  int i;
  buf[0] = (int8_t*)(void*)m->arena;
  buf[1] = (int8_t*)(void*)(m->arena + m->buf1_offset);
  for (i = 0; i < m->num_layers; ++i) {
    const kws_layer_t* l = &m->layers[i];
    const int8_t* in = buf[i % 2];
    int8_t* out = buf[(i + 1) % 2];
    switch (l->kind) {
      case KWS_OP_CONV:
        kws_conv_s8(l, in, out);
        break;
      case KWS_OP_POOL:
        kws_pool_s8(l, in, out);
        break;
      case KWS_OP_DWCONV:
        kws_dwconv_s8(l, in, out);
        break;
      default:
        kws_avgpool_s8(l, in, out);
        break;
    }
  }
  return buf[m->num_layers % 2];
}
