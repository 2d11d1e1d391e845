// dkws train: config -> task features -> trained model file, metrics.json, confusion matrix and
// per-epoch history; with --folds K, one such run per speaker-disjoint fold and their summary.
#include <cmath>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/run_setup.hpp"
#include "dkws/sweep_run.hpp"
#include "dkws/util.hpp"

namespace dkws::cli {
namespace {

struct TrainArgs {
  RunArgs run;
  std::string out_dir = "runs/train";
  int folds = 1;
  bool quiet = false;
};

// K runs, fold f testing on speaker fold f and validating on fold f+1 (sweep_run.hpp), into
// OUT/fold-<f+1>/; then each fold's and the pooled test accuracy (every clip tested once) in
// OUT/folds.json and OUT/folds.csv.
void train_folds(const RunConfig& cfg, const TaskData& data, const TrainArgs& a) {
  const sweep::SpeakerFolds folds = sweep::make_folds(data, a.folds);
  nlohmann::json per_fold = nlohmann::json::array();
  double sum = 0, sum_sq = 0, correct = 0, clips = 0;
  for (int f = 0; f < folds.k; ++f) {
    const TaskData fold = sweep::fold_task(data, folds.pooled, folds.fold, folds.k, f);
    const std::string dir = fmt::format("{}/fold-{}", a.out_dir, f + 1);
    if (!a.quiet)
      fmt::print(stderr, "fold {}/{}: {} train / {} val / {} test\n", f + 1, folds.k,
                 fold.train.size(), fold.val.size(), fold.test.size());
    const FinishedRun run = train_into(cfg, fold, dir, a.quiet);
    const TrainResult& r = run.result;
    sum += r.test_acc;
    sum_sq += r.test_acc * r.test_acc;
    correct += r.test_acc * double(fold.test.size());
    clips += double(fold.test.size());
    per_fold.push_back({{"fold", f + 1},
                        {"dir", dir},
                        {"train", fold.train.size()},
                        {"val", fold.val.size()},
                        {"test", fold.test.size()},
                        {"val_accuracy", r.best_val_acc},
                        {"test_accuracy", r.test_acc},
                        {"params", run.model.net.count_params()},
                        {"best_epoch", r.best_epoch}});
  }
  const double k = folds.k, mean = sum / k;
  const double sd = std::sqrt(std::max(0.0, (sum_sq - k * mean * mean) / (k - 1)));
  const nlohmann::json summary = {{"folds", folds.k},
                                  {"test_accuracy_mean", mean},
                                  {"test_accuracy_sd", sd},
                                  {"test_accuracy_pooled", correct / clips},
                                  {"clips_tested", std::lround(clips)},
                                  {"per_fold", per_fold}};
  write_file_atomic(std::filesystem::path(a.out_dir) / "folds.json", summary.dump(2) + "\n");
  // The CSV is the JSON's per-fold rows, in the same column order.
  const std::vector<std::string> columns = {
      "fold", "train", "val", "test", "val_accuracy", "test_accuracy", "params", "best_epoch"};
  std::string csv;
  for (const std::string& c : columns) csv += (csv.empty() ? "" : ",") + c;
  for (const nlohmann::json& row : per_fold) {
    csv += "\n";
    for (size_t i = 0; i < columns.size(); ++i) csv += (i ? "," : "") + row.at(columns[i]).dump();
  }
  write_file_atomic(std::filesystem::path(a.out_dir) / "folds.csv", csv + "\n");
  fmt::print(
      "{} folds: test accuracy {:.4f} +- {:.4f} (mean +- sd over folds), {:.4f} pooled over "
      "all {} clips\nwrote {}/folds.json, folds.csv and fold-1..{}/\n",
      folds.k, mean, sd, correct / clips, std::lround(clips), a.out_dir, folds.k);
}

void run_train(const TrainArgs& a) {
  const RunConfig cfg = run_config_from(a.run);
  const TaskData data = load_run_task(cfg, a.run.cache_dir, a.quiet);
  if (a.folds > 1) return train_folds(cfg, data, a);
  train_into(cfg, data, a.out_dir, a.quiet);
  fmt::print(
      "wrote {}/model.json, metrics.json, confusion.csv, confusion.svg, history.csv, "
      "training_graph.svg\n",
      a.out_dir);
}

}  // namespace

void register_train(CLI::App& app) {
  auto args = std::make_shared<TrainArgs>();
  CLI::App* sub = app.add_subcommand("train", "Train a model from a config file on a task");
  add_run_options(sub, args->run);
  sub->add_option("-o,--out", args->out_dir, "Output folder")->capture_default_str();
  sub->add_option("--folds", args->folds,
                  "K > 1: train K speaker-disjoint folds (OUT/fold-N/), each clip tested once")
      ->check(CLI::Range(1, 100));
  sub->add_flag("-q,--quiet", args->quiet, "No progress output");
  sub->callback([args] { run_train(*args); });
}

}  // namespace dkws::cli
