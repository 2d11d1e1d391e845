// The paired test of "arm A beats arm B at every parameter budget".
//
// Design. Every sampled configuration runs in every arm with the same seeds, so the unit of
// pairing is a cell (config_id, seed) holding one trial of A and one of B. Only cells done in both
// arms enter the test.
//
// Statistic. At budget b each arm picks, among its configurations whose mean size over seeds is
// <= b, the one with the best mean validation accuracy, and reports its mean test accuracy;
// T_b = test_A - test_B. Selection happens inside the statistic, so the test judges the whole
// "search, select on validation, report on test" procedure, not a hand-picked pair of models.
//
// Per-budget p-value (one-sided sign-flip permutation). Under the null that the arm label does
// not matter, A's and B's trials in a cell are exchangeable, independently across cells (distinct
// cells are distinct training runs). Swapping A and B in any subset of cells and recomputing T_b
// (selection included) then draws from T_b's null distribution; p_b is the share of sign patterns
// with T_b >= the observed value. All 2^cells patterns are enumerated when that is at most
// `permutations` (then p_b >= 2^-cells, and identical arms give p_b = 1); otherwise `permutations`
// random patterns from a fixed-seed generator give p_b = (1 + hits) / (1 + permutations). A
// pattern under which an arm has no configuration within b counts as a hit (conservative).
//
// Combining budgets (intersection-union test). H1 "A beats B at every budget" is the intersection
// of the per-budget alternatives, so its null is the union of the per-budget nulls. Rejecting it at
// level alpha when every per-budget test rejects at alpha is a level-alpha test with no
// multiplicity correction (Berger 1982), and its p-value is p_all = max_b p_b. The price is that
// the weakest budget decides. Budgets at which either arm has no configuration that fits (in the
// observed data) are left out, which is generous to the claim and reported as such.
#include <algorithm>
#include <cmath>
#include <limits>

#include "dkws/rng.hpp"
#include "report/sweep_internal.hpp"

namespace dkws {

using namespace sweep_detail;

namespace {

// T_b for every budget in `budgets`; NaN where an arm has nothing within the budget.
std::vector<double> statistic(const ArmTable& a, const ArmTable& b,
                              const std::vector<double>& budgets) {
  const std::vector<int> ones(a.n_seeds, 1);
  const Means ma = config_means(a, ones), mb = config_means(b, ones);
  const auto sa = select_budgets(a, ma, budgets), sb = select_budgets(b, mb, budgets);
  std::vector<double> t(budgets.size(), std::numeric_limits<double>::quiet_NaN());
  for (size_t i = 0; i < budgets.size(); ++i)
    if (sa[i] >= 0 && sb[i] >= 0) t[i] = ma.report[size_t(sa[i])] - mb.report[size_t(sb[i])];
  return t;
}

}  // namespace

PairTest paired_budget_test(const std::vector<SweepTrial>& trials, const std::string& arm_a,
                            const std::string& arm_b, const std::string& size_key,
                            const std::string& report_key, const std::vector<double>& budgets,
                            int permutations, uint64_t rng_seed) {
  PairTest out;
  out.a = arm_a, out.b = arm_b;
  std::vector<int64_t> seeds;
  for (const auto& t : trials) seeds.push_back(t.seed);
  std::sort(seeds.begin(), seeds.end());
  seeds.erase(std::unique(seeds.begin(), seeds.end()), seeds.end());
  // Shared rows: the configurations both arms ran, then keep only cells done in both.
  ArmTable a = arm_table(trials, arm_a, size_key, report_key, seeds);
  ArmTable b = arm_table(trials, arm_b, size_key, report_key, seeds);
  std::vector<int64_t> rows;
  std::set_intersection(a.config_ids.begin(), a.config_ids.end(), b.config_ids.begin(),
                        b.config_ids.end(), std::back_inserter(rows));
  a = arm_table(trials, arm_a, size_key, report_key, seeds, rows);
  b = arm_table(trials, arm_b, size_key, report_key, seeds, rows);
  std::vector<size_t> cells;
  for (size_t k = 0; k < a.cells.size(); ++k) {
    const bool both = a.cells[k].ok && b.cells[k].ok;
    a.cells[k].ok = b.cells[k].ok = both;
    if (both) cells.push_back(k);
  }
  out.n_cells = int(cells.size());

  const std::vector<double> observed = statistic(a, b, budgets);
  for (size_t i = 0; i < budgets.size(); ++i)
    if (!std::isnan(observed[i]))
      out.budgets.push_back(budgets[i]), out.diff.push_back(observed[i]);
  if (out.budgets.empty()) return out;  // nothing comparable: p_all stays 1

  std::vector<long> hits(out.budgets.size(), 0);
  auto count = [&](const std::vector<bool>& flip) {
    ArmTable pa = a, pb = b;
    for (size_t i = 0; i < cells.size(); ++i)
      if (flip[i]) std::swap(pa.cells[cells[i]], pb.cells[cells[i]]);
    const std::vector<double> t = statistic(pa, pb, out.budgets);
    for (size_t i = 0; i < t.size(); ++i)
      if (std::isnan(t[i]) || t[i] >= out.diff[i] - 1e-12) ++hits[i];
  };
  const double patterns = std::pow(2.0, double(cells.size()));
  out.exact = patterns <= double(std::max(permutations, 1));
  std::vector<bool> flip(cells.size(), false);
  double denom;
  if (out.exact) {
    for (size_t k = 0; k < size_t(patterns); ++k) {
      for (size_t i = 0; i < cells.size(); ++i) flip[i] = (k >> i) & 1;
      count(flip);
    }
    denom = patterns;
    out.min_p = 1 / patterns;
  } else {
    Rng rng(rng_seed);
    for (int k = 0; k < permutations; ++k) {
      for (size_t i = 0; i < cells.size(); ++i) flip[i] = rng.next_u64() >> 63;
      count(flip);
    }
    for (auto& h : hits) ++h;  // the observed pattern itself
    denom = permutations + 1.0;
    out.min_p = 1 / denom;
  }
  out.p_all = 0;
  for (long h : hits) {
    out.p.push_back(double(h) / denom);
    out.p_all = std::max(out.p_all, out.p.back());
  }
  return out;
}

}  // namespace dkws
