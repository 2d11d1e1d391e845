#include "cli/run_setup.hpp"

#include <filesystem>

#include <fmt/core.h>

#include "dkws/error.hpp"
#include "train/run_outputs.hpp"

namespace dkws::cli {

void add_run_options(CLI::App* sub, RunArgs& args) {
  sub->add_option("-c,--config", args.config_path,
                  "Run config (JSON); defaults: EI Conv1D on kws12")
      ->check(CLI::ExistingFile);
  sub->add_option("--task", args.task, "Task: kws12 | kw3 | folder");
  sub->add_option("--data", args.data_dir,
                  "Data folder (default $DKWS_DATA or ../shared/data); for --task folder the "
                  "dataset folder or manifest file (required)");
  sub->add_option("--dendrites", args.dendrites, "Dendrite mode: none | gd | cc");
  sub->add_option("--seed", args.seed, "Random seed (overrides train.seed)");
  sub->add_option("--epochs", args.epochs, "Epochs (overrides train.epochs)");
  sub->add_option("--set", args.overrides, "Override a config value: section.key=value");
  sub->add_option("--cache", args.cache_dir, "Feature cache folder ('' disables)")
      ->capture_default_str();
}

RunConfig run_config_from(const RunArgs& a) {
  RunConfig cfg = a.config_path.empty() ? parse_run_config(nlohmann::json::object(), "defaults")
                                        : load_run_config(a.config_path);
  if (!a.task.empty()) apply_override(cfg, "task=" + a.task);
  if (!a.dendrites.empty()) apply_override(cfg, "dendrites.mode=" + a.dendrites);
  if (a.seed >= 0) apply_override(cfg, fmt::format("train.seed={}", a.seed));
  if (a.epochs > 0) apply_override(cfg, fmt::format("train.epochs={}", a.epochs));
  for (const auto& o : a.overrides) apply_override(cfg, o);
  if (!a.data_dir.empty()) cfg.data_dir = a.data_dir;
  // The default data folder holds Speech Commands, not the user's dataset.
  if (cfg.task == "folder" && cfg.data_dir.empty())
    throw Error("train: task folder needs --data DIR (a dataset folder or manifest file)");
  if (cfg.data_dir.empty()) cfg.data_dir = default_data_dir();
  if (cfg.data_dir.empty())
    throw Error("no data: pass --data DIR or set DKWS_DATA (see README, 'Data')");
  return cfg;
}

TaskData load_run_task(const RunConfig& cfg, const std::string& cache_dir, bool quiet) {
  TaskSpec spec;
  spec.name = cfg.task;
  spec.data_dir = cfg.data_dir;
  spec.front_end = cfg.front_end;
  spec.cache_dir = cache_dir;
  spec.seed = cfg.train.seed;
  spec.quiet = quiet;
  spec.augment = cfg.augment;
  return load_task(spec);
}

FinishedRun train_into(const RunConfig& cfg, const TaskData& data, const std::string& out_dir,
                       bool quiet) {
  FinishedRun run{new_model(cfg, data), {}};
  SavedModel& model = run.model;
  const size_t params_base = model.net.count_params();
  if (!quiet)
    fmt::print(stderr, "model {}: {} parameters; task {}: {} train / {} val / {} test\n",
               cfg.model.family, params_base, data.name, data.train.size(), data.val.size(),
               data.test.size());

  TrainOptions opt;
  opt.quiet = quiet;
  // The model file doubles as the training state: a killed run resumes from it when the same
  // command runs again.
  std::filesystem::create_directories(out_dir);
  opt.state_path = std::filesystem::path(out_dir) / "model.json";
  run.result = train_model(model.net, cfg, data, opt);
  const TrainResult& r = run.result;

  model.metrics = run_metrics_json(cfg, data, r, params_base, model.net);
  save_model(std::filesystem::path(out_dir) / "model.json", model);
  write_run_outputs(out_dir, data, r, model.metrics);
  fmt::print("val_accuracy {:.4f}  test_accuracy {:.4f}  params {}  best epoch {}/{}  {:.1f}s\n",
             r.best_val_acc, r.test_acc, model.net.count_params(), r.best_epoch, r.epochs_run,
             r.train_seconds);
  return run;
}

}  // namespace dkws::cli
