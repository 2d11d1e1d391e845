// The training recipe inside the epoch loop: eval-mode train accuracy in the history, and
// knowledge distillation from cached teacher logits (a teacher equal to the labels reproduces
// plain training; a file made for other features is refused).
#include <cmath>
#include <utility>

#include "dkws/error.hpp"
#include "dkws/models.hpp"
#include "dkws/sweep.hpp"
#include "dkws/teacher.hpp"
#include "dkws/train.hpp"
#include "test_util.hpp"
#include "toy_tasks.hpp"

namespace {

using namespace dkws;
using dkws::testing::TempDir;

// The message of the dkws::Error that f throws ("" if none).
template <class F>
std::string error_from(F f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

RunConfig toy_config(int epochs, double dropout) {
  return parse_run_config({{"model", {{"dropout", dropout}}},
                           {"train", {{"epochs", epochs}, {"lr", 0.01}}},
                           {"dendrites", {{"n_epochs_to_switch", 100}}}},
                          "toy");
}

struct Trained {
  nn::Sequential net;
  TrainResult result;
};

Trained train_xor(const TaskData& task, const RunConfig& cfg) {
  Rng rng(cfg.train.seed);
  Trained t{build_model(cfg.model, 1, 2, 2, rng), {}};
  TrainOptions opt;
  opt.quiet = true;
  t.result = train_model(t.net, cfg, task, opt);
  return t;
}

// Teacher logits that put all probability on each training row's label at any temperature
// up to 100 (exp(-1000 / 100) underflows nothing, but exp(-1000) does at T = 1).
TeacherLogits label_teacher(const TaskData& task) {
  TeacherLogits t;
  t.features_key = feature_set_key(task.train);
  t.classes = task.classes;
  t.logits.assign(task.train.size() * task.classes.size(), 0.f);
  for (size_t i = 0; i < task.train.size(); ++i)
    t.logits[i * task.classes.size() + size_t(task.train.y[i])] = 1000.f;
  return t;
}

TEST(EvalTrainAccuracy, DiffersFromTrainModeWhenDropoutIsOn) {
  const TaskData task = dkws::testing::xor_task();
  Trained t = train_xor(task, toy_config(12, 0.5));
  const auto& h = t.result.history;
  ASSERT_EQ(h.size(), 12u);
  int differ = 0;
  double mean_gap = 0;
  for (const auto& e : h) {
    ASSERT_TRUE(std::isfinite(e.train_eval_acc));
    differ += e.train_eval_acc != e.train_acc;
    mean_gap += (e.train_eval_acc - e.train_acc) / double(h.size());
  }
  EXPECT_EQ(differ, 12);
  // Dropout at 0.5 hurts the train-mode figure: the eval-mode one is higher on average.
  EXPECT_GT(mean_gap, 0.02);
  // It is the eval-mode accuracy of the network after that epoch: at the best epoch, of the
  // returned checkpoint.
  const auto& best = h[size_t(t.result.best_epoch - 1)];
  EXPECT_DOUBLE_EQ(best.train_eval_acc, evaluate(t.net, task.train).accuracy);

  RunConfig off = toy_config(2, 0.5);
  off.train.eval_train_accuracy = false;
  for (const auto& e : train_xor(task, off).result.history)
    EXPECT_TRUE(std::isnan(e.train_eval_acc));
}

TEST(Distillation, TeacherEqualToTheLabelsReproducesPlainTraining) {
  const TaskData task = dkws::testing::xor_task();
  TempDir dir;
  const auto file = dir / "teacher_logits.json";
  save_teacher_logits(file, label_teacher(task));
  const RunConfig plain = toy_config(8, 0.25);
  const Trained base = train_xor(task, plain);
  for (double weight : {0.5, 1.0}) {
    RunConfig cfg = plain;
    cfg.train.teacher = file.string();
    cfg.train.distill_weight = weight;
    cfg.train.distill_temperature = 1;
    Trained d = train_xor(task, cfg);
    ASSERT_EQ(d.result.history.size(), base.result.history.size());
    for (size_t e = 0; e < base.result.history.size(); ++e) {
      EXPECT_EQ(d.result.history[e].val_acc, base.result.history[e].val_acc) << e;
      EXPECT_NEAR(d.result.history[e].train_loss, base.result.history[e].train_loss, 1e-5) << e;
    }
    EXPECT_EQ(d.result.test_acc, base.result.test_acc);
    const auto pb = base.net.params(), pd = std::as_const(d.net).params();
    ASSERT_EQ(pb.size(), pd.size());
    for (size_t p = 0; p < pb.size(); ++p)
      for (size_t k = 0; k < pb[p]->value.size(); ++k)
        EXPECT_NEAR(pd[p]->value.data[k], pb[p]->value.data[k], 1e-4) << p << " " << k;
  }
  // A teacher that disagrees with the labels changes training (so the test above can fail).
  TeacherLogits wrong = label_teacher(task);
  for (size_t i = 0; i < wrong.logits.size(); ++i) wrong.logits[i] = 1000.f - wrong.logits[i];
  save_teacher_logits(dir / "wrong.json", wrong);
  RunConfig cfg = plain;
  cfg.train.teacher = (dir / "wrong.json").string();
  cfg.train.distill_weight = 0.5;
  EXPECT_NE(train_xor(task, cfg).result.history.back().train_loss,
            base.result.history.back().train_loss);
}

TEST(Distillation, TeacherFileIsKeyedToTheTrainingFeatures) {
  const TaskData task = dkws::testing::xor_task();
  TempDir dir;
  const auto file = dir / "teacher_logits.json";
  TeacherLogits t = label_teacher(task);
  t.members = {"a/model.json", "b/model.json"};
  save_teacher_logits(file, t);
  const TeacherLogits back = load_teacher_logits(file, task.train, task.classes);
  EXPECT_EQ(back.logits, t.logits);
  EXPECT_EQ(back.members, t.members);
  EXPECT_EQ(back.rows(), task.train.size());

  TaskData other = task;
  other.train.x[0] += 0.5f;  // one feature changed: another key
  EXPECT_NE(feature_set_key(other.train), feature_set_key(task.train));
  RunConfig cfg = toy_config(1, 0.25);
  cfg.train.teacher = file.string();
  const std::string msg = error_from([&] { train_xor(other, cfg); });
  EXPECT_NE(msg.find(file.string()), std::string::npos) << msg;
  EXPECT_NE(msg.find("other training features"), std::string::npos) << msg;
  EXPECT_NE(error_from([&] {
              load_teacher_logits(dir / "none.json", task.train, task.classes);
            }).find("none.json: teacher logits file not found"),
            std::string::npos);
}

TEST(RecipeKeys, WorkFromTheCommandLineAndInSweepSpaces) {
  RunConfig cfg = parse_run_config(nlohmann::json::object(), "defaults");
  EXPECT_FALSE(cfg.train.soft_targets());  // defaults train on one-hot labels, as before
  EXPECT_TRUE(cfg.train.eval_train_accuracy);
  apply_override(cfg, "train.scheduler=onecycle");
  apply_override(cfg, "train.label_smoothing=0.1");
  apply_override(cfg, "train.teacher=t.json");
  EXPECT_EQ(cfg.train.scheduler, "onecycle");
  EXPECT_TRUE(cfg.train.soft_targets());
  EXPECT_NE(error_from([&] {
              apply_override(cfg, "train.label_smoothing=1.5");
            }).find("train.label_smoothing"),
            std::string::npos);
  EXPECT_NE(error_from([&] { apply_override(cfg, "train.scheduler=step"); }).find("'step'"),
            std::string::npos);
  // A config file written before these keys existed loads with their defaults.
  const RunConfig old =
      parse_run_config({{"train", {{"epochs", 5}, {"scheduler", "plateau"}}}}, "old");
  EXPECT_EQ(old.train.mixup, 0);
  EXPECT_TRUE(old.train.teacher.empty());

  const sweep::SearchSpace space =
      sweep::parse_space({{"base", {{"train", {{"epochs", 3}}}}},
                          {"params",
                           {{"train.scheduler", {"cosine", "onecycle"}},
                            {"train.mixup", {0.0, 0.2}},
                            {"train.distill_temperature", {{"range", {1.0, 8.0}}}}}}},
                         "space");
  const auto configs = sweep::sample_configs(space, "random", 6, 1);
  for (const auto& h : configs) {
    const RunConfig c = space.config_for(h);
    EXPECT_EQ(c.train.scheduler, h["train.scheduler"].get<std::string>());
    EXPECT_EQ(c.train.mixup, h["train.mixup"].get<double>());
    EXPECT_EQ(c.train.distill_temperature, h["train.distill_temperature"].get<double>());
  }
}

// The measured recipe (docs/results/recipe.md): 3,612 parameters under one-cycle for 180 epochs.
TEST(RecipeKeys, TheRecipeConfigIsTheMeasuredOne) {
  const RunConfig cfg =
      load_run_config(dkws::testing::source_dir() / "configs" / "recipe_kws12.json");
  EXPECT_EQ(cfg.train.scheduler, "onecycle");
  EXPECT_EQ(cfg.train.epochs, 180);
  EXPECT_FALSE(cfg.train.early_stopping);
  EXPECT_EQ(cfg.model.max_norm, 1.0);  // the family default, as in the measured runs
  Rng rng(1);
  EXPECT_EQ(build_model(cfg.model, 50, 13, 12, rng).count_params(), 3612u);
}

}  // namespace
