#include "train/tracker_pb.hpp"

#include <algorithm>

#include <fmt/core.h>

#include "train/tracker_fixed.hpp"

namespace dkws {

std::unique_ptr<Tracker> make_tracker(const DendriteSpec& spec, bool rate_search,
                                      bool early_stopping) {
  if (spec.switch_mode == "fixed") return std::make_unique<FixedTracker>(spec);
  if (spec.rules == "pb") return std::make_unique<PbTracker>(spec, rate_search, early_stopping);
  return std::make_unique<SwitchTracker>(spec, early_stopping);
}

bool PbTracker::beats(double score, double best) const {
  const size_t i = std::min(size_t(current_), spec_.thresholds.size() - 1);
  return beats_best(score, best, spec_.thresholds[i], spec_.raw_threshold);
}

SwitchDecision PbTracker::observe(double val_score, bool rate_cut) {
  Cycle& c = cycle_;
  const double lookback = std::max(1.0, spec_.history_lookback);
  c.ema = c.have_ema ? c.ema + (val_score - c.ema) / lookback : val_score;
  c.have_ema = true;
  ++c.run_epochs;
  if (rate_cut) ++c.run_cuts;

  SwitchDecision d;
  if (beats(c.ema, c.best)) {
    c.best = c.ema;
    c.since_improve = 0;
    if (beats(c.ema, best_)) {
      best_ = c.ema;
      committed_ = current_;
      cycle_set_global_ = true;
      failed_tries_ = 0;
      d.new_best = true;
    }
  } else {
    ++c.since_improve;
  }
  if (search_step(d)) return d;
  if (!grows() && !early_stopping_) return d;  // every epoch is trained; the caller keeps the best
  if (c.since_improve < spec_.n_epochs_to_switch) return d;
  if (rate_lowered() < lowered_prev_) {
    if (c.since_improve == spec_.n_epochs_to_switch)
      d.reason =
          fmt::format("switch vetoed: rate lowered {} of {} times", rate_lowered(), lowered_prev_);
    return d;
  }

  d.revert = true;
  lowered_prev_ = rate_lowered();
  prev_run_epochs_ = c.run_epochs;
  stage_ = Stage::kOff;
  if (!grows()) {
    d.action = SwitchAction::kComplete;
    d.reason = "no improvement: early stop";
  } else if (!cycle_set_global_) {
    ++failed_tries_;
    const bool done = failed_tries_ > spec_.max_dendrite_tries;
    d.action = done ? SwitchAction::kComplete : SwitchAction::kRestructure;
    d.reason =
        done ? "cycle never beat the best; tries exhausted" : "cycle never beat the best; retrying";
  } else if (committed_ >= spec_.max_dendrites) {
    d.action = SwitchAction::kComplete;
    d.reason = "max_dendrites reached";
  } else {
    d.action = SwitchAction::kRestructure;
    d.reason = "no improvement: switching";
  }
  current_ = committed_;
  return d;
}

bool PbTracker::search_step(SwitchDecision& d) {
  Cycle& c = cycle_;
  switch (stage_) {
    case Stage::kOff:
      return false;
    case Stage::kFirstRun:
    case Stage::kWinnerRuns: {
      // The run reaches the rate the next lower start will reach at its first cut.
      if (c.run_cuts < 2 && c.run_epochs < run_limit_) return false;
      kept_ = c;
      if (c.start_steps >= kMaxStartSteps) {
        stage_ = Stage::kOff;
        return false;
      }
      run_limit_ = std::max(1, 2 * c.run_epochs);
      c = post_install_;
      c.start_steps = kept_.start_steps + 1;
      stage_ = Stage::kChallenger;
      d.search = RateSearch::kTryLowerStart;
      d.start_steps = c.start_steps;
      d.reason =
          fmt::format("rate search: restart {} step(s) below the initial rate", c.start_steps);
      return true;
    }
    case Stage::kChallenger:
      if (c.run_cuts < 1 && c.run_epochs < run_limit_) return false;
      if (c.best > kept_.best) {
        stage_ = Stage::kWinnerRuns;
        d.reason = fmt::format("rate search: the start {} step(s) lower is better", c.start_steps);
        return false;
      }
      c = kept_;
      stage_ = Stage::kOff;
      d.search = RateSearch::kKeepBetterRun;
      d.reason = fmt::format("rate search: keeping the start {} step(s) lower", c.start_steps);
      return true;
  }
  return false;
}

void PbTracker::restructured(int added) {
  current_ += added;
  cycle_set_global_ = false;
  cycle_ = Cycle{};
  post_install_ = cycle_;
  stage_ = rate_search_ ? Stage::kFirstRun : Stage::kOff;
  run_limit_ = std::max(1, 2 * prev_run_epochs_);
}

nlohmann::json PbTracker::to_json(const Cycle& c) {
  return {{"ema", c.ema},
          {"have_ema", c.have_ema},
          {"best", c.best},
          {"since_improve", c.since_improve},
          {"run_epochs", c.run_epochs},
          {"run_cuts", c.run_cuts},
          {"start_steps", c.start_steps}};
}

PbTracker::Cycle PbTracker::cycle_from_json(const nlohmann::json& j) {
  Cycle c;
  c.ema = j.at("ema");
  c.have_ema = j.at("have_ema");
  c.best = j.at("best");
  c.since_improve = j.at("since_improve");
  c.run_epochs = j.at("run_epochs");
  c.run_cuts = j.at("run_cuts");
  c.start_steps = j.at("start_steps");
  return c;
}

nlohmann::json PbTracker::state() const {
  return {{"cycle", to_json(cycle_)},
          {"post_install", to_json(post_install_)},
          {"kept", to_json(kept_)},
          {"stage", int(stage_)},
          {"run_limit", run_limit_},
          {"best", best_},
          {"current", current_},
          {"committed", committed_},
          {"cycle_set_global", cycle_set_global_},
          {"failed_tries", failed_tries_},
          {"lowered_prev", lowered_prev_},
          {"prev_run_epochs", prev_run_epochs_}};
}

void PbTracker::load_state(const nlohmann::json& j) {
  cycle_ = cycle_from_json(j.at("cycle"));
  post_install_ = cycle_from_json(j.at("post_install"));
  kept_ = cycle_from_json(j.at("kept"));
  stage_ = Stage(j.at("stage").get<int>());
  run_limit_ = j.at("run_limit");
  best_ = j.at("best");
  current_ = j.at("current");
  committed_ = j.at("committed");
  cycle_set_global_ = j.at("cycle_set_global");
  failed_tries_ = j.at("failed_tries");
  lowered_prev_ = j.at("lowered_prev");
  prev_run_epochs_ = j.at("prev_run_epochs");
}

}  // namespace dkws
