// The switching rule: early stopping for mode none, restructure / revert / retry / stop otherwise.
#include "test_util.hpp"
#include "train/tracker.hpp"

namespace {

using dkws::DendriteSpec;
using dkws::SwitchAction;
using dkws::SwitchTracker;

DendriteSpec spec(const std::string& mode, int n_switch = 3, int max_d = 2, int tries = 2) {
  DendriteSpec s;
  s.mode = mode;
  s.n_epochs_to_switch = n_switch;
  s.max_dendrites = max_d;
  s.max_dendrite_tries = tries;
  s.thresholds = {0.0};
  s.raw_threshold = 0.0;
  return s;
}

TEST(Tracker, ModeNoneIsEarlyStopping) {
  SwitchTracker t(spec("none", 3), true);
  EXPECT_TRUE(t.observe(0.5).new_best);
  EXPECT_TRUE(t.observe(0.6).new_best);
  EXPECT_EQ(t.observe(0.6).action, SwitchAction::kContinue);  // equal is not better
  EXPECT_EQ(t.observe(0.55).action, SwitchAction::kContinue);
  auto d = t.observe(0.59);
  EXPECT_EQ(d.action, SwitchAction::kComplete);
  EXPECT_TRUE(d.revert);
}

// dkws train's default: mode none without early stopping never completes early, but still names
// each better score, so the caller keeps the best checkpoint.
TEST(Tracker, ModeNoneWithoutEarlyStoppingOnlyTracksTheBest) {
  SwitchTracker t(spec("none", 3), false);
  EXPECT_TRUE(t.observe(0.5).new_best);
  for (int i = 0; i < 20; ++i) {
    const auto d = t.observe(0.4);
    EXPECT_EQ(d.action, SwitchAction::kContinue) << "epoch " << i;
    EXPECT_FALSE(d.new_best);
  }
  EXPECT_TRUE(t.observe(0.7).new_best);
  EXPECT_DOUBLE_EQ(t.best_score(), 0.7);
}

// The flag is about plain training: the switch rules of the restart control and of the dendrite
// modes decide the same with it or without it.
TEST(Tracker, SwitchRulesIgnoreTheEarlyStoppingFlag) {
  DendriteSpec restart = spec("none", 2, 1);
  restart.restart_only = true;
  for (const DendriteSpec& s : {restart, spec("cc", 2, 1), spec("gd", 2, 1)}) {
    SwitchTracker on(s, true), off(s, false);
    for (double v : {0.5, 0.4, 0.4, 0.45, 0.45, 0.45, 0.45}) {
      const auto a = on.observe(v), b = off.observe(v);
      EXPECT_EQ(a.action, b.action) << s.mode;
      EXPECT_EQ(a.new_best, b.new_best) << s.mode;
      if (a.action == SwitchAction::kRestructure) on.restructured(1), off.restructured(1);
    }
    EXPECT_EQ(on.state(), off.state()) << s.mode;
  }
}

TEST(Tracker, RestructuresThenStopsAtMaxDendrites) {
  SwitchTracker t(spec("cc", 2, 1), true);
  t.observe(0.5);
  t.observe(0.4);
  auto d = t.observe(0.4);
  EXPECT_EQ(d.action, SwitchAction::kRestructure);
  EXPECT_TRUE(d.revert);
  t.restructured(1);
  EXPECT_EQ(t.growth_steps(), 1);
  EXPECT_TRUE(t.observe(0.7).new_best);  // the dendrite helped
  EXPECT_EQ(t.committed_steps(), 1);
  t.observe(0.6);
  d = t.observe(0.6);
  EXPECT_EQ(d.action, SwitchAction::kComplete);
  EXPECT_EQ(d.reason, "max_dendrites reached");
}

TEST(Tracker, RetriesUselessDendritesThenCompletes) {
  SwitchTracker t(spec("gd", 1, 3, 2), true);
  t.observe(0.8);
  auto d = t.observe(0.7);
  ASSERT_EQ(d.action, SwitchAction::kRestructure);
  t.restructured(1);
  d = t.observe(0.75);  // never beat 0.8
  EXPECT_EQ(d.action, SwitchAction::kRestructure);
  EXPECT_TRUE(d.revert);
  EXPECT_EQ(t.growth_steps(), 0) << "revert discards the useless dendrites";
  t.restructured(1);
  d = t.observe(0.79);
  EXPECT_EQ(d.action, SwitchAction::kComplete);
  EXPECT_EQ(t.tries(), 2);
}

TEST(Tracker, ThresholdListIsIndexedByDendriteCount) {
  DendriteSpec s = spec("gd", 5, 3);
  s.thresholds = {0.1, 0.0};
  SwitchTracker t(s, true);
  t.observe(0.5);
  EXPECT_FALSE(t.observe(0.55).new_best) << "0.55 * 0.9 < 0.5 with 0 dendrites";
  for (int i = 0; i < 3; ++i) t.observe(0.5);
  t.restructured(1);
  EXPECT_TRUE(t.observe(0.51).new_best) << "threshold 0 once one dendrite is in";
}

TEST(Tracker, EmaSmoothsTheScore) {
  DendriteSpec s = spec("none", 10);
  s.history_lookback = 2;
  SwitchTracker t(s, true);
  t.observe(0.4);
  t.observe(0.8);
  EXPECT_DOUBLE_EQ(t.smoothed_score(), 0.6);
}

TEST(Tracker, StateRoundTrips) {
  SwitchTracker a(spec("cc", 2, 2), true), b(spec("cc", 2, 2), true);
  a.observe(0.5);
  a.observe(0.4);
  a.observe(0.4);
  a.restructured(1);
  b.load_state(a.state());
  EXPECT_EQ(a.state(), b.state());
  EXPECT_EQ(a.observe(0.45).action, b.observe(0.45).action);
}

}  // namespace
