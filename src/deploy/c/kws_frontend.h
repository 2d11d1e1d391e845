/* Edge Impulse MFCC and MFE (implementation v4) front ends in C99, single precision, no heap.
 * The same source is compiled into libdkws (the C++ int8 reference path) and copied verbatim into
 * every exported library, so host and device compute bit-identical features. All tables
 * (FFT twiddles, mel filterbank, DCT) are computed by the exporter and passed in, so no libm
 * function with platform-dependent rounding is called; kws_fe_logf is our own.
 * Bit-identical needs every float operation rounded on its own, as a Cortex-M4F does: build this
 * file without fused multiply-add, e.g. with GCC -std=c99 (-ffp-contract=off) and, on a host with
 * vector FMA (x86-64 AVX2/AVX-512), also -fno-tree-vectorize: GCC's vectorizer turns the FFT's
 * complex multiply into vfmaddsub even under -ffp-contract=off. */
#ifndef KWS_FRONTEND_H
#define KWS_FRONTEND_H
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  int window_samples; /* samples in one window (16000 for 1 s at 16 kHz) */
  int frame_len;      /* samples per frame */
  int frame_stride;   /* samples between frame starts */
  int frames;         /* frames per window */
  int fft_len;        /* power of two */
  int num_filters;
  int coeffs;              /* values per frame: MFCC's cepstra, or MFE's num_filters */
  int cmvn_win;            /* odd window in frames; 0 disables CMVN (MFE has none) */
  float pre_cof;           /* pre-emphasis coefficient (shift 1) */
  int mfe;                 /* 1: MFE (mel energies in dB, scaled to [0, 1] in 1/256 steps) */
  float noise_floor_db;    /* MFE: the dB that maps to 0 (12 dB maps to 1) */
  const float* twiddle;    /* fft_len/4 complex (re, im): exp(-2 pi i k / (fft_len/2)) */
  const float* post;       /* fft_len/2 + 1 complex: exp(-2 pi i k / fft_len) */
  const uint16_t* bitrev;  /* fft_len/2 entries */
  const int16_t* fb_first; /* first FFT bin of each filter */
  const int16_t* fb_len;   /* weights per filter */
  const float* fb_weights; /* concatenated filter weights */
  const float* dct;        /* MFCC: (coeffs - 1) x num_filters, orthonormal DCT-II rows 1.. */
} kws_fe_t;

/* Floats of scratch that kws_fe_frame and kws_fe_window need (besides their output). */
size_t kws_fe_scratch_floats(const kws_fe_t* fe);

/* Natural log of x > 0, to about 1 ulp, in plain float arithmetic. */
float kws_fe_logf(float x);

/* Features of one frame: frame_len int16 samples; prev is the sample pre-emphasis uses before
 * frame[0] (for a window's first frame, the window's last sample: Edge Impulse wraps around).
 * Writes coeffs floats: MFCC's cepstra (c0 is the log frame energy) or MFE's scaled energies. */
void kws_fe_frame(const kws_fe_t* fe, const int16_t* frame, int16_t prev, float* scratch,
                  float* cep);

/* Sliding-window CMVN in place over frames x coeffs (frame-major); nothing when cmvn_win is 0. */
void kws_fe_cmvn(const kws_fe_t* fe, float* m, float* scratch);

/* Features of one window: pcm[0..n) zero-padded or cropped to window_samples.
 * Writes frames x coeffs floats (frame-major). */
void kws_fe_window(const kws_fe_t* fe, const int16_t* pcm, size_t n, float* feat, float* scratch);

#ifdef __cplusplus
}
#endif
#endif
