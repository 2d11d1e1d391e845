// The switching tracker of the `pb` rules (dendrites.rules "pb"): how Perforated AI's package
// decides when a neuron phase ends, as described in our own words in its issue.
//
// - Cycle best: each cycle (the epochs since the last install) is judged against its own best,
//   and its first epoch always counts as an improvement. A cycle best that also beats the global
//   best saves the best checkpoint and marks the cycle as having set a global best.
// - Switch: after n_epochs_to_switch epochs without a cycle improvement, the best checkpoint is
//   reloaded. A cycle that never set a global best is a failed try; max_dendrite_tries + 1
//   consecutive failed tries end the run.
// - Rate search after each install (plateau scheduler only): the first run starts at the initial
//   rate and lasts until the scheduler has cut it twice; then the post-install checkpoint is
//   reloaded and a run starts one step lower. At that run's first cut (both runs are then at the
//   same rate) the cycle bests are compared and the better run is kept; while the lower start
//   wins, the search goes a step lower again. A run also ends at twice the previous run's length.
// - Veto: no switch until the live rate has been lowered (by lower starts and scheduler cuts
//   together) as many times as the previous neuron phase's rate had been at its switch.
#pragma once
#include "train/tracker.hpp"

namespace dkws {

class PbTracker final : public Tracker {
 public:
  // Lower starts at most this many steps below the initial rate: a safety cap on the search.
  static constexpr int kMaxStartSteps = 4;

  PbTracker(const DendriteSpec& spec, bool rate_search, bool early_stopping = true)
      : spec_(spec), rate_search_(rate_search), early_stopping_(early_stopping) {}

  SwitchDecision observe(double val_score, bool rate_cut) override;
  void restructured(int added) override;

  int growth_steps() const override { return current_; }
  int committed_steps() const override { return committed_; }
  double best_score() const override { return best_; }
  double smoothed_score() const override { return cycle_.ema; }
  double cycle_best() const { return cycle_.best; }
  int tries() const { return failed_tries_; }
  bool searching() const { return stage_ != Stage::kOff; }
  // Times the live rate is below the initial rate, and what the previous phase reached.
  int rate_lowered() const { return cycle_.start_steps + cycle_.run_cuts; }
  int previous_rate_lowered() const { return lowered_prev_; }

  nlohmann::json state() const override;
  void load_state(const nlohmann::json& j) override;

 private:
  // Everything a reload (to the post-install checkpoint or the kept run) puts back.
  struct Cycle {
    double ema = 0;
    bool have_ema = false;
    double best = -1e300;  // so the cycle's first epoch is an improvement
    int since_improve = 0;
    int run_epochs = 0;   // epochs of the live run since its start
    int run_cuts = 0;     // scheduler cuts in the live run
    int start_steps = 0;  // the live run started this many scheduler steps below the initial rate
  };
  enum class Stage { kOff, kFirstRun, kChallenger, kWinnerRuns };

  bool grows() const { return spec_.mode != "none" || spec_.restart_only; }
  bool beats(double score, double best) const;
  // Advances the rate search; true when the caller must reload (d says how).
  bool search_step(SwitchDecision& d);
  static nlohmann::json to_json(const Cycle& c);
  static Cycle cycle_from_json(const nlohmann::json& j);

  DendriteSpec spec_;
  bool rate_search_;
  bool early_stopping_;
  Cycle cycle_, post_install_, kept_;  // kept_: the better run so far, at its comparison point
  Stage stage_ = Stage::kOff;
  int run_limit_ = 0;  // a search run ends after this many epochs even without its cuts
  double best_ = -1e300;
  int current_ = 0;
  int committed_ = 0;
  bool cycle_set_global_ = false;
  int failed_tries_ = 0;
  int lowered_prev_ = 0;     // the previous phase's rate_lowered() at its switch
  int prev_run_epochs_ = 0;  // the previous phase's run length at its switch
};

}  // namespace dkws
