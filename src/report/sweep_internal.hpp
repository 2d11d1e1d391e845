// Internal to the sweep analysis: one arm's trials as a configuration x seed table, selection at
// budgets under seed weights (the building block of the bootstrap and of the permutation test).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "dkws/sweep_analysis.hpp"

namespace dkws::sweep_detail {

struct Cell {
  bool ok = false;
  double size = 0, val = 0, report = 0;
  int64_t trial_id = 0;
  const SweepTrial* trial = nullptr;  // the trial behind the cell (its clips and dendrites)
};

// Rows are the arm's configurations (sorted by config_id), columns the sweep's seeds.
struct ArmTable {
  std::vector<int64_t> config_ids;
  size_t n_seeds = 0;
  std::vector<Cell> cells;  // row-major
  Cell& at(size_t c, size_t s) { return cells[c * n_seeds + s]; }
  const Cell& at(size_t c, size_t s) const { return cells[c * n_seeds + s]; }
};

// Done trials of `arm` that carry the size and report measures. `config_ids` fixes the rows when
// non-empty (so two arms can share rows); otherwise every configuration seen in the arm.
ArmTable arm_table(const std::vector<SweepTrial>& trials, const std::string& arm,
                   const std::string& size_key, const std::string& report_key,
                   const std::vector<int64_t>& seeds, const std::vector<int64_t>& config_ids = {});

// Per-configuration means over the seeds, seed s counted weight[s] times; n = 0 marks a
// configuration with no done seed in the draw.
struct Means {
  std::vector<double> size, val, report;
  std::vector<int> n;
};
Means config_means(const ArmTable& t, const std::vector<int>& weight);

// For each budget, the index of the configuration with the best mean validation accuracy among
// those with mean size <= budget (ties: smaller size, then smaller config_id), or -1 if none fits.
std::vector<int> select_budgets(const ArmTable& t, const Means& m,
                                const std::vector<double>& budgets);

// The frontier of the means as Points (id = config_id), for pareto_frontier/hypervolume.
std::vector<Point> mean_points(const ArmTable& t, const Means& m);

// Every seed-resampling draw as weights: all len^len ordered draws when that is <= max_draws
// (exact bootstrap), else max_draws draws from a fixed-seed generator.
std::vector<std::vector<int>> bootstrap_draws(size_t n_seeds, int max_draws, uint64_t seed);

// ---- resampling test clips as well as seeds (sweep_resample.cpp) ----

// One split's clip draw in a replicate, as layers: layer k marks the clips drawn more than k
// times, so the weighted count of correct clips is a sum of popcounts of (bits & layer).
struct ClipDraw {
  std::vector<std::vector<uint64_t>> layers;
};
double weighted_share(const ClipBits& bits, const ClipDraw& d);

// A bootstrap replicate: how often each seed is drawn and, when the sweep recorded per-clip
// results, the clip draws of the validation and test sets (the same for every trial and arm).
struct Draw {
  std::vector<int> seeds;
  bool clips = false;
  ClipDraw val, test;
};

// Whether every done trial carries per-clip records on one common validation set and one common
// test set (then clips are resampled too); if not, a sentence saying why.
struct ClipDesign {
  bool usable = false;
  size_t n_val = 0, n_test = 0;
  std::string note;
};
ClipDesign clip_design(const std::vector<SweepTrial>& trials);

// The replicates: with clips, max_draws draws of seeds and clips together from a generator seeded
// with `seed`; without, bootstrap_draws of the seeds alone (exact when small enough).
std::vector<Draw> resample_draws(size_t n_seeds, const ClipDesign& design, int max_draws,
                                 uint64_t seed);

// The table with every cell's validation accuracy (and test accuracy, when it is the reported
// measure) recomputed over the replicate's clip draw; unchanged when the draw has no clips.
ArmTable reweighted(const ArmTable& t, const Draw& d, bool report_is_test);

}  // namespace dkws::sweep_detail
