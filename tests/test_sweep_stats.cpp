// The statistics that must see (or say they cannot see) a 1.2-point gap: the bootstrap over seeds
// and test clips (coverage on a synthetic case with a known difference, width against the
// binomial formula), per-budget effect sizes and the minimum detectable difference, the pooled
// hypervolume difference, and the "untestable here" verdict when dendritic picks carry no
// dendrite.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "dkws/rng.hpp"
#include "dkws/sweep_analysis.hpp"
#include "report/sweep_report.hpp"

namespace dkws {
namespace {

double logistic(double x) {
  return 1 / (1 + std::exp(-x));
}

// Bits of one trial: clip i correct with probability logistic(difficulty[i] + shift).
ClipBits draw_bits(const std::vector<double>& difficulty, double shift, Rng& rng) {
  ClipBits b;
  b.n = difficulty.size();
  b.set = "synthetic";
  b.words.assign((b.n + 63) / 64, 0);
  for (size_t i = 0; i < b.n; ++i)
    if (rng.uniform() < logistic(difficulty[i] + shift)) b.words[i / 64] |= uint64_t(1) << (i % 64);
  return b;
}

// A sweep of arms none and gd, one configuration each (1,000 parameters), `seeds` seeds, scored
// on the same `clips` validation and test clips. Clip difficulties are drawn once per data set
// (logit ~ N(2, 4^2): most clips are reliably right or wrong, as in keyword spotting); each
// trial adds a seed effect N(0, 0.3^2) and gd adds `delta` on the logit scale.
SweepTrials clip_sweep(Rng& rng, int seeds, size_t clips, double delta) {
  SweepTrials t;
  t.arms = {"none", "gd"};
  std::vector<double> val_d(clips), test_d(clips);
  for (auto& d : val_d) d = 2 + 4 * rng.normal();
  for (auto& d : test_d) d = 2 + 4 * rng.normal();
  int64_t id = 0;
  for (int s = 1; s <= seeds; ++s) {
    t.seeds.push_back(s);
    for (const auto& arm : t.arms) {
      const double shift = (arm == "gd" ? delta : 0) + 0.3 * rng.normal();
      SweepTrial tr;
      tr.trial_id = ++id, tr.config_id = 1, tr.arm = arm, tr.seed = s, tr.status = "done";
      tr.params = 1000;
      tr.val_clips = draw_bits(val_d, shift, rng);
      tr.test_clips = draw_bits(test_d, shift, rng);
      tr.val_acc = double(tr.val_clips->correct()) / double(clips);
      tr.test_acc = double(tr.test_clips->correct()) / double(clips);
      t.trials.push_back(std::move(tr));
    }
  }
  return t;
}

SweepAnalysisOptions fast_options(int replicates) {
  SweepAnalysisOptions o;
  o.bootstrap = replicates;
  o.permutations = 64;
  return o;
}

const ArmEffect& effect(const SweepAnalysis& a, const std::string& x, const std::string& y) {
  for (const auto& e : a.params.effects)
    if (e.a == x && e.b == y) return e;
  throw std::runtime_error("no effect " + x + " - " + y);
}

size_t budget_index(const ArmEffect& e, double budget) {
  for (size_t i = 0; i < e.budgets.size(); ++i)
    if (e.budgets[i] == budget) return i;
  throw std::runtime_error("budget not compared");
}

// Over 200 synthetic sweeps with a known gd - none difference, the 95% interval of the effect at
// 1,500 parameters covers the truth in 181 to 199 of them (95% of 200 +- 3 binomial standard
// deviations). The same sweeps without per-clip results (seeds only) must miss far more often:
// the clip sampling is real variance, and the test can tell whether it is in the interval.
TEST(SweepBootstrap, CoverageOfAKnownDifferenceOverSeedsAndClips) {
  const double delta = 0.5;
  Rng truth_rng(99);
  double truth = 0;
  const int kTruthDraws = 2000000;
  for (int i = 0; i < kTruthDraws; ++i) {
    const double d = 2 + 4 * truth_rng.normal(), u = 0.3 * truth_rng.normal();
    truth += logistic(d + delta + u) - logistic(d + u);
  }
  truth /= kTruthDraws;
  ASSERT_NEAR(truth, 0.04, 0.005);  // a gap of the paper's size (4 points here, 1.2 there)

  Rng rng(2024);
  int covered = 0, covered_seeds_only = 0, width_ok = 0;
  for (int k = 0; k < 200; ++k) {
    SweepTrials t = clip_sweep(rng, 5, 400, delta);
    SweepAnalysisOptions opt = fast_options(400);
    opt.seed = uint64_t(k + 1);
    const SweepAnalysis a = analyse_sweep(t, opt);
    ASSERT_TRUE(a.params.clip_resampling) << a.params.resampling;
    const ArmEffect& e = effect(a, "gd", "none");
    const size_t i = budget_index(e, 1500);
    covered += e.ci[i].lo <= truth && truth <= e.ci[i].hi;
    width_ok += std::isfinite(e.mde[i]) && e.mde[i] > 0;

    for (auto& tr : t.trials) tr.val_clips.reset(), tr.test_clips.reset();
    const SweepAnalysis seeds_only = analyse_sweep(t, opt);
    ASSERT_FALSE(seeds_only.params.clip_resampling);
    const ArmEffect& e2 = effect(seeds_only, "gd", "none");
    const size_t j = budget_index(e2, 1500);
    covered_seeds_only += e2.ci[j].lo <= truth && truth <= e2.ci[j].hi;
  }
  std::printf("coverage of %.4f: %d of 200 (seeds and clips), %d of 200 (seeds only)\n", truth,
              covered, covered_seeds_only);
  EXPECT_GE(covered, 181);
  EXPECT_LE(covered, 199);
  EXPECT_LT(covered_seeds_only, 181);
  EXPECT_EQ(width_ok, 200);
}

// One configuration, one arm, every seed's model identical: the only variance left is the test
// clips', so the interval of the picked accuracy must match the binomial one,
// +-1.96 sqrt(p (1 - p) / n).
TEST(SweepBootstrap, ClipIntervalMatchesTheBinomialFormula) {
  const size_t n = 2000;
  Rng rng(5);
  std::vector<double> difficulty(n);
  for (auto& d : difficulty) d = rng.uniform() < 0.8 ? 10 : -10;  // right on ~80% of clips
  const ClipBits test = draw_bits(difficulty, 0, rng), val = draw_bits(difficulty, 0, rng);
  SweepTrials t;
  t.arms = {"none"};
  for (int s = 1; s <= 3; ++s) {
    SweepTrial tr;
    tr.trial_id = s, tr.config_id = 1, tr.arm = "none", tr.seed = s, tr.status = "done";
    tr.params = 1000, tr.val_clips = val, tr.test_clips = test;
    tr.val_acc = double(val.correct()) / n, tr.test_acc = double(test.correct()) / n;
    t.seeds.push_back(s), t.trials.push_back(tr);
  }
  const SweepAnalysis a = analyse_sweep(t, fast_options(4000));
  const BudgetCell& c = a.params.arms[0].budgets.back();
  const double p = c.test, half = 1.959964 * std::sqrt(p * (1 - p) / double(n));
  EXPECT_NEAR(c.ci.hi - c.ci.lo, 2 * half, 0.1 * 2 * half);
  EXPECT_NEAR((c.ci.hi + c.ci.lo) / 2, p, 0.2 * half);
}

// Two arms whose seeds all give the same model, differing on known clips: the replicate
// differences are bootstrap means of d_i = a_i - b_i over the clips, so the standard error is
// sqrt(var(d) / n) and the minimum detectable difference (z_0.975 + z_0.8) times that.
TEST(SweepBootstrap, MinimumDetectableDifferenceMatchesThePairedFormula) {
  const size_t n = 3000;
  Rng rng(6);
  std::vector<double> a_diff(n), b_diff(n);
  for (size_t i = 0; i < n; ++i) {
    const double u = rng.uniform();
    a_diff[i] = u < 0.80 ? 10 : -10;              // a right on ~80% of clips
    b_diff[i] = u < 0.77 || u > 0.97 ? 10 : -10;  // b on ~80% too, on partly other clips
  }
  const ClipBits a = draw_bits(a_diff, 0, rng), b = draw_bits(b_diff, 0, rng);
  SweepTrials t;
  t.arms = {"none", "gd"};
  int64_t id = 0;
  for (int s = 1; s <= 3; ++s) {
    t.seeds.push_back(s);
    for (const auto& arm : t.arms) {
      SweepTrial tr;
      tr.trial_id = ++id, tr.config_id = 1, tr.arm = arm, tr.seed = s, tr.status = "done";
      tr.params = 1000;
      tr.val_clips = tr.test_clips = arm == "gd" ? a : b;
      tr.val_acc = tr.test_acc = double(tr.test_clips->correct()) / double(n);
      t.trials.push_back(tr);
    }
  }
  double mean = 0, var = 0;
  for (size_t i = 0; i < n; ++i) {
    const int d = int((a.words[i / 64] >> (i % 64)) & 1) - int((b.words[i / 64] >> (i % 64)) & 1);
    mean += d, var += d * d;
  }
  mean /= double(n);
  var = var / double(n) - mean * mean;
  const double se = std::sqrt(var / double(n));
  const SweepAnalysis an = analyse_sweep(t, fast_options(4000));
  const ArmEffect& e = effect(an, "gd", "none");
  const size_t i = budget_index(e, 1500);
  EXPECT_NEAR(e.diff[i], mean, 1e-12);
  EXPECT_NEAR(e.se[i], se, 0.05 * se);
  EXPECT_NEAR(e.mde[i], 2.8015852 * se, 0.05 * 2.8015852 * se);
}

// Identical arms: the difference is 0 in every replicate, p = 1 and no detectable difference is
// claimed. A clearly better arm: the interval excludes 0 and p is small, at each budget and for
// the pooled hypervolume difference, whose point value is the difference of the hypervolumes.
TEST(SweepBootstrap, EffectSizesOfIdenticalAndOfClearlyDifferentArms) {
  Rng rng(8);
  SweepTrials same = clip_sweep(rng, 4, 300, 0);
  for (size_t i = 1; i < same.trials.size(); i += 2) {  // gd's trials copy none's of the seed
    const int64_t id = same.trials[i].trial_id;
    same.trials[i] = same.trials[i - 1];
    same.trials[i].trial_id = id, same.trials[i].arm = "gd";
  }
  const SweepAnalysis a = analyse_sweep(same, fast_options(300));
  const ArmEffect& e = effect(a, "gd", "none");
  ASSERT_FALSE(e.budgets.empty());
  for (size_t i = 0; i < e.budgets.size(); ++i) {
    EXPECT_EQ(e.diff[i], 0);
    EXPECT_EQ(e.ci[i].lo, 0);
    EXPECT_EQ(e.ci[i].hi, 0);
    EXPECT_EQ(e.p[i], 1);
    EXPECT_TRUE(std::isnan(e.mde[i]));
  }
  EXPECT_EQ(e.hv_p, 1);

  const SweepAnalysis b = analyse_sweep(clip_sweep(rng, 4, 2000, 1.5), fast_options(300));
  const ArmEffect& f = effect(b, "gd", "none");
  for (size_t i = 0; i < f.budgets.size(); ++i) {
    EXPECT_GT(f.ci[i].lo, 0) << f.budgets[i];
    EXPECT_LT(f.p[i], 0.01);
    EXPECT_GT(f.mde[i], 0);
    EXPECT_LT(f.mde[i], f.diff[i]);  // a gap this large is well within reach
  }
  const auto& arms = b.params.arms;
  EXPECT_DOUBLE_EQ(f.hv_diff, arms[1].hypervolume - arms[0].hypervolume);
  EXPECT_GT(f.hv_ci.lo, 0);
  EXPECT_LT(f.hv_p, 0.01);
}

// The verdict judges dendrites only where the dendritic arms' frontier picks carry some.
TEST(SweepVerdict, UntestableWhenDendriticPicksCarryNoDendrite) {
  Rng rng(3);
  SweepTrials t = clip_sweep(rng, 6, 200, 1.5);  // gd clearly ahead, but without dendrites
  SweepAnalysis a = analyse_sweep(t, fast_options(100));
  EXPECT_EQ(a.params.arms[1].frontier_trials, 6);
  EXPECT_EQ(a.params.arms[1].frontier_trials_with_dendrites, 0);
  SweepVerdict v = sweep_verdict(t, a);
  EXPECT_NE(v.headline.find("untestable here"), std::string::npos) << v.headline;
  EXPECT_EQ(v.headline.find("not supported"), std::string::npos) << v.headline;

  for (auto& tr : t.trials)
    if (tr.arm == "gd") tr.dendrites = 1;
  a = analyse_sweep(t, fast_options(100));
  EXPECT_EQ(a.params.arms[1].frontier_trials_with_dendrites, 6);
  EXPECT_DOUBLE_EQ(a.params.arms[1].frontier_dendrite_share(), 1.0);
  EXPECT_EQ(a.params.arms[1].budgets.back().dendrites, 1.0);
  v = sweep_verdict(t, a);
  EXPECT_EQ(v.headline.find("untestable"), std::string::npos) << v.headline;
  EXPECT_NE(v.headline.find("supported for gd"), std::string::npos) << v.headline;
}

// Old sweeps (no per-clip results) still analyse, and say that their intervals cover seeds only.
TEST(SweepBootstrap, SweepsWithoutClipResultsSayIntervalsCoverSeedsOnly) {
  Rng rng(4);
  SweepTrials t = clip_sweep(rng, 2, 100, 0.5);
  t.trials[0].val_clips.reset(), t.trials[0].test_clips.reset();
  const SweepAnalysis a = analyse_sweep(t, fast_options(100));
  EXPECT_FALSE(a.params.clip_resampling);
  EXPECT_NE(a.params.resampling.find("1 of 4 finished trials carry no per-clip results"),
            std::string::npos)
      << a.params.resampling;
  const SweepVerdict v = sweep_verdict(t, a);
  bool said = false;
  for (const auto& f : v.facts) said |= f.find("resample seeds only") != std::string::npos;
  EXPECT_TRUE(said);
}

}  // namespace
}  // namespace dkws
