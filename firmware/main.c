/* Firmware check: classify the embedded test clips with the exported model, print each result
 * through semihosting, and report the measured costs. Output lines (parsed by
 * tests/test_firmware_qemu.cpp):
 *   clip <i> label <class> scores <s0> <s1> ...
 *   ticks <i> <timer ticks for that kws_classify call>
 *   calibration <ticks for a 2 x 100000-instruction loop>
 *   frontend <timer ticks for the front end (MFCC or MFE) alone, clip 0>
 *   stack <high-water bytes> of <reserved bytes>
 *   arena <KWS_ARENA_BYTES>
 * and exits with status 0 when every clip ran, 1 if kws_init failed. */
#include <stddef.h>
#include <stdint.h>

#include "clips.h"
#include "kws.h"
#include "kws_ops.h"
#include "semihost.h"

uint32_t stack_high_water(void);
uint32_t stack_size(void);
extern const kws_model_t kws_model;

/* CMSDK APB timer 0: a 32-bit down-counter at the 25 MHz system clock. Under QEMU's
 * `-icount shift=0` virtual time advances 1 ns per instruction, so one tick is 40 instructions. */
#define TIMER0_CTRL (*(volatile uint32_t*)0x40000000u)
#define TIMER0_VALUE (*(volatile uint32_t*)0x40000004u)
#define TIMER0_RELOAD (*(volatile uint32_t*)0x40000008u)

static uint32_t now(void) {
  return TIMER0_VALUE;
}

/* 100000 iterations of a two-instruction loop: a known instruction count to check the timer. */
static void calibration_loop(void) {
  uint32_t n = 100000u;
  __asm__ volatile("1: subs %0, %0, #1\n bne 1b" : "+r"(n) : : "cc");
}

int main(void) {
  size_t i;
  int c;
  uint32_t t0, t1;
  TIMER0_RELOAD = 0xFFFFFFFFu;
  TIMER0_VALUE = 0xFFFFFFFFu;
  TIMER0_CTRL = 1u;
  if (kws_init() != 0) return 1;
  t0 = now();
  calibration_loop();
  t1 = now();
  semihost_write("calibration ");
  semihost_write_int((long)(t0 - t1));
  semihost_write("\n");
  for (i = 0; i < KWS_TEST_CLIPS; ++i) {
    kws_result_t r;
    t0 = now();
    kws_classify(kws_test_clips[i], KWS_TEST_CLIP_SAMPLES, &r);
    t1 = now();
    semihost_write("clip ");
    semihost_write_int((long)i);
    semihost_write(" label ");
    semihost_write_int(r.label);
    semihost_write(" scores");
    for (c = 0; c < KWS_NUM_CLASSES; ++c) {
      semihost_write(" ");
      semihost_write_int(r.scores[c]);
    }
    semihost_write("\nticks ");
    semihost_write_int((long)i);
    semihost_write(" ");
    semihost_write_int((long)(t0 - t1));
    semihost_write("\n");
  }
  {
    /* The front end alone, in the arena region kws_classify gives it. */
    float* feat = (float*)(void*)(kws_model.arena + kws_model.fe_offset);
    t0 = now();
    kws_fe_window(kws_model.fe, kws_test_clips[0], KWS_TEST_CLIP_SAMPLES, feat,
                  feat + KWS_FRAMES * KWS_COEFFS);
    t1 = now();
    semihost_write("frontend ");
    semihost_write_int((long)(t0 - t1));
    semihost_write("\n");
  }
  semihost_write("stack ");
  semihost_write_int((long)stack_high_water());
  semihost_write(" of ");
  semihost_write_int((long)stack_size());
  semihost_write("\narena ");
  semihost_write_int((long)KWS_ARENA_BYTES);
  semihost_write("\n");
  return 0;
}
