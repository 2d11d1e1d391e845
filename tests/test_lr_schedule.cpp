// Cosine and one-cycle learning-rate schedules: their values, and that training follows them.
#include "dkws/models.hpp"
#include "dkws/train.hpp"
#include "test_util.hpp"
#include "toy_tasks.hpp"
#include "train/lr_schedule.hpp"

namespace {

using namespace dkws;

TEST(LrSchedule, CosineRunsFromTheRateToTheFinalFraction) {
  TrainSpec t;
  t.scheduler = "cosine";
  t.lr = 0.01;
  t.epochs = 11;
  t.final_lr_fraction = 0.1;
  EXPECT_TRUE(epoch_scheduled(t));
  EXPECT_DOUBLE_EQ(scheduled_lr(t, 0), 0.01);
  EXPECT_NEAR(scheduled_lr(t, 5), (0.01 + 0.001) / 2, 1e-12);  // half way: the mean
  EXPECT_NEAR(scheduled_lr(t, 10), 0.001, 1e-12);
  EXPECT_NEAR(scheduled_lr(t, 2), 0.001 + 0.009 * 0.5 * (1 + std::cos(M_PI * 0.2)), 1e-12);
  for (int e = 1; e < 11; ++e) EXPECT_LT(scheduled_lr(t, e), scheduled_lr(t, e - 1));
}

TEST(LrSchedule, OneCycleWarmsUpThenAnneals) {
  TrainSpec t;
  t.scheduler = "onecycle";
  t.lr = 0.02;
  t.epochs = 20;
  t.warmup_fraction = 0.25;  // 5 warm-up epochs
  t.final_lr_fraction = 0.05;
  EXPECT_NEAR(scheduled_lr(t, 0), 0.001, 1e-12);
  EXPECT_NEAR(scheduled_lr(t, 2), 0.001 + 0.019 * 2 / 5, 1e-12);
  EXPECT_DOUBLE_EQ(scheduled_lr(t, 5), 0.02);  // the peak
  EXPECT_NEAR(scheduled_lr(t, 19), 0.001, 1e-12);
  for (int e = 1; e <= 5; ++e) EXPECT_GT(scheduled_lr(t, e), scheduled_lr(t, e - 1));
  for (int e = 6; e < 20; ++e) EXPECT_LT(scheduled_lr(t, e), scheduled_lr(t, e - 1));
}

TEST(LrSchedule, OtherSchedulersKeepTheRate) {
  TrainSpec t;
  t.lr = 0.003;
  for (const char* s : {"none", "plateau"}) {
    t.scheduler = s;
    EXPECT_FALSE(epoch_scheduled(t));
    EXPECT_DOUBLE_EQ(scheduled_lr(t, 7), 0.003);
  }
}

TEST(LrSchedule, TrainingRecordsTheScheduledRateEachEpoch) {
  const TaskData task = dkws::testing::xor_task();
  const RunConfig cfg =
      parse_run_config({{"train", {{"epochs", 6}, {"scheduler", "onecycle"}, {"lr", 0.01}}},
                        {"dendrites", {{"n_epochs_to_switch", 100}}}},
                       "toy");
  Rng rng(1);
  nn::Sequential net = build_model(cfg.model, 1, 2, 2, rng);
  TrainOptions opt;
  opt.quiet = true;
  const TrainResult r = train_model(net, cfg, task, opt);
  ASSERT_EQ(r.history.size(), 6u);
  for (int e = 0; e < 6; ++e)
    EXPECT_FLOAT_EQ(float(r.history[size_t(e)].lr), float(scheduled_lr(cfg.train, e))) << e;
}

}  // namespace
