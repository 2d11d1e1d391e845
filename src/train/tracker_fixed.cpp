#include "train/tracker_fixed.hpp"

#include <algorithm>

#include <fmt/core.h>

namespace dkws {

SwitchDecision FixedTracker::observe(double val_score, bool) {
  const double lookback = std::max(1.0, spec_.history_lookback);
  ema_ = have_ema_ ? ema_ + (val_score - ema_) / lookback : val_score;
  have_ema_ = true;
  ++cycle_epochs_;

  SwitchDecision d;
  if (ema_ > best_) {
    best_ = ema_;
    d.new_best = true;
  }
  // Mode none has one cycle as long as the whole schedule of the growing arms.
  const int cycle_length = grows() ? spec_.switch_every : total_epochs();
  if (cycle_epochs_ < cycle_length) return d;
  d.revert = true;
  if (grows() && switches_ < spec_.max_dendrites) {
    d.action = SwitchAction::kRestructure;
    d.reason = fmt::format("fixed switch {} of {}", switches_ + 1, spec_.max_dendrites);
  } else {
    d.action = SwitchAction::kComplete;
    d.reason = fmt::format("fixed schedule complete: {} epochs", total_epochs());
  }
  return d;
}

void FixedTracker::restructured(int added) {
  switches_ += std::max(added, 1);  // a plain restart (added 0) is a switch all the same
  cycle_epochs_ = 0;
  best_ = -1e300;  // the new cycle's first epoch becomes its best checkpoint
  have_ema_ = false;
}

nlohmann::json FixedTracker::state() const {
  return {{"best", best_},
          {"ema", ema_},
          {"have_ema", have_ema_},
          {"cycle_epochs", cycle_epochs_},
          {"switches", switches_}};
}

void FixedTracker::load_state(const nlohmann::json& j) {
  best_ = j.at("best");
  ema_ = j.at("ema");
  have_ema_ = j.at("have_ema");
  cycle_epochs_ = j.at("cycle_epochs");
  switches_ = j.at("switches");
}

}  // namespace dkws
