// Timing helpers shared by the benches: the calling thread's CPU time, so other jobs on a shared
// machine do not count, and the time per call of a short function.
#pragma once
#include <algorithm>
#include <ctime>

namespace dkws::bench {

inline double thread_seconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

// CPU time per call of f: the fastest of many chunks of about `chunk_seconds` within `budget`
// seconds. The minimum over short chunks filters out chunks slowed by other processes evicting
// the caches.
template <class F>
double time_per_call(F&& f, double budget, double chunk_seconds = 1e-3) {
  f();  // warm-up: buffers get sized here
  double t0 = thread_seconds();
  f();
  const double once = std::max(thread_seconds() - t0, 1e-7);
  const long chunk = std::max(1L, long(chunk_seconds / once));
  double best = 1e30;
  const double start = thread_seconds();
  while (thread_seconds() - start < budget) {
    t0 = thread_seconds();
    for (long i = 0; i < chunk; ++i) f();
    best = std::min(best, (thread_seconds() - t0) / double(chunk));
  }
  return best;
}

}  // namespace dkws::bench
