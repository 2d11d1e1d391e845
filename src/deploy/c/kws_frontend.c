/* Edge Impulse MFCC and MFE v4 in single precision. See kws_frontend.h. */
#include "kws_frontend.h"

#include <math.h>
#include <string.h>

size_t kws_fe_scratch_floats(const kws_fe_t* fe) {
  /* FFT buffer (fft_len floats as fft_len/2 complex), power spectrum, log mel, and a frame of
   * int16 samples for the padded last frame, stored as floats' worth of space. */
  size_t n = (size_t)fe->fft_len + (size_t)(fe->fft_len / 2 + 1) + (size_t)fe->num_filters;
  size_t frame_words = ((size_t)fe->frame_len + 1) / 2;
  size_t cmvn = 2 * ((size_t)fe->frames + (size_t)(fe->cmvn_win > 0 ? fe->cmvn_win - 1 : 0));
  return n + frame_words > cmvn ? n + frame_words : cmvn;
}

float kws_fe_logf(float x) {
  /* x = m * 2^e with m in [sqrt(1/2), sqrt(2)); ln m = 2 atanh(s), s = (m - 1) / (m + 1). */
  uint32_t bits;
  int e;
  float m, s, s2, p;
  memcpy(&bits, &x, sizeof bits);
  e = (int)((bits >> 23) & 0xff) - 127;
  bits = (bits & 0x007fffffu) | 0x3f800000u;
  memcpy(&m, &bits, sizeof m);
  if (m > 1.41421356f) {
    m *= 0.5f;
    e += 1;
  }
  s = (m - 1.0f) / (m + 1.0f);
  s2 = s * s;
  p = 1.0f / 11.0f;
  p = p * s2 + 1.0f / 9.0f;
  p = p * s2 + 1.0f / 7.0f;
  p = p * s2 + 1.0f / 5.0f;
  p = p * s2 + 1.0f / 3.0f;
  p = p * s2 + 1.0f;
  return (float)e * 0.693147180559945f + 2.0f * s * p;
}

/* MFE's value of one mel energy e. The reference scales samples by 2^-15 before the FFT, so its
 * energy is e * 2^-30 and its dB 10 log10(e) - 300 log10(2). The dB from noise_floor_db to 12 map
 * onto [0, 1], which is rounded half to even to a multiple of 1/256 and capped at 255/256 (the
 * block's uint8 output). The rounding is done on the integer part, so it is exact everywhere. */
static float mfe_value(const kws_fe_t* fe, float e) {
  float db, v, frac;
  int steps;
  if (!(e > 0.0f)) return 0.0f;
  db = 4.34294481903f * kws_fe_logf(e) - 90.3089987f;
  v = (db - fe->noise_floor_db) / (12.0f - fe->noise_floor_db);
  if (!(v > 0.0f)) return 0.0f;
  if (v > 1.0f) v = 1.0f;
  v *= 256.0f;
  steps = (int)v;
  frac = v - (float)steps;
  if (frac > 0.5f || (frac == 0.5f && (steps & 1))) steps += 1;
  return (float)(steps > 255 ? 255 : steps) / 256.0f;
}

/* In-place radix-2 DIT FFT of `half` complex values already in bit-reversed order. */
static void fft_complex(const kws_fe_t* fe, float* a, int half) {
  int len, i, j;
  for (len = 2; len <= half; len <<= 1) {
    int step = half / len, h = len / 2;
    for (i = 0; i < half; i += len) {
      for (j = 0; j < h; ++j) {
        const float* w = fe->twiddle + 2 * (j * step);
        float *u = a + 2 * (i + j), *v = a + 2 * (i + j + h);
        float vr = v[0] * w[0] - v[1] * w[1];
        float vi = v[0] * w[1] + v[1] * w[0];
        v[0] = u[0] - vr;
        v[1] = u[1] - vi;
        u[0] = u[0] + vr;
        u[1] = u[1] + vi;
      }
    }
  }
}

