/* int8 kernels and the model descriptor of a dkws-generated library (C99, no heap).
 * Copied verbatim by `dkws export --format c`; the model data itself is in kws_model.c. */
#ifndef KWS_OPS_H
#define KWS_OPS_H
#include <stddef.h>
#include <stdint.h>

#include "kws_frontend.h"

#ifdef __cplusplus
extern "C" {
#endif

#define KWS_MAX_DENDRITES 16
enum { KWS_OP_CONV = 0, KWS_OP_POOL = 1, KWS_OP_DWCONV = 2, KWS_OP_AVGPOOL = 3 };

/* A requantization factor m * 2^-shift (m in [2^30, 2^31), 1 <= shift <= 62). */
typedef struct {
  int32_t m;
  int32_t shift;
} kws_mul_t;

/* One int8 operation over channels-last tensors [h][w][cin] -> [oh][ow][cout].
 * conv: 'same' stride-1 convolution (dense and conv1d are the 1x1 / kx1 cases) of a wide layer
 * [f | g_0 .. g_{D-1}], each output channel combined with its dendrites:
 *   a_k = a_zp[k] + M(acc_gk) + sum_{j<k} M(h_j - h_zp[j]);  h_k = lut[k][a_k + 128];
 *   y = out_zp + M(acc_f) + sum_k M(h_k - h_zp[k]);  ReLU clamps y at out_zp.
 * pool: max over kh x kw windows with stride kh x kw (pad_* cells before the input ignored).
 * dwconv: 'same' stride-1 depthwise convolution, weight [cout][kh][kw] (cin == cout), ReLU as conv.
 * avgpool: the mean of each channel over all h x w positions, at the input's scale and zero
 * point, rounded half away from zero; oh = ow = 1. */
typedef struct {
  int kind;
  int h, w, cin, oh, ow, cout, kh, kw, pad_h, pad_w;
  int relu, dendrites, in_zp, out_zp;
  const int8_t* weight;         /* [(D+1) * cout][kh][kw][cin] */
  const int32_t* bias;          /* [(D+1) * cout] */
  const kws_mul_t* acc_mul;     /* [(D+1) * cout] */
  const kws_mul_t* cascade_mul; /* [k][j<k][cout] */
  const kws_mul_t* out_mul;     /* [D][cout] */
  const int8_t *a_zp, *h_zp;    /* [D] */
  const int8_t* lut;            /* [D][256] */
} kws_layer_t;

typedef struct {
  const kws_fe_t* fe;
  float in_scale; /* features -> int8: round(f / in_scale) + in_zp */
  int in_zp;
  int num_layers;
  const kws_layer_t* layers;
  int num_classes;
  size_t buf1_offset; /* arena bytes: int8 ping-pong buffer 0 at 0, buffer 1 here */
  size_t fe_offset;   /* arena bytes: float features, then front-end scratch */
  unsigned char* arena;
} kws_model_t;

int32_t kws_requant(int32_t x, kws_mul_t q);
void kws_conv_s8(const kws_layer_t* l, const int8_t* in, int8_t* out);
void kws_pool_s8(const kws_layer_t* l, const int8_t* in, int8_t* out);
void kws_dwconv_s8(const kws_layer_t* l, const int8_t* in, int8_t* out);
void kws_avgpool_s8(const kws_layer_t* l, const int8_t* in, int8_t* out);
/* float features -> int8 input, the same float operations as the C++ reference. */
void kws_quantize_features(const kws_model_t* m, const float* feat, int8_t* out);
/* Runs every layer from arena buffer 0; returns the buffer holding the class scores. */
const int8_t* kws_run_layers(const kws_model_t* m);

#ifdef __cplusplus
}
#endif
#endif
