// The detector's decision logic: per-class score smoothing over the last N slices, a threshold on
// the best keyword class, and suppression after a detection. Times are counted in slices so the
// rules are exact (no floating-point drift over hours of audio).
#include <algorithm>
#include <cctype>
#include <cmath>

#include <fmt/core.h>

#include "dkws/error.hpp"
#include "dkws/stream.hpp"

namespace dkws {

void DetectorOptions::validate() const {
  auto bad = [](const char* name, double v, const char* rule) {
    return Error(fmt::format("--{} must be {} (got {})", name, rule, v));
  };
  if (!(slice_seconds > 0) || !std::isfinite(slice_seconds) || slice_seconds > 60)
    throw bad("slice-ms", slice_seconds * 1000, "between 1 and 60000");
  if (!(smooth_seconds >= 0) || !std::isfinite(smooth_seconds) || smooth_seconds > 3600)
    throw bad("smooth-ms", smooth_seconds * 1000, "between 0 and 3600000");
  if (!(threshold >= 0 && threshold <= 1)) throw bad("threshold", threshold, "between 0 and 1");
  if (!(suppress_seconds >= 0) || !std::isfinite(suppress_seconds) || suppress_seconds > 3600)
    throw bad("suppress-ms", suppress_seconds * 1000, "between 0 and 3600000");
}

bool is_keyword_class(const std::string& label) {
  std::string l = label;
  std::transform(l.begin(), l.end(), l.begin(), [](unsigned char c) { return std::tolower(c); });
  for (const char* other :
       {"_unknown_", "_silence_", "unknown", "silence", "noise", "_noise_", "_background_noise_"})
    if (l == other) return false;
  return true;
}

DetectionLogic::DetectionLogic(std::vector<std::string> classes, const DetectorOptions& opt)
    : classes_(std::move(classes)), threshold_(opt.threshold) {
  opt.validate();
  for (const auto& c : classes_) triggers_.push_back(is_keyword_class(c));
  // Both windows are whole slices: smoothing over at least the current slice, suppression for the
  // slices that start within suppress_seconds of the detection (1e-9 absorbs 0.75/0.25 = 2.9999).
  smooth_n_ = std::max(1, static_cast<int>(std::lround(opt.smooth_seconds / opt.slice_seconds)));
  suppress_n_ = static_cast<int>(std::ceil(opt.suppress_seconds / opt.slice_seconds - 1e-9));
  history_.reserve(static_cast<size_t>(smooth_n_));
}

std::optional<Detection> DetectionLogic::update(std::span<const float> scores, double time) {
  if (scores.size() != classes_.size())
    throw Error(fmt::format("detector: {} scores for {} classes", scores.size(), classes_.size()));
  const auto slot = static_cast<size_t>(slice_ % smooth_n_);
  if (history_.size() < static_cast<size_t>(smooth_n_))
    history_.emplace_back(scores.begin(), scores.end());
  else
    history_[slot].assign(scores.begin(), scores.end());
  const long long k = slice_++;

  int best = -1;
  double best_score = -1;
  for (size_t c = 0; c < classes_.size(); ++c) {
    if (!triggers_[c]) continue;
    double sum = 0;
    for (const auto& h : history_) sum += h[c];
    const double mean = sum / static_cast<double>(history_.size());
    if (mean > best_score) best = static_cast<int>(c), best_score = mean;
  }
  if (best < 0 || best_score < threshold_) return std::nullopt;
  if (last_detection_ >= 0 && k - last_detection_ < suppress_n_) return std::nullopt;
  last_detection_ = k;
  return Detection{time, best, classes_[static_cast<size_t>(best)], best_score};
}

}  // namespace dkws
