// The verdict on the paper's claim ("dendritic models beat the baseline at every parameter
// count"; paper: 0.933 at about 1,500 parameters against the baseline's 0.921 at about 4,000) for
// this sweep's data, and the notes saying how every number of the report is computed.
#include <algorithm>
#include <cmath>

#include <fmt/core.h>

#include "report/sweep_report.hpp"

namespace dkws {

// 1234567 -> "1,234,567", as the paper writes its budgets.
std::string grouped(double v) {
  const std::string digits = fmt::format("{:.0f}", std::abs(v));
  std::string out = v < 0 ? "-" : "";
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

namespace {

constexpr double kAlpha = 0.05;

const ArmView* find_arm(const SizeView& v, const std::string& arm) {
  for (const auto& a : v.arms)
    if (a.arm == arm) return &a;
  return nullptr;
}

const PairTest* find_test(const SizeView& v, const std::string& a, const std::string& b) {
  for (const auto& t : v.tests)
    if (t.a == a && t.b == b) return &t;
  return nullptr;
}

// The budget cell of an arm at exactly this budget (the paper's budgets are always in the grid).
const BudgetCell* cell_at(const SizeView& v, const ArmView& a, double budget) {
  for (size_t i = 0; i < v.budgets.size(); ++i)
    if (std::abs(v.budgets[i] - budget) < 1e-9 * budget) return &a.budgets[i];
  return nullptr;
}

// (fmt::join's formatter trips GCC 12's -Wstringop-overflow, so join by hand.)
std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

// "gd", "gd or cc", "gd, cc or x".
std::string join_or(const std::vector<std::string>& v) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i)
    out += (i == 0 ? "" : i + 1 == v.size() ? " or " : ", ") + v[i];
  return out;
}

std::string fmt_p(double p) {
  return p < 0.001 ? "< 0.001" : fmt::format("{:.3f}", p);
}

std::string cell_text(const BudgetCell* c) {
  if (!c || !c->feasible) return "no model fits";
  return fmt::format("{:.3f} [{:.3f}, {:.3f}] ({} params)", c->test, c->ci.lo, c->ci.hi,
                     grouped(c->size));
}

// "gd beats none at every budget: ahead at 9 of 11 budgets, p = 0.41 (the weakest budget, 1,800)".
std::string test_sentence(const PairTest& t) {
  if (t.budgets.empty())
    return fmt::format(
        "{} and {} have no budget at which both have a model, so they cannot be "
        "compared.",
        t.a, t.b);
  const long ahead = std::count_if(t.diff.begin(), t.diff.end(), [](double d) { return d > 0; });
  const size_t worst = size_t(std::max_element(t.p.begin(), t.p.end()) - t.p.begin());
  std::string s = fmt::format(
      "{} vs {}: ahead at {} of {} comparable budgets (mean test difference {:+.3f} to {:+.3f}); "
      "\"{} beats {} at every budget\" has p = {} (the weakest budget is {}, difference "
      "{:+.3f})",
      t.a, t.b, ahead, t.budgets.size(), *std::min_element(t.diff.begin(), t.diff.end()),
      *std::max_element(t.diff.begin(), t.diff.end()), t.a, t.b, fmt_p(t.p_all),
      grouped(t.budgets[worst]), t.diff[worst]);
  if (t.min_p > kAlpha)
    s += fmt::format(
        ", and with {} paired cells no outcome could reach p < {:.2f} (smallest "
        "possible p = {:.3f})",
        t.n_cells, kAlpha, t.min_p);
  return s + ".";
}

std::string signed_interval(double d, const Interval& ci) {
  return fmt::format("{:+.4f} [{:+.4f}, {:+.4f}]", d, ci.lo, ci.hi);
}

// "gd - none at 1,500 params: +0.0120 [-0.0040, +0.0280], p = 0.140, detectable at 80% power:
// 0.0210" for each of the paper's budgets, then the pooled hypervolume difference.
std::string effect_sentence(const ArmEffect& e, const std::vector<double>& paper) {
  std::string s = fmt::format("Effect {} − {}:", e.a, e.b);
  for (double budget : paper)
    for (size_t i = 0; i < e.budgets.size(); ++i) {
      if (std::abs(e.budgets[i] - budget) > 1e-9 * budget) continue;
      if (std::isfinite(e.mde[i]))
        s += fmt::format(" at {} params {}, p = {}, minimum detectable difference {:.4f};",
                         grouped(budget), signed_interval(e.diff[i], e.ci[i]), fmt_p(e.p[i]),
                         e.mde[i]);
      else
        s += fmt::format(
            " at {} params {:+.4f} in every replicate (both arms pick runs with "
            "identical results);",
            grouped(budget), e.diff[i]);
    }
  return s + fmt::format(" pooled over budgets, hypervolume difference {}, p = {}.",
                         signed_interval(e.hv_diff, e.hv_ci), fmt_p(e.hv_p));
}

}  // namespace

