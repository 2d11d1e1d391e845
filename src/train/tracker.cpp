#include "train/tracker.hpp"

#include <algorithm>

namespace dkws {

double SwitchTracker::threshold() const {
  const size_t i = std::min(size_t(current_), spec_.thresholds.size() - 1);
  return spec_.thresholds[i];
}

SwitchDecision SwitchTracker::observe(double val_score) {
  const double lookback = std::max(1.0, spec_.history_lookback);
  ema_ = have_ema_ ? ema_ + (val_score - ema_) / lookback : val_score;
  have_ema_ = true;

  SwitchDecision d;
  if (beats_best(ema_, best_, threshold(), spec_.raw_threshold)) {
    best_ = ema_;
    since_best_ = 0;
    committed_ = current_;
    beat_since_growth_ = true;
    failed_tries_ = 0;
    d.new_best = true;
    return d;
  }
  if (++since_best_ < spec_.n_epochs_to_switch) return d;
  if (!grows() && !early_stopping_) return d;  // every epoch is trained; the caller keeps the best

  d.revert = true;
  if (!grows()) {
    d.action = SwitchAction::kComplete;
    d.reason = "no improvement: early stop";
  } else if (!beat_since_growth_) {
    ++failed_tries_;
    if (failed_tries_ >= spec_.max_dendrite_tries) {
      d.action = SwitchAction::kComplete;
      d.reason = "last growth never beat the best; tries exhausted";
    } else {
      d.action = SwitchAction::kRestructure;
      d.reason = "last growth never beat the best; retrying";
    }
  } else if (committed_ >= spec_.max_dendrites) {
    d.action = SwitchAction::kComplete;
    d.reason = "max_dendrites reached";
  } else {
    d.action = SwitchAction::kRestructure;
    d.reason = "no improvement: switching";
  }
  if (d.revert) current_ = committed_;
  return d;
}

void SwitchTracker::restructured(int added) {
  current_ += added;
  since_best_ = 0;
  beat_since_growth_ = false;
  have_ema_ = false;
}

nlohmann::json SwitchTracker::state() const {
  return {{"best", best_},
          {"ema", ema_},
          {"have_ema", have_ema_},
          {"since_best", since_best_},
          {"current", current_},
          {"committed", committed_},
          {"beat_since_growth", beat_since_growth_},
          {"failed_tries", failed_tries_}};
}

void SwitchTracker::load_state(const nlohmann::json& j) {
  best_ = j.at("best");
  ema_ = j.at("ema");
  have_ema_ = j.at("have_ema");
  since_best_ = j.at("since_best");
  current_ = j.at("current");
  committed_ = j.at("committed");
  beat_since_growth_ = j.at("beat_since_growth");
  failed_tries_ = j.at("failed_tries");
}

}  // namespace dkws
