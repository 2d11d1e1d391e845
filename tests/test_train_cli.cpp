// dkws train end to end on real data: outputs, and a SIGKILL at a random moment followed by the
// same command giving the same metrics as an uninterrupted run.
#include <fstream>

#include <nlohmann/json.hpp>

#include "sweep_test_util.hpp"
#include "test_util.hpp"

namespace {

using nlohmann::json;

json read_json(const std::filesystem::path& p) {
  std::ifstream in(p);
  return json::parse(in);
}

std::string train_args(const std::filesystem::path& out) {
  return "train -q --task kws12 --data " + dkws::testing::data_dir().string() + " --cache " +
         (out.parent_path() / "cache").string() +
         " --set model.family=audio_classifier --set model.num_conv=1 --set model.width=0.5"
         " --dendrites cc --set dendrites.n_epochs_to_switch=3 --set dendrites.p_epochs_to_switch=2"
         " --set dendrites.max_dendrites=1 --epochs 24 --seed 3 --out " +
         out.string();
}

TEST(TrainCli, WritesModelMetricsAndConfusion) {
  if (!dkws::testing::have_data()) GTEST_SKIP() << "no data at " << dkws::testing::data_dir();
  dkws::testing::TempDir tmp;
  const auto out = tmp / "run";
  auto r = dkws::testing::run_cli(train_args(out));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const json m = read_json(out / "metrics.json");
  for (const char* key : {"val_accuracy", "test_accuracy", "params", "params_base", "epochs",
                          "train_seconds", "dendrites", "transitions"})
    EXPECT_TRUE(m.contains(key)) << key;
  EXPECT_GT(m["test_accuracy"].get<double>(), 1.0 / 12 + 0.1) << "better than chance";
  EXPECT_EQ(m["dendrites"], "cc");
  const json model = read_json(out / "model.json");
  EXPECT_EQ(model["format"], "dkws-model");
  EXPECT_TRUE(model["training_state"].is_null());
  EXPECT_TRUE(std::filesystem::exists(out / "confusion.csv"));
  EXPECT_TRUE(std::filesystem::exists(out / "history.csv"));
}

TEST(TrainCli, SigkillThenRerunGivesTheSameMetrics) {
  if (!dkws::testing::have_data()) GTEST_SKIP() << "no data at " << dkws::testing::data_dir();
  dkws::testing::TempDir tmp;
  auto full = dkws::testing::run_cli(train_args(tmp / "full"));
  ASSERT_EQ(full.exit_code, 0) << full.output;
  json want = read_json(tmp / "full" / "metrics.json");
  const double seconds = want["train_seconds"].get<double>();
  std::random_device rd;
  std::mt19937 gen(rd());
  // Kill at a random moment until one lands inside training: the model file then holds a live
  // training_state (a kill during feature loading, or one after the end, proves nothing).
  bool killed_mid_training = false;
  double delay = 0;
  for (int attempt = 0; attempt < 8 && !killed_mid_training; ++attempt) {
    std::filesystem::remove_all(tmp / "resumed");
    delay = 0.2 + std::uniform_real_distribution<double>(0.05, 0.95)(gen) * seconds;
    const std::string cmd = "timeout -s KILL " + std::to_string(delay) + " \"" + DKWS_CLI_PATH +
                            "\" " + train_args(tmp / "resumed") + " > /dev/null 2>&1";
    const int status = std::system(cmd.c_str());
    const bool killed = WIFEXITED(status) && WEXITSTATUS(status) == 137;
    const auto model = tmp / "resumed" / "model.json";
    killed_mid_training =
        killed && std::filesystem::exists(model) && !read_json(model)["training_state"].is_null();
  }
  ASSERT_TRUE(killed_mid_training) << "no kill landed inside training";
  auto again = dkws::testing::run_cli(train_args(tmp / "resumed"));
  ASSERT_EQ(again.exit_code, 0) << again.output;
  json got = read_json(tmp / "resumed" / "metrics.json");
  want.erase("train_seconds");
  got.erase("train_seconds");
  EXPECT_NE(again.output.find("resuming"), std::string::npos) << again.output;
  EXPECT_EQ(got, want) << "killed after " << delay << " s";
}

// --folds 3 on a tone dataset: one run per fold, every clip tested exactly once, and the pooled
// accuracy is the folds' test accuracies weighted by their clips.
TEST(TrainCli, FoldsTestEveryClipOnce) {
  dkws::testing::TempDir tmp;
  dkws::testing::make_tone_dataset(tmp / "data");
  const auto out = tmp / "folds";
  const auto r = dkws::testing::run_cli("train -q --task folder --data " + (tmp / "data").string() +
                                        " --cache '' --epochs 6" +
                                        " --set model.width=0.25 --folds 3 --out " + out.string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const json f = read_json(out / "folds.json");
  ASSERT_EQ(f["folds"], 3);
  ASSERT_EQ(f["per_fold"].size(), 3u);
  size_t tested = 0;
  double correct = 0;
  for (const json& fold : f["per_fold"]) {
    const size_t n = fold["test"];
    tested += n;
    correct += fold["test_accuracy"].get<double>() * double(n);
    EXPECT_TRUE(std::filesystem::exists(out / fmt::format("fold-{}", fold["fold"].get<int>()) /
                                        "model.json"));
    EXPECT_EQ(fold["train"].get<size_t>() + fold["val"].get<size_t>() + n, 72u);
  }
  EXPECT_EQ(tested, 72u) << "3 tone classes x 24 clips, each tested once";
  EXPECT_EQ(f["clips_tested"], 72);
  EXPECT_NEAR(f["test_accuracy_pooled"].get<double>(), correct / 72, 1e-9);
  EXPECT_NE(r.output.find("3 folds: test accuracy"), std::string::npos) << r.output;
  EXPECT_TRUE(std::filesystem::exists(out / "folds.csv"));

  const auto bad =
      dkws::testing::run_cli("train -q --task folder --data " + (tmp / "data").string() +
                             " --cache '' --epochs 1 --folds 40 --out " + (tmp / "bad").string());
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.output.find("--folds 40"), std::string::npos) << bad.output;
}

}  // namespace
