// The switching tracker shared by every mode (docs/design.md section 5, "Switching"). It watches
// the neuron-phase validation score and decides when to keep going, restructure (add dendrites, or
// just restart for the control arm) or stop; with mode none it is early stopping, if asked for
// (train.early_stopping), and otherwise only tracks the best score.
#pragma once
#include <string>

#include <nlohmann/json.hpp>

#include "dkws/config.hpp"

namespace dkws {

enum class SwitchAction { kContinue, kRestructure, kComplete };

struct SwitchDecision {
  bool new_best = false;  // caller saves the best checkpoint
  bool revert = false;    // caller reloads the best checkpoint before acting
  SwitchAction action = SwitchAction::kContinue;
  std::string reason;
};

class SwitchTracker {
 public:
  SwitchTracker(const DendriteSpec& spec, bool early_stopping)
      : spec_(spec), early_stopping_(early_stopping) {}

  // One neuron-phase epoch's raw validation score.
  SwitchDecision observe(double val_score);
  // The caller finished a restructure: `added` growth steps are now live (0 for a plain restart).
  void restructured(int added);

  int growth_steps() const { return current_; }       // dendrites (or restarts) in the live net
  int committed_steps() const { return committed_; }  // in the best checkpoint
  double best_score() const { return best_; }
  double smoothed_score() const { return ema_; }
  int tries() const { return failed_tries_; }

  nlohmann::json state() const;
  void load_state(const nlohmann::json& j);

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
