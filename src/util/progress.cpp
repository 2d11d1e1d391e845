#include <unistd.h>

#include <cstdio>

#include <fmt/core.h>

#include "dkws/util.hpp"

namespace dkws {

Progress::Progress(std::string label, size_t total, bool quiet)
    : label_(std::move(label)), total_(total), enabled_(!quiet && isatty(fileno(stderr))),
      start_(std::chrono::steady_clock::now()) {}

Progress::~Progress() {
  if (enabled_ && !finished_) std::fputc('\n', stderr);
}

void Progress::update(size_t done, const std::string& status) {
  if (!enabled_) return;
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double frac = total_ ? double(done) / double(total_) : 1.0;
  const double eta = done ? elapsed / double(done) * double(total_ - std::min(done, total_)) : 0.0;
  constexpr int kWidth = 24;
  const int filled = int(frac * kWidth);
  fmt::print(stderr, "\r\033[K{} [{}{}] {}/{} {:02d}:{:02d} ETA {:02d}:{:02d} {}", label_,
             std::string(size_t(filled), '#'), std::string(size_t(kWidth - filled), '.'), done,
             total_, int(elapsed) / 60, int(elapsed) % 60, int(eta) / 60, int(eta) % 60, status);
  std::fflush(stderr);
}

void Progress::finish(const std::string& status) {
  if (!enabled_ || finished_) return;
  update(total_, status);
  std::fputc('\n', stderr);
  finished_ = true;
}

}  // namespace dkws
