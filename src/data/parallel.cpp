// A minimal parallel loop: feature extraction and dataset inspection are embarrassingly parallel
// over clips, and writing results by index keeps the output independent of thread timing.
#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>

#include "data/data_internal.hpp"

namespace dkws::data {

unsigned worker_count() {
  return std::max(1u, std::thread::hardware_concurrency());
}

void parallel_for(size_t n, const std::function<void(size_t)>& fn) {
  const size_t workers = std::min<size_t>(worker_count(), n);
  if (workers <= 1) {
    for (size_t i = 0; i < n; ++i) fn(i);
    return;
  }
  std::atomic<size_t> next{0};
  std::exception_ptr error;
  std::mutex error_mutex;
  auto work = [&] {
    for (size_t i; (i = next.fetch_add(1)) < n;) {
      try {
        fn(i);
      } catch (...) {
        std::lock_guard lock(error_mutex);
        if (!error) error = std::current_exception();
        next = n;  // stop handing out work
      }
    }
  };
  std::vector<std::thread> threads;
  for (size_t t = 1; t < workers; ++t) threads.emplace_back(work);
  work();
  for (auto& t : threads) t.join();
  if (error) std::rethrow_exception(error);
}

}  // namespace dkws::data
