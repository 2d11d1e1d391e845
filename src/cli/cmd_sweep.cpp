// dkws sweep: the matched-arm hyperparameter sweep (run, join as a worker, or show status).
#include <cstdlib>
#include <filesystem>
#include <map>

#include <fmt/core.h>

#include "cli/commands.hpp"
#include "dkws/error.hpp"
#include "dkws/sweep.hpp"
#include "dkws/sweep_analysis.hpp"
#include "dkws/sweep_run.hpp"

namespace dkws::cli {
namespace {

namespace fs = std::filesystem;
using namespace dkws::sweep;

struct StatusArgs {
  std::string target;
  std::string out;
};

// DIR (a sweep folder with sweep.db) or a storage URL; trials.json goes to DIR, or --out.
void run_status(const StatusArgs& a) {
  const bool is_dir = fs::is_directory(a.target);
  const std::string url = is_dir ? (fs::path(a.target) / "sweep.db").string() : a.target;
  if (is_dir && !fs::exists(url))
    throw Error(fmt::format("{}: no sweep here (no sweep.db)", a.target));
  const StorageUrl where = parse_storage_url(url);
  if (!is_dir && !where.postgres && !fs::exists(where.sqlite_file))
    throw Error(fmt::format("{}: no such sweep folder or database", a.target));
  auto store = open_storage(url);
  const nlohmann::json meta = store->metadata();
  if (meta.is_null()) throw Error(fmt::format("{}: holds no sweep", store->describe()));
  const fs::path out = !a.out.empty()   ? fs::path(a.out)
                       : is_dir         ? fs::path(a.target)
                       : where.postgres ? fs::path(".")
                                        : fs::path(where.sqlite_file).parent_path();
  const Counts n = store->counts();
  const auto rows = store->trials();
  fmt::print("sweep {}: task {}, arms {}, {} configs, seeds {}, sampler {}\n", store->describe(),
             meta.value("task", ""), meta["arms"].dump(), meta.value("n_configs", 0),
             meta["seeds"].dump(), meta.value("sampler", ""));
  fmt::print("trials {}: {} done, {} running, {} queued, {} failed\n", n.total(), n.done, n.running,
             n.queued, n.failed);
  std::map<std::string, std::pair<size_t, double>> per_arm;  // done, best val
  for (const auto& r : rows)
    if (r.status == "done") {
      auto& [count, best] = per_arm[r.spec.arm];
      ++count;
      best = std::max(best, r.result.value("val_acc", 0.0));
    }
  for (const auto& arm : meta["arms"]) {
    const auto it = per_arm.find(arm.get<std::string>());
    if (it != per_arm.end())
      fmt::print("  {:8} {:4} done, best val {:.4f}\n", arm.get<std::string>(), it->second.first,
                 it->second.second);
  }
  fs::create_directories(out.empty() ? fs::path(".") : out);
  write_trials_json(*store, out.empty() ? fs::path(".") : out);
  fmt::print("wrote {}\n", ((out.empty() ? fs::path(".") : out) / "trials.json").string());
}

struct BestArgs {
  std::string dir;
  double max_params = 1500;
  std::string arm;  // empty: every arm
  bool json = false, path_only = false;
};

// The model a user would ship under a parameter budget: per arm, the configuration with the best
// mean validation accuracy among those that fit (as in the report's budget table), then that
// configuration's seed with the best validation accuracy; across arms, the best by validation.
void run_best(const BestArgs& a) {
  const SweepTrials t = load_sweep_trials(fs::path(a.dir) / "trials.json");
  const std::vector<std::string> arms = a.arm.empty() ? t.arms : std::vector<std::string>{a.arm};
  const SweepTrial* best = nullptr;
  for (const std::string& arm : arms) {
    const BudgetCell cell =
        select_at_budget(t.trials, arm, "params", "test_acc", a.max_params, t.seeds, 0, 1);
    if (!cell.feasible) continue;
    for (const SweepTrial& tr : t.trials)
      if (tr.done() && tr.arm == arm && tr.config_id == cell.config_id &&
          (!best || tr.val_acc > best->val_acc))
        best = &tr;
  }
  if (!best)
    throw Error(fmt::format("sweep best: no finished trial{} with at most {} parameters in {}",
                            a.arm.empty() ? "" : " of arm " + a.arm, a.max_params, a.dir));
  const fs::path run = fs::path(a.dir) / best->run_dir;
  if (a.path_only) {
    fmt::print("{}\n", run.string());
  } else if (a.json) {
    fmt::print("{}\n", nlohmann::json{{"trial_id", best->trial_id},
                                      {"config_id", best->config_id},
                                      {"arm", best->arm},
                                      {"seed", best->seed},
                                      {"params", best->params},
                                      {"dendrites", best->dendrites},
                                      {"val_acc", best->val_acc},
                                      {"test_acc", best->test_acc},
                                      {"run_dir", run.string()}}
                           .dump());
  } else {
    fmt::print(
        "best under {} parameters: arm {} config {} seed {} (trial {}): {} parameters, "
        "{} dendrites, val {:.4f}, test {:.4f}\n  {}\n",
        a.max_params, best->arm, best->config_id, best->seed, best->trial_id, best->params,
        best->dendrites, best->val_acc, best->test_acc, run.string());
  }
}

struct SizesArgs {
  std::string space;
  size_t configs = 100;
  uint64_t seed = 1;
  std::string task = "kws12";
  int classes = 0;  // 0: the task's
  std::string arms = "none,restart,gd,cc";
  std::vector<double> budgets = {1500, 4000};
};

// How a space's random sample spreads over the budgets, by final model size, before training.
void run_sizes(const SizesArgs& a) {
  const SearchSpace space = load_space(a.space);
  const int classes = a.classes > 0 ? a.classes : a.task == "kws12" ? 12 : a.task == "kw3" ? 3 : 0;
  if (classes == 0) throw Error(fmt::format("sweep sizes: --task {} needs --classes", a.task));
  const auto configs = sample_configs(space, "random", a.configs, a.seed);
  const auto fits = count_budget_fits(space, configs, parse_arms(a.arms), a.budgets, classes);
  fmt::print(
      "{}: {} random configurations (seed {}), {} classes; distinct configurations whose "
      "final model fits each budget\n",
      a.space, a.configs, a.seed, classes);
  fmt::print("  {:8} {:>8} {:>7} {:>9}\n", "arm", "budget", "surely", "possibly");
  for (const BudgetFit& f : fits)
    fmt::print("  {:8} {:>8} {:>7} {:>9}\n", f.arm, f.budget, f.surely, f.possibly);
}

}  // namespace

void register_sweep(CLI::App& app) {
  auto opt = std::make_shared<SweepOptions>();
  CLI::App* sub = app.add_subcommand(
      "sweep", "Hyperparameter sweep: every sampled config in every arm with every seed");
  sub->add_option("--space", opt->space_path, "Search space file (e.g. configs/sweep_paper.json)");
  sub->add_option("-o,--out", opt->out_dir, "Sweep folder: sweep.db, trials/, trials.json");
  sub->add_option("--task", opt->task, "Task: kws12 | kw3 | folder")->capture_default_str();
  sub->add_option("--data", opt->data_dir, "Data folder (default $DKWS_DATA or ../shared/data)");
  sub->add_option("--arms", opt->arms, "Arms: none, restart, gd, cc")->capture_default_str();
  sub->add_option("--configs", opt->configs, "Configurations to sample");
  sub->add_option("--trials", opt->trials, "Total trials (a multiple of arms x seeds)");
  sub->add_option("--seeds", opt->seeds, "Seeds per configuration and arm")->capture_default_str();
  sub->add_option("--folds", opt->folds,
                  "K > 1: each trial trains K speaker-disjoint folds and is tested on every clip")
      ->capture_default_str();
  sub->add_option("--sampler", opt->sampler,
                  "random | grid | tpe (multi-objective TPE on mean val accuracy vs params)")
      ->capture_default_str();
  sub->add_option("--tpe-startup", opt->tpe_startup,
                  "tpe: random configs in round 0 (default max(8, configs/4))");
  sub->add_option("--tpe-batch", opt->tpe_batch, "tpe: configs proposed per later round")
      ->capture_default_str();
  sub->add_option("-j,--jobs", opt->jobs, "Worker processes (default: the number of cores)");
  sub->add_option("--storage", opt->storage,
                  "postgresql://... or an SQLite file (default OUT/sweep.db)");
  sub->add_option("--lease-seconds", opt->lease_seconds, "Trial lease; heartbeats renew it")
      ->capture_default_str();
  sub->add_option("--max-attempts", opt->max_attempts, "Worker deaths before a trial fails")
      ->capture_default_str();
  sub->add_option("--seed", opt->seed, "Sampler seed")->capture_default_str();
  sub->add_option("--cache", opt->cache_dir, "Feature cache folder")->capture_default_str();
  sub->add_flag("-q,--quiet", opt->quiet, "No progress output");
  sub->require_subcommand(0, 1);

  auto wopt = std::make_shared<WorkerOptions>();
  CLI::App* worker =
      sub->add_subcommand("worker", "Join a sweep: claim and train trials until none is left");
  worker->add_option("--storage", wopt->storage, "The sweep's storage URL")->required();
  worker->add_option("-o,--out", wopt->out_dir,
                     "Folder for trials/<id>/ (default: the SQLite file's folder, else .)");
  worker->add_option("--data", wopt->data_dir,
                     "Data folder on this machine (default: the sweep's)");
  worker->add_option("--cache", wopt->cache_dir, "Feature cache folder")->capture_default_str();
  worker->add_option("--lease-seconds", wopt->lease_seconds, "Trial lease")->capture_default_str();
  worker->add_option("--max-attempts", wopt->max_attempts, "Worker deaths before a trial fails")
      ->capture_default_str();
  worker
      ->add_option("--round-wait", wopt->round_wait_seconds,
                   "TPE sweeps: seconds to wait between rounds for the coordinator to propose "
                   "the next one (0: exit when the queue is empty)")
      ->capture_default_str();
  worker->add_flag("-q,--quiet", wopt->quiet, "No output");
  worker->callback([wopt] {
    const int rc = run_worker(*wopt);
    if (rc != 0) std::exit(rc);  // the one-line message is already printed
  });

  auto sargs = std::make_shared<StatusArgs>();
  CLI::App* status = sub->add_subcommand("status", "Counts per status and arm; writes trials.json");
  status->add_option("target", sargs->target, "Sweep folder or storage URL")->required();
  status->add_option("-o,--out", sargs->out, "Where to write trials.json (default: the folder)");
  status->callback([sargs] { run_status(*sargs); });

  auto bargs = std::make_shared<BestArgs>();
  CLI::App* best = sub->add_subcommand(
      "best", "The run to ship under a parameter budget: best by validation, per the report");
  best->add_option("dir", bargs->dir, "Sweep folder (holding trials.json)")->required();
  best->add_option("--max-params", bargs->max_params, "Parameter budget")->capture_default_str();
  best->add_option("--arm", bargs->arm, "Only this arm (default: the best of every arm)");
  best->add_flag("--json", bargs->json, "One JSON object");
  best->add_flag("--path", bargs->path_only, "Print only the run folder");
  best->callback([bargs] { run_best(*bargs); });

  auto zargs = std::make_shared<SizesArgs>();
  CLI::App* sizes = sub->add_subcommand(
      "sizes", "Count sampled configurations whose final model (dendrites included) fits budgets");
  sizes->add_option("--space", zargs->space, "Search space file")->required();
  sizes->add_option("--configs", zargs->configs, "Random configurations to draw")
      ->capture_default_str();
  sizes->add_option("--seed", zargs->seed, "Sampler seed (as dkws sweep --seed)")
      ->capture_default_str();
  sizes->add_option("--task", zargs->task, "kws12 (12 classes) | kw3 (3) | folder")
      ->capture_default_str();
  sizes->add_option("--classes", zargs->classes, "Class count (needed for folder tasks)");
  sizes->add_option("--arms", zargs->arms, "Arms")->capture_default_str();
  sizes->add_option("--budgets", zargs->budgets, "Parameter budgets")->delimiter(',');
  sizes->callback([zargs] { run_sizes(*zargs); });

  sub->callback([sub, opt] {
    if (!sub->get_subcommands().empty()) return;
    if (opt->space_path.empty()) throw Error("sweep: --space FILE is required");
    if (opt->out_dir.empty()) throw Error("sweep: --out DIR is required");
    for (const char* name : {"--tpe-startup", "--tpe-batch"})
      if (opt->sampler != "tpe" && sub->get_option(name)->count() > 0)
        throw Error(
            fmt::format("{}: only with --sampler tpe (the sampler is '{}')", name, opt->sampler));
    const int rc = run_sweep(*opt);
    if (rc != 0) std::exit(rc);  // the one-line message is already printed
  });
}

}  // namespace dkws::cli