std::vector<std::string> SweepVerdict::lines() const {
  std::vector<std::string> out{headline};
  for (const auto* part : {&facts, &tests, &notes})
    out.insert(out.end(), part->begin(), part->end());
  return out;
}

SweepVerdict sweep_verdict(const SweepTrials& t, const SweepAnalysis& a) {
  const SizeView& v = a.params;
  SweepVerdict out;
  const ArmView* none = find_arm(v, "none");
  const bool has_restart = find_arm(v, "restart") != nullptr;
  std::vector<const ArmView*> dendritic;
  for (const auto& arm : v.arms)
    if (arm.arm != "none" && arm.arm != "restart") dendritic.push_back(&arm);
  int done = 0, failed = 0;
  for (const auto& tr : t.trials) (tr.done() ? done : failed)++;

  // A dendritic arm whose frontier picks carry no dendrite compares models without dendrites:
  // its tests say nothing about dendrites, whatever their p-values.
  std::vector<std::string> untestable, testable;
  for (const ArmView* d : dendritic)
    (d->frontier_trials_with_dendrites == 0 ? untestable : testable).push_back(d->arm);

  // Decide first, so the headline can lead.
  std::vector<std::string> beat_both, beat_none_only;
  for (const ArmView* d : dendritic) {
    if (d->frontier_trials_with_dendrites == 0) continue;
    const PairTest* vs_none = find_test(v, d->arm, "none");
    const PairTest* vs_restart = find_test(v, d->arm, "restart");
    const bool over_none = vs_none && !vs_none->budgets.empty() && vs_none->p_all < kAlpha;
    const bool over_restart =
        !vs_restart || (!vs_restart->budgets.empty() && vs_restart->p_all < kAlpha);
    if (over_none && over_restart)
      beat_both.push_back(d->arm);
    else if (over_none)
      beat_none_only.push_back(d->arm);
  }
  std::string headline;
  if (v.n_trials == 0)
    headline = "Verdict: nothing to judge yet: the sweep has no finished trial.";
  else if (!none || dendritic.empty())
    headline =
        "Verdict: not testable here: the sweep needs the arm none and at least one dendritic arm.";
  else if (testable.empty())
    headline = fmt::format(
        "Verdict: untestable here: no frontier pick of {} carries a dendrite, so every "
        "comparison is between models without dendrites and says nothing about them.",
        join_or(untestable));
  else if (!beat_both.empty())
    headline = fmt::format("Verdict: supported for {} on this data{}.", join(beat_both),
                           has_restart ? ", against both the baseline and the restart control"
                                       : " against the baseline (no restart control was run)");
  else if (!beat_none_only.empty())
    headline = fmt::format(
        "Verdict: not supported as a dendrite effect: {} beats the baseline at "
        "every budget, but not the restart control, so the gain is not "
        "separable from warm restarts.",
        join(beat_none_only));
  else
    headline = fmt::format(
        "Verdict: not supported on this data: {} {} not beat the baseline at every parameter "
        "budget at the 5% level.",
        join(testable), testable.size() == 1 ? "does" : "do");
  out.headline = headline;

  out.facts.push_back(fmt::format(
      "The paper claims that dendritic models beat the baseline at every parameter count (0.933 "
      "test accuracy at about 1,500 parameters against the baseline's 0.921 at about 4,000). This "
      "sweep has {} finished and {} failed trials over arms {} and {} seed(s).",
      done, failed, join(a.arms), a.seeds.size()));
  if (none && !dendritic.empty()) {
    const BudgetCell* n4000 = cell_at(v, *none, 4000);
    std::string s =
        fmt::format("The paper's comparison here: none at 4,000 parameters {}", cell_text(n4000));
    for (const ArmView* d : dendritic)
      s += fmt::format("; {} at 1,500 parameters {}", d->arm, cell_text(cell_at(v, *d, 1500)));
    if (has_restart)
      s += fmt::format("; restart at 4,000 parameters {}",
                       cell_text(cell_at(v, *find_arm(v, "restart"), 4000)));
    out.facts.push_back(
        s +
        " (mean test accuracy over seeds of the best-validation configuration within "
        "the budget, bootstrap 95% interval).");
  }
  if (!dendritic.empty()) {
    std::string s =
        "Frontier picks carrying at least one dendrite (trials behind each arm's "
        "frontier configurations):";
    for (const auto& arm : v.arms)
      s += fmt::format(" {} {} of {};", arm.arm, arm.frontier_trials_with_dendrites,
                       arm.frontier_trials);
    s.back() = '.';
    if (!untestable.empty() && !testable.empty())
      s += fmt::format(" {} cannot be judged here: its picks carry none.", join(untestable));
    out.facts.push_back(s);
  }
  out.facts.push_back(
      fmt::format("Intervals and effect sizes: {}, {} bootstrap replicates, "
                  "selection by validation redone in each.",
                  v.resampling, v.n_replicates));
  for (const auto& e : v.effects) out.tests.push_back(effect_sentence(e, a.options.extra_budgets));
  for (const ArmView* d : dendritic) {
    if (const PairTest* p = find_test(v, d->arm, "none")) out.tests.push_back(test_sentence(*p));
    if (const PairTest* p = find_test(v, d->arm, "restart")) out.tests.push_back(test_sentence(*p));
  }
  if (const PairTest* p = find_test(v, "restart", "none")) out.tests.push_back(test_sentence(*p));
  if (!has_restart && !dendritic.empty())
    out.notes.push_back(
        "This sweep has no restart control arm, so a gain over none cannot be told apart "
        "from the warm-restart effect (best checkpoint reloaded and the optimiser reset "
        "at each switch); run the sweep with --arms none,restart,gd,cc to separate them.");
  out.notes.push_back(
      "p-values are for the whole claim (every budget at once, intersection-union test); "
      "a p-value above 0.05 means the data do not establish the claim, not that the arms "
      "are equal.");
  return out;
}

