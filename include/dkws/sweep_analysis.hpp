// Statistics over a finished (or running) sweep's trials (SWEEP_DIR/trials.json): per-arm
// configuration means over seeds, the validation-selected Pareto frontier of test accuracy against
// model size, the best configuration per size budget with bootstrap intervals over seeds, a paired
// intersection-union test of "arm A beats arm B at every budget", and hypervolume per arm.
#pragma once
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace dkws {

// Per-clip correctness of a trial's final model on one split, as `dkws sweep` records it: bit i
// (least significant first within each byte, base64) set when clip i was classified correctly.
struct ClipBits {
  size_t n = 0;
  std::string set;              // fingerprint of the clips and their order
  std::string encoded;          // base64, as recorded
  std::vector<uint64_t> words;  // bit i % 64 of words[i / 64]: clip i correct
  size_t correct() const;
};
// Decodes a record {"n", "set", "correct"}; bad input is a dkws::Error naming `where`.
ClipBits parse_clip_bits(const nlohmann::json& j, const std::string& where);

// One row of trials.json (the format sweep-core writes; see the sweep's README section).
struct SweepTrial {
  int64_t trial_id = 0, config_id = 0, seed = 0;
  std::string arm, status, error, run_dir;
  nlohmann::json hparams = nlohmann::json::object();
  double val_acc = 0, test_acc = 0;
  double params = 0, params_base = 0;
  int dendrites = 0, epochs = 0, attempts = 0;
  int round = -1;  // the TPE round that proposed the config; -1 for other samplers
  double train_seconds = 0;
  std::optional<double> int8_bytes, int8_test_acc;
  std::optional<ClipBits> val_clips, test_clips;  // absent in sweeps recorded before they were kept
  bool done() const { return status == "done"; }
};

struct SweepTrials {
  nlohmann::json sweep = nlohmann::json::object();  // the "sweep" header, verbatim
  std::vector<SweepTrial> trials;
  std::vector<std::string> arms;  // header order, then any arm seen only in trials
  std::vector<int64_t> seeds;     // header order, then any seed seen only in trials
};

// Reads and checks SWEEP_DIR/trials.json; a missing key or wrong type is a dkws::Error naming the
// file, the trial and the key.
SweepTrials load_sweep_trials(const std::filesystem::path& trials_json);
SweepTrials parse_sweep_trials(const nlohmann::json& doc, const std::string& where);

// ---- primitives (exposed for tests) ----

// Quantile with linear interpolation between order statistics (R type 7, numpy's default).
double quantile(std::vector<double> v, double q);

struct Point {
  double size = 0, select = 0,
         report = 0;  // size (params or bytes), selection score, reported score
  int64_t id = 0;
};
// Indices of the validation-selected frontier: sorted by size, a point is kept when its `select`
// beats every point of smaller or equal size (ties: smaller size, then smaller id wins). These are
// exactly the points "best select among size <= budget" picks for some budget.
std::vector<size_t> pareto_frontier(const std::vector<Point>& pts);

// Area dominated by the points in (log10 size, report) space, minimising size and maximising
// report, bounded by the reference point (log10 ref_size, ref_report). Points beyond it add
// nothing.
double hypervolume(const std::vector<Point>& pts, double ref_size, double ref_report);

// ---- the analysis ----

struct SweepAnalysisOptions {
  int bootstrap = 2000;     // replicates; exact enumeration instead when seeds^seeds <= this
  int permutations = 2000;  // sign-flip draws; exact enumeration when 2^cells <= this
  uint64_t seed = 1;        // RNG seed for both: the analysis is deterministic
  std::vector<double> extra_budgets = {1500, 4000};  // the paper's budgets (parameter view only)
  int budgets_per_decade = 4;  // log-spaced grid 10^(k/4), rounded to 2 significant digits
};

// A configuration of one arm: its done trials' mean over seeds.
struct ConfigStats {
  int64_t config_id = 0;
  double size = 0, val = 0, test = 0;  // means over the done seeds
  std::vector<int64_t> seeds;          // the done seeds
  std::vector<int64_t> trial_ids;
};

struct Interval {
  double lo = 0, hi = 0;
};

struct BudgetCell {
  bool feasible = false;  // some configuration of the arm fits the budget
  int64_t config_id = 0;
  double size = 0, val = 0, test = 0;
  int n_seeds = 0;
  Interval ci;               // bootstrap 95% percentile interval of the selected test accuracy
  double dendrites = 0;      // mean final dendrite count of the pick's trials
  int n_with_dendrites = 0;  // of its trials, those whose final model has >= 1 dendrite
};

// Arm a minus arm b under the same bootstrap draws (seeds and, when recorded, clips; selection
// redone in every replicate). Per budget: the difference of the picked test accuracies with its
// percentile interval, two-sided bootstrap p-value and standard error, and the minimum detectable
// difference at 80% power and two-sided 5% level, (z_0.975 + z_0.8) x SE (NaN when the
// difference does not vary: both arms pick runs with identical results). Pooled over budgets:
// the hypervolume difference with its interval and p-value.
struct ArmEffect {
  std::string a, b;
  std::vector<double> budgets, diff, se, p, mde;
  std::vector<Interval> ci;
  double hv_diff = 0, hv_p = 1;
  Interval hv_ci;
};

struct PairTest {
  std::string a, b;  // H1: a beats b at every tested budget
  std::vector<double> budgets;
  std::vector<double> diff;  // test(a) - test(b) of the selected configurations, per budget
  std::vector<double> p;     // one-sided sign-flip p-value per budget
  double p_all = 1;          // intersection-union p-value: max over budgets
  int n_cells = 0;           // paired (config_id, seed) cells used
  double min_p = 1;          // smallest p-value the test can produce with this many cells
  bool exact = false;        // all sign patterns enumerated
};

struct ArmView {
  std::string arm;
  std::vector<ConfigStats> configs;  // sorted by config_id
  std::vector<size_t> frontier;      // indices into configs, by increasing size
  std::vector<BudgetCell> budgets;   // one per SizeView::budgets
  double hypervolume = 0;
  Interval hypervolume_ci;
  int n_done = 0, n_failed = 0;
  // The trials of the frontier's configurations, and those whose final model has >= 1 dendrite.
  int frontier_trials = 0, frontier_trials_with_dendrites = 0;
  double frontier_dendrite_share() const {
    return frontier_trials ? double(frontier_trials_with_dendrites) / frontier_trials : 0;
  }
};

// The frontier/budget/test analysis over one size measure (parameters or int8 bytes).
struct SizeView {
  std::string size_key;    // "params" or "int8_bytes"
  std::string report_key;  // "test_acc" or "int8_test_acc"
  std::vector<double> budgets;
  std::vector<ArmView> arms;
  std::vector<PairTest> tests;
  std::vector<ArmEffect> effects;  // the same pairs as `tests`
  bool clip_resampling = false;    // intervals resample test clips as well as seeds
  std::string resampling;          // what the intervals resample, as a sentence
  int n_replicates = 0;
  double hv_ref_size = 0, hv_ref_report = 0;
  int n_trials = 0;  // done trials that carry this size measure
};

struct SweepAnalysis {
  std::vector<std::string> arms;
  std::vector<int64_t> seeds;
  SizeView params;
  std::optional<SizeView> int8;  // absent when no done trial carries int8_bytes
  SweepAnalysisOptions options;
};

// Log-spaced budgets covering [lo, hi]: 10^(k/per_decade) rounded to 2 significant digits, from the
// smallest one >= lo (where the smallest model first fits) to the smallest one >= hi (where every
// model fits), plus `extra`; sorted, de-duplicated.
std::vector<double> budget_grid(double lo, double hi, int per_decade,
                                const std::vector<double>& extra);

// Per-arm configuration means of the done trials carrying the size measure.
std::vector<ConfigStats> aggregate_configs(const std::vector<SweepTrial>& trials,
                                           const std::string& arm, const std::string& size_key,
                                           const std::string& report_key);

// The best-mean-validation configuration with size <= budget, with a bootstrap interval over
// seeds: each replicate draws len(seeds) seeds with replacement (the same draw for every
// configuration), recomputes every configuration's means over its done seeds in the draw and
// repeats the selection. With seeds^seeds <= B the distribution is enumerated exactly.
BudgetCell select_at_budget(const std::vector<SweepTrial>& trials, const std::string& arm,
                            const std::string& size_key, const std::string& report_key,
                            double budget, const std::vector<int64_t>& seeds, int bootstrap,
                            uint64_t rng_seed);

// Paired intersection-union test of H1 "a beats b at every budget" (see sweep_tests.cpp).
PairTest paired_budget_test(const std::vector<SweepTrial>& trials, const std::string& a,
                            const std::string& b, const std::string& size_key,
                            const std::string& report_key, const std::vector<double>& budgets,
                            int permutations, uint64_t rng_seed);

SweepAnalysis analyse_sweep(const SweepTrials& t, const SweepAnalysisOptions& opt);

nlohmann::json analysis_json(const SweepAnalysis& a);

}  // namespace dkws
