// The sweep analysis proper: per-arm configuration means, frontier, budget table with seed
// bootstrap intervals, hypervolume, and the paired tests between arms, for each size measure.
#include <algorithm>
#include <cmath>
#include <limits>

#include "report/sweep_internal.hpp"

namespace dkws {

using namespace sweep_detail;

namespace {

constexpr double kLowQ = 0.025, kHighQ = 0.975;

Interval percentile_interval(const std::vector<double>& v) {
  if (v.empty()) return {std::nan(""), std::nan("")};
  return {quantile(v, kLowQ), quantile(v, kHighQ)};
}

double frontier_hypervolume(const ArmTable& t, const Means& m, double ref_size, double ref_report) {
  const std::vector<Point> pts = mean_points(t, m);
  std::vector<Point> front;
  for (size_t i : pareto_frontier(pts)) front.push_back(pts[i]);
  return hypervolume(front, ref_size, ref_report);
}

// The replicates of every budget's selected test accuracy and of the hypervolume, over the
// seed-resampling draws. Replicates in which nothing fits a budget are left out of its interval.
struct Replicates {
  std::vector<std::vector<double>> at_budget;
  std::vector<double> hv;
};
Replicates bootstrap(const ArmTable& t, const std::vector<double>& budgets,
                     const std::vector<std::vector<int>>& draws, double ref_size, double ref_rep) {
  Replicates r;
  r.at_budget.resize(budgets.size());
  for (const auto& w : draws) {
    const Means m = config_means(t, w);
    const auto sel = select_budgets(t, m, budgets);
    for (size_t b = 0; b < budgets.size(); ++b)
      if (sel[b] >= 0) r.at_budget[b].push_back(m.report[size_t(sel[b])]);
    if (ref_size > 0) r.hv.push_back(frontier_hypervolume(t, m, ref_size, ref_rep));
  }
  return r;
}

std::vector<BudgetCell> budget_cells(const ArmTable& t, const Means& m,
                                     const std::vector<double>& budgets, const Replicates& reps) {
  std::vector<BudgetCell> out;
  const auto sel = select_budgets(t, m, budgets);
  for (size_t b = 0; b < budgets.size(); ++b) {
    BudgetCell cell;
    if (sel[b] >= 0) {
      const size_t c = size_t(sel[b]);
      cell.feasible = true;
      cell.config_id = t.config_ids[c];
      cell.size = m.size[c], cell.val = m.val[c], cell.test = m.report[c];
      cell.n_seeds = m.n[c];
      cell.ci = percentile_interval(reps.at_budget[b]);
    }
    out.push_back(cell);
  }
  return out;
}

std::vector<int64_t> all_seeds(const std::vector<SweepTrial>& trials) {
  std::vector<int64_t> seeds;
  for (const auto& t : trials) seeds.push_back(t.seed);
  std::sort(seeds.begin(), seeds.end());
  seeds.erase(std::unique(seeds.begin(), seeds.end()), seeds.end());
  return seeds;
}

std::vector<ConfigStats> stats_of(const ArmTable& t, const Means& m,
                                  const std::vector<int64_t>& seeds) {
  std::vector<ConfigStats> out;
  for (size_t c = 0; c < t.config_ids.size(); ++c) {
    if (!m.n[c]) continue;
    ConfigStats s{t.config_ids[c], m.size[c], m.val[c], m.report[c], {}, {}};
    for (size_t k = 0; k < t.n_seeds; ++k)
      if (t.at(c, k).ok) s.seeds.push_back(seeds[k]), s.trial_ids.push_back(t.at(c, k).trial_id);
    out.push_back(std::move(s));
  }
  return out;
}

SizeView build_view(const SweepTrials& st, const std::vector<int64_t>& seeds,
                    const std::string& size_key, const std::string& report_key,
                    const std::vector<double>& extra, const SweepAnalysisOptions& opt) {
  SizeView v;
  v.size_key = size_key, v.report_key = report_key;
  const std::vector<int> ones(seeds.size(), 1);
  std::vector<ArmTable> tables;
  double lo = std::numeric_limits<double>::infinity(), hi = 0, worst = 1;
  for (const auto& arm : st.arms) {
    tables.push_back(arm_table(st.trials, arm, size_key, report_key, seeds));
    const ArmTable& t = tables.back();
    const Means m = config_means(t, ones);
    ArmView av;
    av.arm = arm;
    av.configs = stats_of(t, m, seeds);
    for (const auto& c : av.configs)
      lo = std::min(lo, c.size), hi = std::max(hi, c.size), worst = std::min(worst, c.test);
    for (const auto& cell : t.cells) av.n_done += cell.ok;
    for (const auto& tr : st.trials) av.n_failed += tr.arm == arm && !tr.done();
    v.n_trials += av.n_done;
    v.arms.push_back(std::move(av));
  }
  if (v.n_trials == 0) return v;
  v.budgets = budget_grid(lo, hi, opt.budgets_per_decade, extra);
  // Reference point shared by all arms: the largest budget (every model fits) and the worst
  // configuration's mean accuracy of any arm, so each arm's area measures how far its frontier
  // reaches towards small and accurate.
  v.hv_ref_size = v.budgets.back();
  v.hv_ref_report = worst;
  const auto draws = bootstrap_draws(seeds.size(), opt.bootstrap, opt.seed);
  for (size_t i = 0; i < v.arms.size(); ++i) {
    ArmView& av = v.arms[i];
    const Means m = config_means(tables[i], ones);
    const std::vector<Point> pts = mean_points(tables[i], m);  // same order as av.configs
    av.frontier = pareto_frontier(pts);
    std::sort(av.frontier.begin(), av.frontier.end(),
              [&](size_t x, size_t y) { return pts[x].size < pts[y].size; });
    const Replicates reps = bootstrap(tables[i], v.budgets, draws, v.hv_ref_size, v.hv_ref_report);
    av.budgets = budget_cells(tables[i], m, v.budgets, reps);
    av.hypervolume = frontier_hypervolume(tables[i], m, v.hv_ref_size, v.hv_ref_report);
    av.hypervolume_ci = percentile_interval(reps.hv);
  }
  // Dendritic arms against the baseline and against the warm-restart control, and the control
  // against the baseline (how much of any gain restarts alone explain).
  auto has = [&](const std::string& a) {
    return std::find(st.arms.begin(), st.arms.end(), a) != st.arms.end();
  };
  for (const auto& arm : st.arms) {
    if (arm == "none" || arm == "restart") continue;
    for (const char* base : {"none", "restart"})
      if (has(base))
        v.tests.push_back(paired_budget_test(st.trials, arm, base, size_key, report_key, v.budgets,
                                             opt.permutations, opt.seed));
  }
  if (has("restart") && has("none"))
    v.tests.push_back(paired_budget_test(st.trials, "restart", "none", size_key, report_key,
                                         v.budgets, opt.permutations, opt.seed));
  return v;
}

}  // namespace

std::vector<ConfigStats> aggregate_configs(const std::vector<SweepTrial>& trials,
                                           const std::string& arm, const std::string& size_key,
                                           const std::string& report_key) {
  const auto seeds = all_seeds(trials);
  const ArmTable t = arm_table(trials, arm, size_key, report_key, seeds);
  return stats_of(t, config_means(t, std::vector<int>(seeds.size(), 1)), seeds);
}

BudgetCell select_at_budget(const std::vector<SweepTrial>& trials, const std::string& arm,
                            const std::string& size_key, const std::string& report_key,
                            double budget, const std::vector<int64_t>& seeds, int n_bootstrap,
                            uint64_t rng_seed) {
  const ArmTable t = arm_table(trials, arm, size_key, report_key, seeds);
  const std::vector<double> budgets{budget};
  const auto reps =
      bootstrap(t, budgets, bootstrap_draws(seeds.size(), n_bootstrap, rng_seed), 0, 0);
  return budget_cells(t, config_means(t, std::vector<int>(seeds.size(), 1)), budgets, reps)[0];
}

SweepAnalysis analyse_sweep(const SweepTrials& t, const SweepAnalysisOptions& opt) {
  SweepAnalysis a;
  a.arms = t.arms;
  a.options = opt;
  // The bootstrap resamples the seeds of the design (header order), including seeds whose trials
  // all failed: a draw of only failed seeds leaves that configuration out of the replicate.
  a.seeds = t.seeds;
  std::vector<int64_t> sorted = a.seeds;
  std::sort(sorted.begin(), sorted.end());
  a.params = build_view(t, sorted, "params", "test_acc", opt.extra_budgets, opt);
  bool any_int8 = false, all_int8_acc = true;
  for (const auto& tr : t.trials)
    if (tr.done() && tr.int8_bytes) any_int8 = true, all_int8_acc &= bool(tr.int8_test_acc);
  if (any_int8)
    a.int8 =
        build_view(t, sorted, "int8_bytes", all_int8_acc ? "int8_test_acc" : "test_acc", {}, opt);
  return a;
}

}  // namespace dkws