nlohmann::json sweep_method_notes(const SweepAnalysis& a) {
  const auto& o = a.options;
  return {
      {"configurations",
       "A configuration (config_id) is aggregated over its finished seeds within an arm: mean "
       "validation accuracy, mean test accuracy (test accuracy of each trial's best-validation "
       "epoch) and mean size. Failed trials are counted and left out."},
      {"frontier",
       "Per arm, configurations are sorted by mean size; one is on the frontier when its mean "
       "validation accuracy is higher than that of every smaller (or equal-size) configuration. "
       "The frontier is therefore chosen on validation only and plotted with its mean test "
       "accuracy, which need not rise monotonically."},
      {"budgets",
       fmt::format("Budgets are 10^(k/{}) rounded to two significant digits, from the smallest "
                   "model to the first budget that holds every model, plus the paper's 1,500 and "
                   "4,000 parameters. At each budget an arm's pick is the configuration with the "
                   "best mean validation accuracy among those with mean size <= budget; its mean "
                   "test accuracy is reported.",
                   o.budgets_per_decade)},
      {"bootstrap",
       fmt::format(
           "95% percentile intervals. A replicate draws as many seeds as the sweep has, with "
           "replacement, and, when every trial recorded which validation and test clips its "
           "final model got right, as many validation clips and as many test clips as there "
           "are, with replacement; the same draw serves every configuration and every arm (the "
           "arms stay paired on seeds and clips). Each trial's validation and test accuracy are "
           "recomputed over the drawn clips, every configuration's means over the drawn seeds, "
           "and the selection by validation is redone. {0} replicates from a generator seeded "
           "with {1}; without per-clip results only seeds are drawn, and all S^S seed draws are "
           "enumerated when S^S <= {0}. Drawing clips and seeds at once counts the clip x seed "
           "interaction (a clip one seed's model gets right and another's wrong) more than once, "
           "which widens the intervals (Owen 2007, the pigeonhole bootstrap); with few seeds the "
           "seed part is narrower than it should be. This sweep: {2}.",
           o.bootstrap, o.seed, a.params.resampling)},
      {"effects",
       "Per budget and pair of arms (dendritic arms against none and restart, restart against "
       "none): the difference of the picked test accuracies, its 95% interval from the same "
       "replicates (the replicate differences, both arms under one draw), and a two-sided "
       "bootstrap p-value, 2 x (1 + replicates on the smaller side of 0) / (1 + replicates), "
       "without the 1s when the seed draws are enumerated exactly. "
       "Pooled over budgets: the difference of the arms' hypervolumes, with its interval and "
       "p-value from the same replicates."},
      {"power",
       "Minimum detectable difference: (z_0.975 + z_0.8) x SE = 2.80 x SE, where SE is the "
       "standard deviation of the replicate differences: the true difference that a two-sided "
       "5% test detects with 80% power, given the measured variance. Not given where the "
       "difference does not vary (both arms pick runs with identical results)."},
      {"dendrites",
       "An arm's frontier picks carry dendrites when the final models of their trials do "
       "(the dendrites column of trials.csv). When no frontier pick of a dendritic arm carries "
       "one, its comparisons are between models without dendrites, and the verdict says "
       "\"untestable here\" instead of judging the claim."},
      {"test",
       fmt::format(
           "\"A beats B at every budget\": at each budget the statistic is A's picked test "
           "accuracy minus B's. Its one-sided p-value comes from a sign-flip permutation "
           "over the paired (config_id, seed) cells (A's and B's trials of a cell are "
           "swapped, selection redone), all 2^cells patterns when that is <= {0}, "
           "otherwise {0} random patterns (generator seed {1}), p = (1+hits)/(1+{0}). The "
           "claim over all budgets is an intersection-union test: its p-value is the "
           "largest per-budget p-value, valid without multiplicity correction. Budgets "
           "where either arm has no model that fits are left out. Only cells finished in both arms "
           "enter, so when trials failed its picks can differ from the budget table's.",
           o.permutations, o.seed)},
      {"hypervolume",
       fmt::format("Area dominated by an arm's frontier (mean test accuracy, validation-selected) "
                   "in (log10 size, accuracy) space, up to the reference point (size = the largest "
                   "budget, {:.0f}; accuracy = the worst configuration mean of any arm, {:.4f}); "
                   "units: decades x accuracy. Interval: the same seed bootstrap.",
                   a.params.hv_ref_size, a.params.hv_ref_report)},
      {"int8",
       "The int8 view repeats the frontier, budgets, tests and hypervolume with int8 model bytes "
       "as the size and int8 test accuracy (test accuracy when some trial lacks it); it is shown "
       "only when trials carry int8_bytes, without the paper's parameter budgets."}};
}

}  // namespace dkws
