// Synthetic clips as extra training data (augment.synthetic): the epoch mix respects its ratio,
// the synthetic folder's classes map onto the task's, the config refuses what cannot work, and
// training uses the synthetic rows (mixed in, or for pretraining) but never validates on them.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include <fmt/core.h>

#include "dkws/config.hpp"
#include "dkws/error.hpp"
#include "dkws/models.hpp"
#include "dkws/train.hpp"
#include "test_util.hpp"
#include "tone_wav.hpp"
#include "toy_tasks.hpp"
#include "train/synthetic_mix.hpp"

namespace {

using namespace dkws;
using namespace dkws::testing;
namespace fs = std::filesystem;

// `n` rows of one value each, row i holding base + i, so a row's origin can be read back.
FeatureSet numbered_rows(size_t n, float base, int label) {
  FeatureSet s;
  s.frames = 1;
  s.coeffs = 1;
  for (size_t i = 0; i < n; ++i) {
    s.x.push_back(base + float(i));
    s.y.push_back(label);
  }
  return s;
}

TEST(SyntheticMix, EachEpochHasTheRatioOfSyntheticRowsDrawnWithoutReplacement) {
  const FeatureSet real = numbered_rows(300, 0, 0), synthetic = numbered_rows(2000, 10000, 1);
  SyntheticMix mix;  // one mix for every ratio: the real rows it keeps must survive each draw
  for (double ratio : {0.1, 0.75, 0.25, 0.5}) {
    const FeatureSet& rows = mix.epoch_rows(real, synthetic, ratio, 7, 3);
    size_t from_synthetic = 0;
    std::set<float> seen;
    for (size_t i = 0; i < rows.size(); ++i) {
      EXPECT_TRUE(seen.insert(rows.x[i]).second) << "row " << rows.x[i] << " drawn twice";
      const bool synth = rows.x[i] >= 10000;
      EXPECT_EQ(rows.y[i], synth ? 1 : 0);  // each row keeps its own label
      from_synthetic += synth;
      if (i < real.size()) {
        EXPECT_EQ(rows.x[i], real.x[i]) << "every real row, in order";
      }
    }
    EXPECT_EQ(rows.size() - from_synthetic, real.size());
    // n / (300 + n) = ratio, to the nearest row.
    EXPECT_NEAR(double(from_synthetic) / double(rows.size()), ratio, 1.0 / double(rows.size()))
        << "ratio " << ratio;
  }
  EXPECT_EQ(SyntheticMix::rows_for(300, 2000, 0.25), 100u);
  EXPECT_EQ(SyntheticMix::rows_for(300, 2000, 0.0), 0u);
  EXPECT_EQ(SyntheticMix::rows_for(300, 40, 0.5), 40u) << "at most every synthetic clip";
}

TEST(SyntheticMix, TheDrawDependsOnSeedAndEpochOnly) {
  const FeatureSet real = numbered_rows(50, 0, 0), synthetic = numbered_rows(500, 1000, 1);
  SyntheticMix a, b;
  const std::vector<float> first = a.epoch_rows(real, synthetic, 0.5, 1, 4).x;
  b.epoch_rows(real, synthetic, 0.5, 1, 9);  // another epoch in between
  EXPECT_EQ(b.epoch_rows(real, synthetic, 0.5, 1, 4).x, first) << "same seed and epoch";
  EXPECT_NE(a.epoch_rows(real, synthetic, 0.5, 1, 5).x, first) << "a new draw every epoch";
  EXPECT_NE(a.epoch_rows(real, synthetic, 0.5, 2, 4).x, first) << "and for every seed";
}

nlohmann::json augment(const nlohmann::json& keys) {
  return {{"augment", keys}};
}

void expect_config_error(const nlohmann::json& j, const std::string& key) {
  try {
    parse_run_config(j, "cfg.json");
    ADD_FAILURE() << "accepted " << j.dump();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(key), std::string::npos) << e.what();
  }
}

TEST(SyntheticConfig, RefusesWhatCannotWork) {
  expect_config_error(augment({{"synthetic", "s"}, {"synthetic_ratio", 0.95}}),
                      "augment.synthetic_ratio");
  expect_config_error(augment({{"synthetic", "s"}, {"synthetic_pretrain_epochs", -1}}),
                      "augment.synthetic_pretrain_epochs");
  expect_config_error(augment({{"synthetic_ratio", 0.3}}), "augment.synthetic");
  expect_config_error(augment({{"synthetic_pretrain_epochs", 5}}), "augment.synthetic");
  expect_config_error(augment({{"synthetic", "s"}, {"synthetic_ratio", 0.3}, {"variants", 2}}),
                      "augment.variants");
  nlohmann::json with_teacher = augment({{"synthetic", "s"}, {"synthetic_ratio", 0.3}});
  with_teacher["train"] = {{"teacher", "t.json"}};
  expect_config_error(with_teacher, "train.teacher");
  const RunConfig ok =
      parse_run_config(augment({{"synthetic", "s"}, {"synthetic_ratio", 0.3}}), "cfg.json");
  EXPECT_DOUBLE_EQ(ok.augment.synthetic_ratio, 0.3);
  EXPECT_EQ(parse_run_config(ok.to_json(), "again").augment.synthetic, "s");
}

// A class-folder dataset of tone clips, one speaker per clip.
void write_classes(const fs::path& root, const std::vector<std::string>& classes, int per_class) {
  for (size_t c = 0; c < classes.size(); ++c)
    for (int i = 0; i < per_class; ++i)
      write_tone_wav(root / classes[c] / fmt::format("v{}c{}_nohash_{}.wav", i, c, i),
                     300.0 * double(c + 1) + 7 * i);
}

