/* kws_classify and kws_feed of a dkws-generated library: front end -> int8 input -> layers.
 * Everything works in the one static arena of kws_model.c; nothing is allocated. */
#include <string.h>

#include "kws.h"
#include "kws_ops.h"

extern const kws_model_t kws_model;

int kws_init(void) {
  return kws_model.num_layers > 0 ? 0 : -1;
}

static float* fe_features(void) {
  return (float*)(void*)(kws_model.arena + kws_model.fe_offset);
}

static float* fe_scratch(void) {
  return fe_features() + (size_t)kws_model.fe->frames * (size_t)kws_model.fe->coeffs;
}

/* From float features in the arena: quantize, run the network, pick the first maximum. */
static int finish(kws_result_t* out) {
  const int8_t* scores;
  int c, best = 0;
  kws_quantize_features(&kws_model, fe_features(), (int8_t*)(void*)kws_model.arena);
  scores = kws_run_layers(&kws_model);
  for (c = 0; c < KWS_NUM_CLASSES; ++c) {
    if (scores[c] > scores[best]) best = c;
    if (out) out->scores[c] = scores[c];
  }
  if (out) out->label = best;
  return best;
}

int kws_classify(const int16_t* pcm, size_t n, kws_result_t* out) {
  kws_fe_window(kws_model.fe, pcm, n, fe_features(), fe_scratch());
  return finish(out);
}

void kws_stream_init(kws_stream_t* s) {
  memset(s, 0, sizeof *s);
}

/* A completed frame: its cepstra go to the ring; a frame that starts a window also keeps its raw
 * samples, because Edge Impulse's pre-emphasis wraps the window's last sample into its first. */
static void stream_frame(kws_stream_t* s) {
  const kws_fe_t* fe = kws_model.fe;
  uint32_t t = s->frames;
  kws_fe_frame(fe, s->frame, s->before, fe_scratch(), s->cep[t % KWS_FRAMES]);
  if (t % KWS_HOP_FRAMES == 0)
    memcpy(s->first[(t / KWS_HOP_FRAMES) % KWS_PENDING], s->frame, sizeof s->frame);
  s->frames = t + 1;
  if (KWS_FRAME_STRIDE < KWS_FRAME_LEN) {
    s->before = s->frame[KWS_FRAME_STRIDE - 1];
    memmove(s->frame, s->frame + KWS_FRAME_STRIDE,
            (size_t)(KWS_FRAME_LEN - KWS_FRAME_STRIDE) * sizeof s->frame[0]);
    s->fill = KWS_FRAME_LEN - KWS_FRAME_STRIDE;
  } else {
    s->before = s->frame[KWS_FRAME_LEN - 1];
    s->fill = 0;
    s->skip = KWS_FRAME_STRIDE - KWS_FRAME_LEN;
  }
}

/* The window of frames [start, start + KWS_FRAMES) has just ended with sample `last`. */
static int stream_window(kws_stream_t* s, int16_t last, kws_result_t* out) {
  float* feat = fe_features();
  uint32_t start = s->next_start, t;
  for (t = 0; t < KWS_FRAMES; ++t)
    memcpy(feat + (size_t)t * KWS_COEFFS, s->cep[(start + t) % KWS_FRAMES], sizeof s->cep[0]);
  kws_fe_frame(kws_model.fe, s->first[(start / KWS_HOP_FRAMES) % KWS_PENDING], last, fe_scratch(),
               feat);
  kws_fe_cmvn(kws_model.fe, feat, fe_scratch());
  s->next_start = start + KWS_HOP_FRAMES;
  return finish(out);
}

size_t kws_feed(kws_stream_t* s, const int16_t* pcm, size_t n, kws_result_t* out, size_t max_out) {
  size_t i, results = 0;
  for (i = 0; i < n; ++i) {
    int16_t x = pcm[i];
    s->samples += 1;
    if (s->skip > 0) {
      s->skip -= 1;
      s->before = x;
    } else {
      s->frame[s->fill++] = x;
      if (s->fill == KWS_FRAME_LEN) stream_frame(s);
    }
    if (s->samples == s->next_start * (uint32_t)KWS_FRAME_STRIDE + KWS_WINDOW_SAMPLES) {
      kws_result_t* dst = results < max_out ? &out[results] : 0;
      stream_window(s, x, dst);
      results += 1;
    }
  }
  return results;
}
