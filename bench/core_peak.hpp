// Peak single-precision FLOP/s of one core, measured: 16 independent chains of 8-lane fused
// multiply-adds (enough to cover the FMA latency on two pipes), the best of three runs of
// `seconds` of the calling thread's CPU time (the clock moves between runs on a shared VM). A
// clock-times-width estimate is wrong on VMs, which hide the boost clock: on the Zen 4 VM this was
// developed on, /proc/cpuinfo says 2,596 MHz (83 GFLOP/s at 32 FLOP/cycle) while the conv kernels
// alone ran at 96 GFLOP/s; this loop measures 117. With AVX-512 the same pipes run 16-lane FMAs at
// half the rate, so 8 lanes measure the same peak.
#pragma once
#include <algorithm>

#include "bench_timing.hpp"
#include "nn/madd.hpp"

namespace dkws::bench {

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpsabi"
inline double measure_core_peak_flops_once(double (*now)(), double seconds) {
  typedef float v8 __attribute__((vector_size(32)));
  v8 acc[16] = {}, mul = {}, add = {};
  for (int l = 0; l < 8; ++l) mul[l] = 0.999999f, add[l] = 1e-7f;
  for (int k = 0; k < 16; ++k)
    for (int l = 0; l < 8; ++l) acc[k][l] = float(k + l);
  constexpr long kInner = 1 << 16;
  long rounds = 0;
  const double t0 = now();
  double elapsed = 0;
  do {
    // madd: fused wherever the target has FMA, whatever the tuning (GCC's Zen tuning leaves
    // a loop-carried a * b + c unfused, which would halve the peak measured).
    for (long i = 0; i < kInner; ++i) {
      for (int k = 0; k < 16; ++k) acc[k] = nn::detail::madd(acc[k], mul, add);
    }
    // Keeps the chains live and in registers without letting the compiler fold them (a
    // 32-byte vector fits one register only with AVX; without, through memory once a round).
#if defined(__AVX__)
    asm volatile(""
                 : "+x"(acc[0]), "+x"(acc[1]), "+x"(acc[2]), "+x"(acc[3]), "+x"(acc[4]),
                   "+x"(acc[5]), "+x"(acc[6]), "+x"(acc[7]));
    asm volatile(""
                 : "+x"(acc[8]), "+x"(acc[9]), "+x"(acc[10]), "+x"(acc[11]), "+x"(acc[12]),
                   "+x"(acc[13]), "+x"(acc[14]), "+x"(acc[15]));
#else
    asm volatile("" : "+m"(acc));
#endif
    ++rounds;
    elapsed = now() - t0;
  } while (elapsed < seconds);
  return double(rounds) * kInner * 16 * 8 * 2 / elapsed;
}

inline double measure_core_peak_flops(double (*now)() = thread_seconds, double seconds = 0.2) {
  double best = 0;
  for (int run = 0; run < 3; ++run)
    best = std::max(best, measure_core_peak_flops_once(now, seconds));
  return best;
}
#pragma GCC diagnostic pop

}  // namespace dkws::bench