TEST(SyntheticTask, FoldersMapOntoTheTaskClassesAndJoinTrainingOnly) {
  TempDir t;
  write_classes(t / "real", {"yes", "_unknown_", "_silence_"}, 10);
  // synth's names: 'unknown' and 'noise' stand for '_unknown_' and '_silence_'; 'maybe' is no
  // class of the task.
  write_classes(t / "synth", {"yes", "unknown", "noise", "maybe"}, 4);
  TaskSpec spec;
  spec.name = "folder";
  spec.data_dir = t / "real";
  spec.quiet = true;
  const TaskData plain = load_task(spec);
  EXPECT_EQ(plain.synthetic.size(), 0u) << "not loaded unless used";
  spec.augment.synthetic = (t / "synth").string();
  spec.augment.synthetic_ratio = 0.2;
  const TaskData data = load_task(spec);
  ASSERT_EQ(data.synthetic.size(), 12u) << "yes, unknown and noise; not maybe";
  EXPECT_EQ(data.synthetic.dim(), data.train.dim());
  std::map<std::string, int> label_of;
  for (size_t i = 0; i < data.synthetic.size(); ++i) {
    const std::string folder = fs::path(data.synthetic.paths[i]).parent_path().filename();
    label_of[folder] = data.synthetic.y[i];
  }
  const auto index = [&](const std::string& c) {
    return int(std::find(data.classes.begin(), data.classes.end(), c) - data.classes.begin());
  };
  EXPECT_EQ(label_of.at("yes"), index("yes"));
  EXPECT_EQ(label_of.at("unknown"), index("_unknown_"));
  EXPECT_EQ(label_of.at("noise"), index("_silence_"));
  EXPECT_EQ(label_of.count("maybe"), 0u);
  // Validation and test are the real ones, unchanged.
  EXPECT_EQ(data.val.x, plain.val.x);
  EXPECT_EQ(data.test.x, plain.test.x);
  EXPECT_EQ(data.train.x, plain.train.x);
  bool noted = false;
  for (const std::string& n : data.notes) noted |= n.find("maybe (4)") != std::string::npos;
  EXPECT_TRUE(noted) << "the left-out class is named";

  spec.augment.synthetic = (t / "real" / "yes").string();  // a folder of clips, no classes
  EXPECT_THROW(load_task(spec), Error);
  spec.augment.synthetic = (t / "missing").string();
  try {
    load_task(spec);
    ADD_FAILURE() << "a missing synthetic folder loaded";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("missing"), std::string::npos) << e.what();
  }
}

// Real training rows whose labels are noise, so only the synthetic rows teach anything.
TaskData task_with_useless_real_labels() {
  TaskData t;
  t.name = "toy";
  t.classes = {"a", "b", "c"};
  t.train = pattern_set(60, 1);
  Rng rng(5);
  for (int& y : t.train.y) y = int(rng.below(3));
  t.val = pattern_set(90, 2);
  t.test = pattern_set(90, 3);
  t.synthetic = pattern_set(600, 4);
  return t;
}

TrainResult train_with(const TaskData& task, const nlohmann::json& augment_keys, int epochs) {
  const RunConfig cfg = parse_run_config({{"train", {{"epochs", epochs}, {"lr", 0.01}}},
                                          {"dendrites", {{"n_epochs_to_switch", 1000}}},
                                          {"augment", augment_keys}},
                                         "toy");
  Rng rng(1);
  nn::Sequential net = build_model(cfg.model, 8, 3, 3, rng);
  TrainOptions opt;
  opt.quiet = true;
  return train_model(net, cfg, task, opt);
}

TEST(SyntheticTraining, MixedInRowsTeachWhatTheRealLabelsCannot) {
  const TaskData task = task_with_useless_real_labels();
  const TrainResult real_only = train_with(task, nlohmann::json::object(), 8);
  const TrainResult mixed =
      train_with(task, {{"synthetic", "toy-synth"}, {"synthetic_ratio", 0.8}}, 8);
  EXPECT_LT(real_only.best_val_acc, 0.6);
  EXPECT_GT(mixed.best_val_acc, 0.85);
  EXPECT_EQ(mixed.history.size(), 8u);
}

TEST(SyntheticTraining, PretrainingHappensBeforeTheBudgetedEpochs) {
  const TaskData task = task_with_useless_real_labels();
  const TrainResult r =
      train_with(task, {{"synthetic", "toy-synth"}, {"synthetic_pretrain_epochs", 10}}, 1);
  ASSERT_EQ(r.history.size(), 1u) << "pretraining epochs are outside the budget";
  ASSERT_FALSE(r.transitions.empty());
  const auto& p = r.transitions.front();
  EXPECT_EQ(p.at("action"), "synthetic pretraining");
  EXPECT_EQ(p.at("epochs"), 10);
  EXPECT_EQ(p.at("clips"), 600);
  EXPECT_GT(p.at("val_acc").get<double>(), 0.85);
  // One epoch on the noisy real labels cannot undo it all; without pretraining it learns nothing.
  EXPECT_GT(r.history.front().val_acc, 0.6);
  EXPECT_LT(train_with(task, nlohmann::json::object(), 1).history.front().val_acc, 0.6);

  TaskData no_synthetic = task;
  no_synthetic.synthetic = {};
  EXPECT_THROW(
      train_with(no_synthetic, {{"synthetic", "toy-synth"}, {"synthetic_pretrain_epochs", 1}}, 1),
      Error);
}

}  // namespace
