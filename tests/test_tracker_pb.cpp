// The pb rules' tracker (src/train/tracker_pb.hpp): cycle best, tries, the rate search and its
// veto, on hand-made score sequences.
#include "dkws/rng.hpp"
#include "test_util.hpp"
#include "train/tracker_pb.hpp"

namespace {

using dkws::DendriteSpec;
using dkws::PbTracker;
using dkws::RateSearch;
using dkws::SwitchAction;
using dkws::SwitchDecision;
using dkws::SwitchTracker;

DendriteSpec spec(const std::string& mode, int n_switch = 2, int max_d = 3, int tries = 1) {
  DendriteSpec s;
  s.mode = mode;
  s.rules = "pb";
  s.n_epochs_to_switch = n_switch;
  s.max_dendrites = max_d;
  s.max_dendrite_tries = tries;
  s.thresholds = {0.0};
  s.raw_threshold = 0.0;
  return s;
}

// A first phase: a best of 0.8, then n_switch flat epochs, the first `cuts` of them cut, and the
// switch; then the install.
void first_phase(PbTracker& t, int cuts, int n_switch) {
  ASSERT_TRUE(t.observe(0.8, false).new_best);
  for (int i = 1; i <= n_switch; ++i) {
    const SwitchDecision d = t.observe(0.7, i <= cuts);
    ASSERT_EQ(d.action, i < n_switch ? SwitchAction::kContinue : SwitchAction::kRestructure) << i;
  }
  ASSERT_EQ(t.previous_rate_lowered(), cuts);
  t.restructured(1);
}

TEST(TrackerPb, CycleBestResetsAtInstall) {
  PbTracker t(spec("gd", 2), false);
  first_phase(t, 0, 2);
  EXPECT_EQ(t.cycle_best(), -1e300) << "a new cycle starts without a best";
  // Below the global best 0.8, but each is a new cycle best: no switch after 2 epochs.
  SwitchDecision d = t.observe(0.5, false);
  EXPECT_FALSE(d.new_best);
  EXPECT_EQ(t.cycle_best(), 0.5) << "the cycle's first epoch is an improvement";
  EXPECT_EQ(t.observe(0.6, false).action, SwitchAction::kContinue);
  EXPECT_EQ(t.observe(0.55, false).action, SwitchAction::kContinue);
  d = t.observe(0.55, false);
  EXPECT_EQ(d.action, SwitchAction::kRestructure) << "two epochs without beating the cycle's 0.6";
  EXPECT_TRUE(d.revert);
  EXPECT_EQ(d.reason, "cycle never beat the best; retrying");
  EXPECT_EQ(t.tries(), 1);
  EXPECT_EQ(t.growth_steps(), 0) << "the failed dendrite is discarded";

  // The classic rules judge the same scores against the global best and switch two epochs in.
  DendriteSpec c = spec("gd", 2);
  c.rules = "classic";
  SwitchTracker classic(c, true);
  classic.observe(0.8);
  classic.observe(0.7);
  classic.observe(0.7);
  classic.restructured(1);
  classic.observe(0.5);
  EXPECT_TRUE(classic.observe(0.6).revert);
}

TEST(TrackerPb, ACycleThatBeatsTheGlobalBestSavesItAndCounts) {
  PbTracker t(spec("cc", 2, 1), false);
  first_phase(t, 0, 2);
  t.observe(0.5, false);
  const SwitchDecision d = t.observe(0.85, false);
  EXPECT_TRUE(d.new_best);
  EXPECT_EQ(t.best_score(), 0.85);
  EXPECT_EQ(t.committed_steps(), 1);
  t.observe(0.8, false);
  const SwitchDecision end = t.observe(0.8, false);
  EXPECT_EQ(end.action, SwitchAction::kComplete);
  EXPECT_EQ(end.reason, "max_dendrites reached");
  EXPECT_EQ(t.growth_steps(), 1);
}

TEST(TrackerPb, TriesCountIsMaxPlusOne) {
  for (int max_tries : {0, 1, 2}) {
    PbTracker t(spec("cc", 1, 3, max_tries), false);
    first_phase(t, 0, 1);
    int cycles = 0;
    SwitchDecision d;
    do {
      ++cycles;
      d = t.observe(0.6, false);  // first epoch: a cycle best, never the global one
      ASSERT_EQ(d.action, SwitchAction::kContinue);
      d = t.observe(0.6, false);
      ASSERT_TRUE(d.revert);
      if (d.action == SwitchAction::kRestructure) t.restructured(1);
    } while (d.action == SwitchAction::kRestructure && cycles < 10);
    EXPECT_EQ(d.action, SwitchAction::kComplete);
    EXPECT_EQ(d.reason, "cycle never beat the best; tries exhausted");
    EXPECT_EQ(cycles, max_tries + 1) << "max_dendrite_tries " << max_tries;
  }
}

TEST(TrackerPb, ASuccessfulCycleResetsTheFailedTries) {
  PbTracker t(spec("cc", 1, 5, 1), false);
  first_phase(t, 0, 1);
  t.observe(0.6, false);
  ASSERT_EQ(t.observe(0.6, false).action, SwitchAction::kRestructure);  // failed try 1 of 2
  t.restructured(1);
  ASSERT_TRUE(t.observe(0.9, false).new_best);
  EXPECT_EQ(t.tries(), 0);
  ASSERT_EQ(t.observe(0.9, false).action, SwitchAction::kRestructure);
  t.restructured(1);
  t.observe(0.6, false);
  EXPECT_EQ(t.observe(0.6, false).action, SwitchAction::kRestructure) << "one try used again";
}

TEST(TrackerPb, RateSearchStepsLowerWhileTheLowerStartWinsAndKeepsTheBetterRun) {
  PbTracker t(spec("cc", 100), true);
  first_phase(t, 0, 100);
  // Run A from the initial rate, until its second cut.
  EXPECT_EQ(t.observe(0.40, false).search, RateSearch::kNone);
  EXPECT_EQ(t.observe(0.45, true).search, RateSearch::kNone);
  SwitchDecision d = t.observe(0.47, true);
  ASSERT_EQ(d.search, RateSearch::kTryLowerStart);
  EXPECT_EQ(d.start_steps, 1);
  EXPECT_EQ(t.cycle_best(), -1e300) << "back to the post-install state";
  // Run B, one step lower: at its first cut its 0.52 beats A's 0.47, so B goes on.
  EXPECT_EQ(t.observe(0.50, false).search, RateSearch::kNone);
  d = t.observe(0.52, true);
  EXPECT_EQ(d.search, RateSearch::kNone);
  EXPECT_EQ(d.reason, "rate search: the start 1 step(s) lower is better");
  // B's second cut: try two steps lower.
  d = t.observe(0.53, true);
  ASSERT_EQ(d.search, RateSearch::kTryLowerStart);
  EXPECT_EQ(d.start_steps, 2);
  // Run C loses at its first cut: back to B as it was at its comparison point.
  t.observe(0.30, false);
  d = t.observe(0.31, true);
  ASSERT_EQ(d.search, RateSearch::kKeepBetterRun);
  EXPECT_EQ(t.cycle_best(), 0.53);
  EXPECT_EQ(t.rate_lowered(), 3) << "B started 1 step down and was cut twice";
  EXPECT_FALSE(t.searching());
  for (int i = 0; i < 5; ++i) EXPECT_EQ(t.observe(0.5, true).search, RateSearch::kNone);
}

TEST(TrackerPb, RateSearchKeepsTheInitialStartWhenTheLowerOneIsWorse) {
  PbTracker t(spec("cc", 100), true);
  first_phase(t, 0, 100);
  t.observe(0.60, true);
  ASSERT_EQ(t.observe(0.61, true).search, RateSearch::kTryLowerStart);
  t.observe(0.55, false);
  const SwitchDecision d = t.observe(0.61, true);  // a tie is not better
  ASSERT_EQ(d.search, RateSearch::kKeepBetterRun);
  EXPECT_EQ(t.cycle_best(), 0.61);
  EXPECT_EQ(t.rate_lowered(), 2);
}

TEST(TrackerPb, ARunWithoutCutsEndsAtTwiceThePreviousRunsLength) {
  PbTracker t(spec("cc", 100), true);
  first_phase(t, 0, 100);  // the first phase ran 101 epochs
  double score = 0.5;      // improving every epoch, never cut
  for (int i = 1; i < 202; ++i)
    ASSERT_EQ(t.observe(score += 1e-4, false).search, RateSearch::kNone) << "epoch " << i;
  EXPECT_EQ(t.observe(score += 1e-4, false).search, RateSearch::kTryLowerStart);
}

TEST(TrackerPb, SwitchIsVetoedUntilTheRateIsLoweredAsOftenAsLastPhase) {
  PbTracker t(spec("cc", 2), false);
  first_phase(t, 2, 2);  // switched with the rate cut twice
  ASSERT_TRUE(t.observe(0.9, false).new_best);
  t.observe(0.85, false);
  SwitchDecision d = t.observe(0.85, false);
  EXPECT_EQ(d.action, SwitchAction::kContinue) << "two stale epochs, but the rate is uncut";
  EXPECT_EQ(d.reason, "switch vetoed: rate lowered 0 of 2 times");
  EXPECT_EQ(t.observe(0.85, true).action, SwitchAction::kContinue) << "cut once";
  d = t.observe(0.85, true);
  EXPECT_EQ(d.action, SwitchAction::kRestructure) << "cut twice: the veto is lifted";
  EXPECT_EQ(t.previous_rate_lowered(), 2);
}

TEST(TrackerPb, ModeNoneIsTheSameEarlyStoppingAsClassic) {
  DendriteSpec s = spec("none", 3);
  s.thresholds = {0.01};
  s.raw_threshold = 1e-3;
  s.history_lookback = 2;
  PbTracker pb(s, true);
  s.rules = "classic";
  SwitchTracker classic(s, true);
  dkws::Rng rng(5);
  for (int i = 0; i < 200; ++i) {
    const double v = 0.5 + 0.3 * rng.uniform();
    const SwitchDecision a = pb.observe(v, i % 3 == 0), b = classic.observe(v);
    ASSERT_EQ(a.new_best, b.new_best) << i;
    ASSERT_EQ(a.action, b.action) << i;
    ASSERT_EQ(pb.smoothed_score(), classic.smoothed_score());
    if (a.action == SwitchAction::kComplete) return;
  }
  FAIL() << "never stopped";
}

TEST(TrackerPb, StateRoundTripsInTheMiddleOfARateSearch) {
  PbTracker a(spec("cc", 100), true), b(spec("cc", 100), true);
  first_phase(a, 1, 100);
  a.observe(0.4, true);
  a.observe(0.5, true);  // -> try lower
  a.observe(0.6, false);
  b.load_state(a.state());
  EXPECT_EQ(a.state(), b.state());
  for (double v : {0.7, 0.71, 0.72}) {
    const SwitchDecision x = a.observe(v, true), y = b.observe(v, true);
    EXPECT_EQ(x.search, y.search);
    EXPECT_EQ(x.start_steps, y.start_steps);
  }
  EXPECT_EQ(a.state(), b.state());
}

}  // namespace
