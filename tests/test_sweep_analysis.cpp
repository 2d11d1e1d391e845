// The sweep analysis against hand-computed values: frontier, hypervolume, budget grid, budget
// selection and its bootstrap interval (exact and Monte Carlo, against brute-force enumeration),
// the paired intersection-union test, and trials.json validation.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "dkws/error.hpp"
#include "dkws/sweep_analysis.hpp"

namespace dkws {
namespace {

using nlohmann::json;

SweepTrial trial(int64_t id, int64_t config, const std::string& arm, int64_t seed, double params,
                 double val, double test) {
  SweepTrial t;
  t.trial_id = id, t.config_id = config, t.arm = arm, t.seed = seed;
  t.status = "done";
  t.params = params, t.val_acc = val, t.test_acc = test;
  return t;
}

TEST(SweepStats, QuantileInterpolatesLikeNumpy) {
  EXPECT_DOUBLE_EQ(quantile({4, 1, 3, 2}, 0.25), 1.75);
  EXPECT_DOUBLE_EQ(quantile({4, 1, 3, 2}, 0.5), 2.5);
  EXPECT_DOUBLE_EQ(quantile({5}, 0.975), 5);
  EXPECT_DOUBLE_EQ(quantile({1, 2}, 1.0), 2);
}

TEST(SweepStats, ParetoFrontierIsSelectedOnValidation) {
  // (size, val, test, id). Sorted by size: F(50,.60) A(100,.70) C(200,.75) B(200,.65) D(300,.75)
  // E(400,.80). D only ties C's validation accuracy, B loses the size tie to C.
  const std::vector<Point> pts = {{100, 0.70, 0.1, 0}, {200, 0.65, 0.9, 1}, {200, 0.75, 0.2, 2},
                                  {300, 0.75, 0.3, 3}, {400, 0.80, 0.4, 4}, {50, 0.60, 0.5, 5}};
  EXPECT_EQ(pareto_frontier(pts), (std::vector<size_t>{5, 0, 2, 4}));
  EXPECT_TRUE(pareto_frontier({}).empty());
}

TEST(SweepStats, HypervolumeOfThreePoints) {
  // log10 sizes 1, 2, 3 with accuracies .7, .9, .95; reference (10^4, .5):
  // (2-1)*.2 + (3-2)*.4 + (4-3)*.45 = 1.05.
  std::vector<Point> pts = {{10, 0, 0.7, 0}, {100, 0, 0.9, 1}, {1000, 0, 0.95, 2}};
  EXPECT_NEAR(hypervolume(pts, 1e4, 0.5), 1.05, 1e-12);
  pts.push_back({50, 0, 0.6, 3});    // dominated by (10, .7): no change
  pts.push_back({1e5, 0, 0.99, 4});  // beyond the reference size: no change
  pts.push_back({20, 0, 0.4, 5});    // below the reference accuracy: no change
  EXPECT_NEAR(hypervolume(pts, 1e4, 0.5), 1.05, 1e-12);
  EXPECT_EQ(hypervolume({}, 1e4, 0.5), 0);
}

TEST(SweepStats, BudgetGridIsLogSpacedWithThePapersBudgets) {
  // 10^(k/4): 562 -> 560 (< 600, dropped), 1000, 1778 -> 1800, 3162 -> 3200, 5623 -> 5600 (>=
  // 5000).
  EXPECT_EQ(budget_grid(600, 5000, 4, {1500, 4000}),
            (std::vector<double>{1000, 1500, 1800, 3200, 4000, 5600}));
  EXPECT_EQ(budget_grid(1000, 1000, 4, {}), (std::vector<double>{1000}));
  EXPECT_EQ(budget_grid(1000, 1000, 4, {1000}), (std::vector<double>{1000}));
}

// Arm "none", seeds 1 and 2. Means: c1 (1000 params) val .71 test .70; c2 (1400) val .79 test .76;
// c3 (3000) val .85 test .85; c4 (1600) val .75 test .75 but seed 1 alone gives val .90 test .90.
std::vector<SweepTrial> four_configs() {
  return {trial(1, 1, "none", 1, 1000, 0.70, 0.69), trial(2, 1, "none", 2, 1000, 0.72, 0.71),
          trial(3, 2, "none", 1, 1400, 0.80, 0.75), trial(4, 2, "none", 2, 1400, 0.78, 0.77),
          trial(5, 3, "none", 1, 3000, 0.85, 0.86), trial(6, 3, "none", 2, 3000, 0.85, 0.84),
          trial(7, 4, "none", 1, 1600, 0.90, 0.90), trial(8, 4, "none", 2, 1600, 0.60, 0.60)};
}

TEST(SweepAnalysis, AggregatesConfigurationsOverSeeds) {
  auto trials = four_configs();
  trials.push_back(trial(9, 5, "none", 1, 500, 0.5, 0.5));
  trials.back().status = "failed";  // failed trials never count
  const auto c = aggregate_configs(trials, "none", "params", "test_acc");
  ASSERT_EQ(c.size(), 4u);
  EXPECT_EQ(c[1].config_id, 2);
  EXPECT_NEAR(c[1].val, 0.79, 1e-12);
  EXPECT_NEAR(c[1].test, 0.76, 1e-12);
  EXPECT_EQ(c[1].seeds, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(c[1].trial_ids, (std::vector<int64_t>{3, 4}));
}

TEST(SweepAnalysis, BudgetPicksBestValidationWithinBudget) {
  const auto trials = four_configs();
  const std::vector<int64_t> seeds = {1, 2};
  auto at = [&](double b) {
    return select_at_budget(trials, "none", "params", "test_acc", b, seeds, 2000, 1);
  };
  EXPECT_FALSE(at(900).feasible);
  EXPECT_EQ(at(1200).config_id, 1);
  EXPECT_EQ(at(1500).config_id, 2);
  EXPECT_EQ(at(1600).config_id, 2);  // c4 fits but its mean validation .75 < .79
  const BudgetCell c = at(5000);
  EXPECT_EQ(c.config_id, 3);
  EXPECT_NEAR(c.test, 0.85, 1e-12);
  EXPECT_EQ(c.n_seeds, 2);
}

TEST(SweepAnalysis, ExactBootstrapRepeatsSelectionInEveryDraw) {
  const auto trials = four_configs();
  const std::vector<int64_t> seeds = {1, 2};
  // Budget 1500, the 4 ordered draws: (1,1) picks c2 -> .75, (2,2) c2 -> .77, mixed c2 -> .76
  // twice. Type-7 quantiles of {.75,.76,.76,.77}: .75 + .075*.01 and .76 + .925*.01.
  BudgetCell c = select_at_budget(trials, "none", "params", "test_acc", 1500, seeds, 2000, 1);
  EXPECT_NEAR(c.ci.lo, 0.75075, 1e-12);
  EXPECT_NEAR(c.ci.hi, 0.76925, 1e-12);
  // Budget 5000: draw (1,1) picks c4 (val .90) -> .90, (2,2) c3 -> .84, mixed c3 -> .85 twice.
  c = select_at_budget(trials, "none", "params", "test_acc", 5000, seeds, 2000, 1);
  EXPECT_NEAR(c.ci.lo, 0.84 + 0.075 * 0.01, 1e-12);
  EXPECT_NEAR(c.ci.hi, 0.85 + 0.925 * 0.05, 1e-12);
}

TEST(SweepAnalysis, ZeroVarianceGivesZeroWidthInterval) {
  std::vector<SweepTrial> trials;
  for (int64_t s = 1; s <= 6; ++s) trials.push_back(trial(s, 1, "none", s, 1000, 0.8, 0.77));
  const std::vector<int64_t> seeds = {1, 2, 3, 4, 5, 6};
  const BudgetCell c = select_at_budget(trials, "none", "params", "test_acc", 2000, seeds, 500, 3);
  EXPECT_NEAR(c.ci.lo, 0.77, 1e-12);
  EXPECT_NEAR(c.ci.hi, 0.77, 1e-12);
}

// The bootstrap distribution of a mean by brute force: every ordered draw of n from the values.
std::vector<double> brute_force_means(const std::vector<double>& v) {
  const size_t n = v.size();
  size_t total = 1;
  for (size_t i = 0; i < n; ++i) total *= n;
  std::vector<double> out;
  for (size_t k = 0; k < total; ++k) {
    double sum = 0;
    size_t code = k;
    for (size_t i = 0; i < n; ++i, code /= n) sum += v[code % n];
    out.push_back(sum / double(n));
  }
  return out;
}

TEST(SweepAnalysis, BootstrapMatchesBruteForceEnumeration) {
  const std::vector<double> four = {0.70, 0.74, 0.79, 0.85};
  std::vector<SweepTrial> trials;
  std::vector<int64_t> seeds;
  for (size_t s = 0; s < four.size(); ++s) {
    trials.push_back(trial(int64_t(s), 1, "none", int64_t(s + 1), 1000, 0.8, four[s]));
    seeds.push_back(int64_t(s + 1));
  }
  const auto all = brute_force_means(four);  // 256 draws: enumerated exactly by the analysis too
  BudgetCell c = select_at_budget(trials, "none", "params", "test_acc", 2000, seeds, 2000, 1);
  EXPECT_NEAR(c.ci.lo, quantile(all, 0.025), 1e-12);
  EXPECT_NEAR(c.ci.hi, quantile(all, 0.975), 1e-12);

  // Six seeds: 46656 draws, more than the 20000 Monte Carlo draws the analysis takes.
  const std::vector<double> six = {0.70, 0.72, 0.75, 0.78, 0.80, 0.86};
  trials.clear(), seeds.clear();
  for (size_t s = 0; s < six.size(); ++s) {
    trials.push_back(trial(int64_t(s), 1, "none", int64_t(s + 1), 1000, 0.8, six[s]));
    seeds.push_back(int64_t(s + 1));
  }
  const auto all6 = brute_force_means(six);
  c = select_at_budget(trials, "none", "params", "test_acc", 2000, seeds, 20000, 1);
  EXPECT_NEAR(c.ci.lo, quantile(all6, 0.025), 0.002);
  EXPECT_NEAR(c.ci.hi, quantile(all6, 0.975), 0.002);
  EXPECT_LT(c.ci.lo, c.ci.hi);
}

// Arm b is arm a shifted by `delta` in validation and test accuracy, same sizes.
std::vector<SweepTrial> two_arms(int configs, int seeds, double delta) {
  std::vector<SweepTrial> t;
  int64_t id = 0;
  for (int c = 0; c < configs; ++c)
    for (int s = 1; s <= seeds; ++s) {
      const double acc = 0.6 + 0.02 * c + 0.01 * std::sin(7.0 * c + s);
      t.push_back(trial(id++, c, "b", s, 500 + 200 * c, acc, acc));
      t.push_back(trial(id++, c, "a", s, 500 + 200 * c, acc + delta, acc + delta));
    }
  return t;
}

TEST(SweepPairedTest, IdenticalArmsGivePOne) {
  const auto t = two_arms(6, 4, 0.0);
  const PairTest r =
      paired_budget_test(t, "a", "b", "params", "test_acc", {600, 1000, 2000}, 2000, 1);
  ASSERT_EQ(r.budgets.size(), 3u);
  for (double d : r.diff) EXPECT_EQ(d, 0);
  EXPECT_GE(r.p_all, 0.5);
  EXPECT_DOUBLE_EQ(r.p_all, 1.0);
}

TEST(SweepPairedTest, ClearlyBetterArmGivesSmallP) {
  const auto t = two_arms(6, 8, 0.05);
  const PairTest r =
      paired_budget_test(t, "a", "b", "params", "test_acc", {600, 1000, 2000}, 2000, 1);
  EXPECT_EQ(r.n_cells, 48);
  EXPECT_FALSE(r.exact);
  for (double d : r.diff) EXPECT_NEAR(d, 0.05, 1e-12);
  // At budget 600 only configuration 0 fits: all 8 of its cells must stay unflipped to reach
  // +0.05, probability 1/256, so p is about 0.004 there.
  EXPECT_LT(r.p_all, 0.02);
  EXPECT_DOUBLE_EQ(r.min_p, 1.0 / 2001);
  // The reverse claim has no support.
  const PairTest rev =
      paired_budget_test(t, "b", "a", "params", "test_acc", {600, 1000, 2000}, 2000, 1);
  EXPECT_GT(rev.p_all, 0.99);
}

TEST(SweepPairedTest, ExactEnumerationWithFewCells) {
  // One configuration, three seeds, a ahead in every cell: only the identity pattern reaches the
  // observed +0.05, so p = 1/8 exactly, which is also the smallest possible p.
  const auto t = two_arms(1, 3, 0.05);
  const PairTest r = paired_budget_test(t, "a", "b", "params", "test_acc", {1000}, 2000, 1);
  EXPECT_TRUE(r.exact);
  EXPECT_EQ(r.n_cells, 3);
  EXPECT_DOUBLE_EQ(r.p_all, 0.125);
  EXPECT_DOUBLE_EQ(r.min_p, 0.125);
}

TEST(SweepPairedTest, OneLosingBudgetDecidesTheWholeClaim) {
  auto t = two_arms(6, 8, 0.05);
  for (auto& x : t)  // a's smallest configuration is now worse than b's
    if (x.arm == "a" && x.config_id == 0) x.val_acc -= 0.1, x.test_acc -= 0.1;
  const PairTest r =
      paired_budget_test(t, "a", "b", "params", "test_acc", {600, 1000, 2000}, 2000, 1);
  EXPECT_LT(r.diff[0], 0);
  EXPECT_LT(r.p[2], 0.05);  // still ahead where larger models fit
  EXPECT_GT(r.p_all, 0.5);  // but not at every budget
}

TEST(SweepPairedTest, BudgetsWhereAnArmHasNoModelAreLeftOut) {
  auto t = two_arms(4, 3, 0.05);
  for (auto& x : t)
    if (x.arm == "a") x.params += 1000;  // dendrites: a's models are larger
  const PairTest r =
      paired_budget_test(t, "a", "b", "params", "test_acc", {600, 1600, 5000}, 200, 1);
  EXPECT_EQ(r.budgets, (std::vector<double>{1600, 5000}));
}

TEST(SweepAnalysis, FullAnalysisAddsInt8ViewOnlyWhenPresent) {
  auto trials = two_arms(5, 3, 0.02);
  for (auto& t : trials) t.arm = t.arm == "a" ? "gd" : "none";
  SweepTrials st;
  st.trials = trials;
  st.arms = {"none", "gd"};
  st.seeds = {1, 2, 3};
  SweepAnalysisOptions opt;
  opt.bootstrap = 200, opt.permutations = 200;
  SweepAnalysis a = analyse_sweep(st, opt);
  EXPECT_FALSE(a.int8.has_value());
  ASSERT_EQ(a.params.arms.size(), 2u);
  EXPECT_EQ(a.params.arms[0].configs.size(), 5u);
  ASSERT_EQ(a.params.tests.size(), 1u);
  EXPECT_EQ(a.params.tests[0].a, "gd");
  EXPECT_EQ(a.params.tests[0].b, "none");
  // Budgets include the paper's two and cover the sizes 500..1300.
  const auto& b = a.params.budgets;
  EXPECT_NE(std::find(b.begin(), b.end(), 1500.0), b.end());
  EXPECT_NE(std::find(b.begin(), b.end(), 4000.0), b.end());
  EXPECT_GE(b.back(), 1300);
  // The same data and seed give the same numbers.
  const SweepAnalysis again = analyse_sweep(st, opt);
  EXPECT_EQ(analysis_json(a).dump(), analysis_json(again).dump());
  EXPECT_GT(a.params.arms[1].hypervolume, a.params.arms[0].hypervolume);  // gd is 0.02 better

  for (auto& t : st.trials) t.int8_bytes = t.params + 100, t.int8_test_acc = t.test_acc;
  a = analyse_sweep(st, opt);
  ASSERT_TRUE(a.int8.has_value());
  EXPECT_EQ(a.int8->report_key, "int8_test_acc");
  EXPECT_EQ(a.int8->n_trials, 30);
  EXPECT_TRUE(analysis_json(a)["int8"].is_object());
}

TEST(SweepTrialsFile, BadInputIsOneLineNamingTheKey) {
  json doc = {{"format", "dkws-sweep-trials"},
              {"version", 1},
              {"sweep", {{"arms", {"none"}}, {"seeds", {1}}}},
              {"trials",
               {{{"trial_id", 1},
                 {"config_id", 0},
                 {"arm", "none"},
                 {"seed", 1},
                 {"status", "done"},
                 {"test_acc", 0.5},
                 {"params", 100}}}}};
  try {
    parse_sweep_trials(doc, "sweep/trials.json");
    FAIL() << "missing val_acc accepted";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "sweep/trials.json: trials[0]: missing key 'val_acc'");
  }
  doc["trials"][0]["val_acc"] = 1.5;
  EXPECT_THROW(parse_sweep_trials(doc, "x"), Error);
  doc["trials"][0]["val_acc"] = 0.5;
  EXPECT_EQ(parse_sweep_trials(doc, "x").trials.size(), 1u);
  doc["trials"][0]["status"] = "failed";  // a failed trial may lack metrics
  doc["trials"][0].erase("val_acc");
  EXPECT_EQ(parse_sweep_trials(doc, "x").trials.size(), 1u);
  doc["format"] = "something-else";
  EXPECT_THROW(parse_sweep_trials(doc, "x"), Error);
}

}  // namespace
}  // namespace dkws
