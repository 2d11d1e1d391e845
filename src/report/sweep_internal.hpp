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

}  // namespace dkws::sweep_detail
