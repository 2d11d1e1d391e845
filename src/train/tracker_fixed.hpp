// The fixed-switch tracker (dendrites.switch_mode "fixed", PerforatedAI's fixed-switch mode): the
// neuron phase switches every switch_every epochs, whatever the validation score does, so every
// arm of a matched comparison trains the same number of epochs.
//
// - gd and cc restructure (add a dendrite) at each of max_dendrites switches, restart restarts
//   there; the run completes after switch_every * (max_dendrites + 1) neuron-phase epochs. Mode
//   none trains those epochs straight through: no switch and no early stop.
// - The best checkpoint is the best of the current cycle (the epochs since the last switch), so a
//   switch reverts to the best weights of the structure just trained, and the run ends holding the
//   best checkpoint of the final structure: the dendrites a switch added are never discarded.
// - Neither rule set's improvement thresholds, retries nor rate search apply; rules pb still
//   decides how dendrites are trained (candidates_pb, error means, update mode).
#pragma once
#include "train/tracker.hpp"

namespace dkws {

class FixedTracker final : public Tracker {
 public:
  explicit FixedTracker(const DendriteSpec& spec) : spec_(spec) {}

  SwitchDecision observe(double val_score, bool rate_cut) override;
  void restructured(int added) override;

  int growth_steps() const override { return switches_; }
  int committed_steps() const override { return switches_; }
  double best_score() const override { return best_; }
  double smoothed_score() const override { return ema_; }
  // Neuron-phase epochs the whole schedule takes, the same in every arm.
  int total_epochs() const { return spec_.switch_every * (spec_.max_dendrites + 1); }

  nlohmann::json state() const override;
  void load_state(const nlohmann::json& j) override;

 private:
  bool grows() const { return spec_.mode != "none" || spec_.restart_only; }

  DendriteSpec spec_;
  double best_ = -1e300;  // of the current cycle
  double ema_ = 0;
  bool have_ema_ = false;
  int cycle_epochs_ = 0;
  int switches_ = 0;
};

}  // namespace dkws
