// dkws train end to end on real data: outputs, and a SIGKILL at a random moment followed by the
// same command giving the same metrics as an uninterrupted run.
#include <fstream>

#include <nlohmann/json.hpp>

#include "test_util.hpp"

namespace {

using nlohmann::json;

json read_json(const std::filesystem::path& p) {
  std::ifstream in(p);
  return json::parse(in);
}

std::string train_args(const std::filesystem::path& out) {
  return "train -q --task kws12 --data " + dkws::testing::data_dir().string() +
         " --cache " + (out.parent_path() / "cache").string() +
         " --set model.family=audio_classifier --set model.num_conv=1 --set model.width=0.5"
         " --dendrites cc --set dendrites.n_epochs_to_switch=3 --set dendrites.p_epochs_to_switch=2"
         " --set dendrites.max_dendrites=1 --epochs 24 --seed 3 --out " + out.string();
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
  // Start the killed run with a warm feature cache so the kill lands inside training.
  const double delay = 0.2 + std::uniform_real_distribution<double>(0.1, 0.9)(gen) * seconds;
  const std::string cmd = "timeout -s KILL " + std::to_string(delay) + " \"" + DKWS_CLI_PATH + "\" " +
                          train_args(tmp / "resumed") + " > /dev/null 2>&1";
  const int status = std::system(cmd.c_str());
  const bool was_killed = WIFEXITED(status) && WEXITSTATUS(status) == 137;
  auto again = dkws::testing::run_cli(train_args(tmp / "resumed"));
  ASSERT_EQ(again.exit_code, 0) << again.output;
  json got = read_json(tmp / "resumed" / "metrics.json");
  want.erase("train_seconds");
  got.erase("train_seconds");
  EXPECT_EQ(got, want) << "killed after " << delay << " s (killed: " << was_killed << ")";
}

}  // namespace
