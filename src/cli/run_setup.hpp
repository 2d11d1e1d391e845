// What `dkws train` and `dkws teacher` share: the run config from a file plus command-line
// overrides, the task's features, and one training run written to a folder.
#pragma once
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "dkws/config.hpp"
#include "dkws/dataset.hpp"
#include "dkws/model_file.hpp"
#include "dkws/train.hpp"

namespace dkws::cli {

struct RunArgs {
  std::string config_path;
  std::string task;
  std::string data_dir;
  std::string dendrites;
  std::string cache_dir = ".cache/dkws";
  std::vector<std::string> overrides;
  long long seed = -1;
  int epochs = 0;
};

// --config, --task, --data, --dendrites, --seed, --epochs, --set, --cache.
void add_run_options(CLI::App* sub, RunArgs& args);
// The config file (or the defaults) with the options applied and the data folder resolved.
RunConfig run_config_from(const RunArgs& a);
TaskData load_run_task(const RunConfig& cfg, const std::string& cache_dir, bool quiet);

struct FinishedRun {
  SavedModel model;
  TrainResult result;
};
// Trains a new model of `cfg` on `data` into out_dir (model.json, which doubles as the resumable
// training state, metrics.json, confusion, history, training graph) and prints its summary line.
FinishedRun train_into(const RunConfig& cfg, const TaskData& data, const std::string& out_dir,
                       bool quiet);

}  // namespace dkws::cli