void kws_fe_frame(const kws_fe_t* fe, const int16_t* frame, int16_t prev, float* scratch,
                  float* cep) {
  const int nfft = fe->fft_len, half = nfft / 2;
  const int used = fe->frame_len < nfft ? fe->frame_len : nfft;
  float* buf = scratch;             /* half complex */
  float* power = buf + nfft;        /* half + 1 */
  float* logmel = power + half + 1; /* num_filters */
  float energy = 0.0f, scale = 1.0f / (float)nfft;
  int i, k, f;
  /* Pre-emphasis, then pack even/odd samples as one complex sequence in bit-reversed order. */
  for (i = 0; i < half; ++i) {
    int i0 = 2 * i, i1 = 2 * i + 1;
    float x0 = 0.0f, x1 = 0.0f;
    if (i0 < used) x0 = (float)frame[i0] - fe->pre_cof * (float)(i0 ? frame[i0 - 1] : prev);
    if (i1 < used) x1 = (float)frame[i1] - fe->pre_cof * (float)frame[i1 - 1];
    buf[2 * fe->bitrev[i]] = x0;
    buf[2 * fe->bitrev[i] + 1] = x1;
  }
  fft_complex(fe, buf, half);
  /* Untangle: E_k = (Z_k + conj Z_{h-k}) / 2, O_k = (Z_k - conj Z_{h-k}) / 2i,
   * X_k = E_k + exp(-2 pi i k / n) O_k. */
  for (k = 0; k <= half; ++k) {
    const float *zk = buf + 2 * (k % half), *zm = buf + 2 * ((half - k) % half);
    const float* w = fe->post + 2 * k;
    float er = 0.5f * (zk[0] + zm[0]), ei = 0.5f * (zk[1] - zm[1]);
    float or_ = 0.5f * (zk[1] + zm[1]), oi = -0.5f * (zk[0] - zm[0]);
    float xr = er + (w[0] * or_ - w[1] * oi);
    float xi = ei + (w[0] * oi + w[1] * or_);
    power[k] = (xr * xr + xi * xi) * scale;
    energy += power[k];
  }
  {
    const float* wt = fe->fb_weights;
    for (f = 0; f < fe->num_filters; ++f) {
      float e = 0.0f;
      const float* p = power + fe->fb_first[f];
      for (k = 0; k < fe->fb_len[f]; ++k) e += wt[k] * p[k];
      wt += fe->fb_len[f];
      if (fe->mfe)
        cep[f] = mfe_value(fe, e);
      else
        logmel[f] = kws_fe_logf(e == 0.0f ? 1e-10f : e);
    }
  }
  if (fe->mfe) return;
  cep[0] = kws_fe_logf(energy == 0.0f ? 1e-10f : energy);
  for (k = 1; k < fe->coeffs; ++k) {
    const float* row = fe->dct + (size_t)(k - 1) * (size_t)fe->num_filters;
    float s = 0.0f;
    for (f = 0; f < fe->num_filters; ++f) s += row[f] * logmel[f];
    cep[k] = s;
  }
}

/* numpy 'symmetric' padding: the row that padded position j reads (period 2 * rows). */
static int symmetric_index(int j, int rows) {
  int period = 2 * rows;
  int k = ((j % period) + period) % period;
  return k < rows ? k : period - 1 - k;
}

void kws_fe_cmvn(const kws_fe_t* fe, float* m, float* scratch) {
  const int rows = fe->frames, cols = fe->coeffs, win = fe->cmvn_win;
  const int half = (win - 1) / 2, padded = rows + 2 * half;
  /* Each column is padded once into scratch, so every window is a contiguous sum. */
  float *col = scratch, *centred = scratch + padded;
  int c, i, w;
  if (win <= 0) return;
  for (c = 0; c < cols; ++c) {
    for (i = 0; i < padded; ++i)
      col[i] = m[(size_t)symmetric_index(i - half, rows) * (size_t)cols + (size_t)c];
    for (i = 0; i < rows; ++i) {
      float sum = 0.0f;
      for (w = 0; w < win; ++w) sum += col[i + w];
      centred[half + i] = col[half + i] - sum / (float)win;
    }
    for (i = 0; i < padded; ++i) centred[i] = centred[half + symmetric_index(i - half, rows)];
    for (i = 0; i < rows; ++i) {
      float sum = 0.0f, sq = 0.0f, mean;
      for (w = 0; w < win; ++w) sum += centred[i + w];
      mean = sum / (float)win;
      for (w = 0; w < win; ++w) {
        float d = centred[i + w] - mean;
        sq += d * d;
      }
      m[(size_t)i * (size_t)cols + (size_t)c] =
          centred[half + i] / (sqrtf(sq / (float)win) + 1e-10f);
    }
  }
}

void kws_fe_window(const kws_fe_t* fe, const int16_t* pcm, size_t n, float* feat, float* scratch) {
  const size_t nwin = (size_t)fe->window_samples;
  const size_t fft_floats =
      (size_t)fe->fft_len + (size_t)(fe->fft_len / 2 + 1) + (size_t)fe->num_filters;
  int16_t* padded = (int16_t*)(void*)(scratch + fft_floats);
  int16_t last = n >= nwin ? pcm[nwin - 1] : 0;
  int t, i;
  for (t = 0; t < fe->frames; ++t) {
    size_t start = (size_t)t * (size_t)fe->frame_stride;
    /* The sample before the frame: the window's last for the first frame, zero past the clip. */
    int16_t prev = t == 0 ? last : (start - 1 < n ? pcm[start - 1] : 0);
    const int16_t* frame = padded;
    if (start + (size_t)fe->frame_len <= n) {
      frame = pcm + start;
    } else { /* The frame runs past the given samples: copy what there is and zero-pad. */
      for (i = 0; i < fe->frame_len; ++i)
        padded[i] = start + (size_t)i < n ? pcm[start + (size_t)i] : 0;
    }
    kws_fe_frame(fe, frame, prev, scratch, feat + (size_t)t * (size_t)fe->coeffs);
  }
  kws_fe_cmvn(fe, feat, scratch);
}
