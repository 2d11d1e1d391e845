// dkws train: config -> task features -> trained model file, metrics.json, confusion matrix and
// per-epoch history.
#include <fmt/core.h>

#include "cli/commands.hpp"
#include "cli/run_setup.hpp"

namespace dkws::cli {
namespace {

struct TrainArgs {
  RunArgs run;
  std::string out_dir = "runs/train";
  bool quiet = false;
};

void run_train(const TrainArgs& a) {
  const RunConfig cfg = run_config_from(a.run);
  const TaskData data = load_run_task(cfg, a.run.cache_dir, a.quiet);
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
  sub->add_flag("-q,--quiet", args->quiet, "No progress output");
  sub->callback([args] { run_train(*args); });
}

}  // namespace dkws::cli
