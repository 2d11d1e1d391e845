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

// One arm's replicates over the draws: the selected test accuracy at every budget (NaN in a
// replicate where nothing fits) and the frontier's hypervolume. Every arm is replicated over the
// same draws, so replicate r of two arms forms a pair.
struct Replicates {
  std::vector<std::vector<double>> at_budget;  // [budget][replicate]
  std::vector<double> hv;
};
Replicates bootstrap(const ArmTable& t, const std::vector<double>& budgets,
                     const std::vector<Draw>& draws, bool report_is_test, double ref_size,
                     double ref_rep) {
  Replicates r;
  r.at_budget.assign(budgets.size(), {});
  for (const Draw& d : draws) {
    const ArmTable w = reweighted(t, d, report_is_test);
    const Means m = config_means(w, d.seeds);
    const auto sel = select_budgets(w, m, budgets);
    for (size_t b = 0; b < budgets.size(); ++b)
      r.at_budget[b].push_back(sel[b] >= 0 ? m.report[size_t(sel[b])]
                                           : std::numeric_limits<double>::quiet_NaN());
    if (ref_size > 0) r.hv.push_back(frontier_hypervolume(w, m, ref_size, ref_rep));
  }
  return r;
}

std::vector<double> finite(const std::vector<double>& v) {
  std::vector<double> out;
  for (double x : v)
    if (std::isfinite(x)) out.push_back(x);
  return out;
}

// Trials of table row c done in the draw, and those whose final model has >= 1 dendrite.
struct DendriteCount {
  int trials = 0, with = 0;
  double total = 0;
};
DendriteCount dendrites_of(const ArmTable& t, size_t c) {
  DendriteCount n;
  for (size_t s = 0; s < t.n_seeds; ++s) {
    const Cell& x = t.at(c, s);
    if (!x.ok || !x.trial) continue;
    ++n.trials;
    n.with += x.trial->dendrites > 0;
    n.total += x.trial->dendrites;
  }
  return n;
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
      cell.ci = percentile_interval(finite(reps.at_budget[b]));
      const DendriteCount d = dendrites_of(t, c);
      cell.dendrites = d.trials ? d.total / d.trials : 0;
      cell.n_with_dendrites = d.with;
    }
    out.push_back(cell);
  }
  return out;
}

// z_0.975 + z_0.8: a true difference this many standard errors away from 0 is detected by a
// two-sided 5% test with probability 0.8.
constexpr double kMdeFactor = 1.959963984540054 + 0.8416212335729143;

// Two-sided bootstrap p-value for "the difference is 0": twice the smaller tail share at 0. A
// Monte Carlo set counts the observed data as one more replicate on either side (so p > 0); an
// exactly enumerated bootstrap distribution is taken as it is.
double two_sided_p(const std::vector<double>& reps, bool exact) {
  if (reps.empty()) return 1;
  const double below =
      double(std::count_if(reps.begin(), reps.end(), [](double d) { return d <= 0; }));
  const double above =
      double(std::count_if(reps.begin(), reps.end(), [](double d) { return d >= 0; }));
  const double extra = exact ? 0 : 1;
  return std::min(1.0, 2 * (extra + std::min(below, above)) / (extra + double(reps.size())));
}

double std_dev(const std::vector<double>& v) {
  if (v.size() < 2) return 0;
  double mean = 0, ss = 0;
  for (double x : v) mean += x;
  mean /= double(v.size());
  for (double x : v) ss += (x - mean) * (x - mean);
  return std::sqrt(ss / double(v.size() - 1));
}

ArmEffect arm_effect(const SizeView& v, size_t ia, size_t ib, const std::vector<Replicates>& reps,
                     bool exact) {
  const ArmView &a = v.arms[ia], &b = v.arms[ib];
  ArmEffect e;
  e.a = a.arm, e.b = b.arm;
  for (size_t k = 0; k < v.budgets.size(); ++k) {
    if (!a.budgets[k].feasible || !b.budgets[k].feasible) continue;
    std::vector<double> d;
    const auto &ra = reps[ia].at_budget[k], &rb = reps[ib].at_budget[k];
    for (size_t r = 0; r < ra.size(); ++r)
      if (std::isfinite(ra[r]) && std::isfinite(rb[r])) d.push_back(ra[r] - rb[r]);
    e.budgets.push_back(v.budgets[k]);
    e.diff.push_back(a.budgets[k].test - b.budgets[k].test);
    e.ci.push_back(percentile_interval(d));
    e.se.push_back(std_dev(d));
    e.p.push_back(two_sided_p(d, exact));
    e.mde.push_back(e.se.back() > 1e-12 ? kMdeFactor * e.se.back()
                                        : std::numeric_limits<double>::quiet_NaN());
  }
  std::vector<double> hv;
  for (size_t r = 0; r < reps[ia].hv.size() && r < reps[ib].hv.size(); ++r)
    hv.push_back(reps[ia].hv[r] - reps[ib].hv[r]);
  e.hv_diff = a.hypervolume - b.hypervolume;
  e.hv_ci = percentile_interval(hv);
  e.hv_p = two_sided_p(hv, exact);
  return e;
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
  const ClipDesign design = clip_design(st.trials);
  const bool report_is_test = report_key == "test_acc";
  v.clip_resampling = design.usable;
  v.resampling = design.usable && !report_is_test
                     ? design.note + " (validation clips only: int8 results are not kept per clip)"
                     : design.note;
  const auto draws = resample_draws(seeds.size(), design, opt.bootstrap, opt.seed);
  v.n_replicates = int(draws.size());
  std::vector<Replicates> reps;
  for (size_t i = 0; i < v.arms.size(); ++i) {
    ArmView& av = v.arms[i];
    const Means m = config_means(tables[i], ones);
    const std::vector<Point> pts = mean_points(tables[i], m);  // same order as av.configs
    av.frontier = pareto_frontier(pts);
    std::sort(av.frontier.begin(), av.frontier.end(),
              [&](size_t x, size_t y) { return pts[x].size < pts[y].size; });
    for (size_t f : av.frontier) {
      const auto row = std::lower_bound(tables[i].config_ids.begin(), tables[i].config_ids.end(),
                                        av.configs[f].config_id);
      const DendriteCount d = dendrites_of(tables[i], size_t(row - tables[i].config_ids.begin()));
      av.frontier_trials += d.trials, av.frontier_trials_with_dendrites += d.with;
    }
    reps.push_back(
        bootstrap(tables[i], v.budgets, draws, report_is_test, v.hv_ref_size, v.hv_ref_report));
    av.budgets = budget_cells(tables[i], m, v.budgets, reps.back());
    av.hypervolume = frontier_hypervolume(tables[i], m, v.hv_ref_size, v.hv_ref_report);
    av.hypervolume_ci = percentile_interval(reps.back().hv);
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
  auto index = [&](const std::string& arm) {
    return size_t(std::find(st.arms.begin(), st.arms.end(), arm) - st.arms.begin());
  };
  // Seed-only draws are the whole bootstrap distribution when S^S fits in the replicate count.
  const bool exact = !design.usable &&
                     std::pow(double(seeds.size()), double(seeds.size())) <= double(opt.bootstrap);
  for (const PairTest& t : v.tests)
    v.effects.push_back(arm_effect(v, index(t.a), index(t.b), reps, exact));
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
  const auto draws = resample_draws(seeds.size(), clip_design(trials), n_bootstrap, rng_seed);
  const auto reps = bootstrap(t, budgets, draws, report_key == "test_acc", 0, 0);
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
