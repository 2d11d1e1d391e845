// The switching tracker shared by every mode (docs/design.md section 5, "Switching"). It watches
// the neuron-phase validation score and decides when to keep going, restructure (add dendrites, or
// just restart for the control arm) or stop; with mode none it is early stopping, if asked for
// (train.early_stopping), and otherwise only tracks the best score.
#pragma once
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "dkws/config.hpp"

namespace dkws {

enum class SwitchAction { kContinue, kRestructure, kComplete };
// The pb rules' learning-rate search (tracker_pb.hpp): restart from the post-install checkpoint
// one scheduler step lower, or go back to the better of two runs.
enum class RateSearch { kNone, kTryLowerStart, kKeepBetterRun };

struct SwitchDecision {
  bool new_best = false;  // caller saves the best checkpoint
  bool revert = false;    // caller reloads the best checkpoint before acting
  SwitchAction action = SwitchAction::kContinue;
  std::string reason;
  RateSearch search = RateSearch::kNone;
  int start_steps = 0;  // kTryLowerStart: scheduler steps below the initial rate to start at
};

// The improvement test of both rule sets: new * (1 - thr) > best and new - raw > best.
inline bool beats_best(double score, double best, double thr, double raw) {
  return score * (1.0 - thr) > best && score - raw > best;
}

// What the trainer needs from a rule set's tracker.
class Tracker {
 public:
  virtual ~Tracker() = default;
  // One neuron-phase epoch's raw validation score; `rate_cut`: the scheduler then lowered the rate.
  virtual SwitchDecision observe(double val_score, bool rate_cut) = 0;
  // The caller finished a restructure: `added` growth steps are now live (0 for a plain restart).
  virtual void restructured(int added) = 0;
  virtual int growth_steps() const = 0;     // dendrites (or restarts) in the live net
  virtual int committed_steps() const = 0;  // in the best checkpoint
  virtual double best_score() const = 0;
  virtual double smoothed_score() const = 0;
  virtual nlohmann::json state() const = 0;
  virtual void load_state(const nlohmann::json& j) = 0;
};

// The tracker of spec.rules; `rate_search`: the run has a plateau scheduler (pb searches rates);
// `early_stopping`: mode none stops after n_epochs_to_switch epochs without a better score.
std::unique_ptr<Tracker> make_tracker(const DendriteSpec& spec, bool rate_search,
                                      bool early_stopping);

class SwitchTracker final : public Tracker {
 public:
  SwitchTracker(const DendriteSpec& spec, bool early_stopping)
      : spec_(spec), early_stopping_(early_stopping) {}

  SwitchDecision observe(double val_score);
  SwitchDecision observe(double val_score, bool) override { return observe(val_score); }
  void restructured(int added) override;

  int growth_steps() const override { return current_; }
  int committed_steps() const override { return committed_; }
  double best_score() const override { return best_; }
  double smoothed_score() const override { return ema_; }
  int tries() const { return failed_tries_; }

  nlohmann::json state() const override;
  void load_state(const nlohmann::json& j) override;

 private:
  bool grows() const { return spec_.mode != "none" || spec_.restart_only; }
  double threshold() const;

  DendriteSpec spec_;
  bool early_stopping_;
  double best_ = -1e300;
  double ema_ = 0;
  bool have_ema_ = false;
  int since_best_ = 0;
  int current_ = 0;
  int committed_ = 0;
  bool beat_since_growth_ = true;
  int failed_tries_ = 0;
};

}  // namespace dkws
