// dkws eval: a trained model on a split of any task, e.g. a model trained on synthetic speech
// tested on the real kw3 speakers. Model classes are matched to the task's classes by name
// (after --map renames), so the two class lists may differ in order and in extent.
#include <map>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "dkws/config.hpp"
#include "dkws/dataset.hpp"
#include "dkws/error.hpp"
#include "dkws/model_file.hpp"
#include "dkws/train.hpp"
#include "dkws/util.hpp"

namespace dkws::cli {
namespace {

struct EvalArgs {
  std::string model;
  std::string task;
  std::string data_dir;
  std::string split = "test";
  std::vector<std::string> maps;
  std::string cache_dir = ".cache/dkws";
  std::string out;
  long long seed = 1;
  bool json = false;
  bool quiet = false;
};

void run_eval(const EvalArgs& a) {
  SavedModel m = load_model(a.model);
  std::map<std::string, std::string> rename;
  for (const auto& s : a.maps) {
    const size_t eq = s.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == s.size())
      throw Error(fmt::format("--map {}: expected MODEL_CLASS=TASK_CLASS", s));
    rename[s.substr(0, eq)] = s.substr(eq + 1);
  }
  for (const auto& [from, to] : rename)
    if (std::find(m.classes.begin(), m.classes.end(), from) == m.classes.end())
      throw Error(fmt::format("--map {}={}: the model has no class '{}'", from, to, from));

  TaskSpec spec;
  spec.name = a.task.empty() ? m.config.task : a.task;
  // The model's own data folder only serves its own task: a model trained on a synthetic folder
  // and evaluated on kw3 needs the Speech Commands folder.
  const bool own_task = spec.name == m.config.task;
  spec.data_dir = !a.data_dir.empty()                      ? std::filesystem::path(a.data_dir)
                  : own_task && !m.config.data_dir.empty() ? m.config.data_dir
                                                           : default_data_dir();
  if (spec.data_dir.empty()) throw Error("no data: pass --data DIR or set DKWS_DATA");
  spec.front_end = m.config.front_end;  // the features the model was trained on
  spec.cache_dir = a.cache_dir;
  spec.seed = uint64_t(a.seed);
  spec.quiet = a.quiet;
  const TaskData data = load_task(spec);
  const FeatureSet& set = a.split == "train" ? data.train : a.split == "val" ? data.val : data.test;
  if (set.size() == 0)
    throw Error(fmt::format("task {}: the {} split is empty", spec.name, a.split));

  // Model class index -> task class index.
  std::vector<int> to_task(m.classes.size(), -1);
  for (size_t c = 0; c < m.classes.size(); ++c) {
    const auto it = rename.find(m.classes[c]);
    const std::string name = it == rename.end() ? m.classes[c] : it->second;
    const auto t = std::find(data.classes.begin(), data.classes.end(), name);
    if (t == data.classes.end()) {
      std::string list;
      for (const auto& n : data.classes) list += (list.empty() ? "" : ", ") + n;
      throw Error(
          fmt::format("model class '{}' is not a class of task {} ({}); map it with "
                      "--map {}=CLASS",
                      name, spec.name, list, m.classes[c]));
    }
    to_task[c] = int(t - data.classes.begin());
  }

  FeatureSet probe = set;  // labels in the model's range, so evaluate's loss stays defined
  std::fill(probe.y.begin(), probe.y.end(), 0);
  const EvalResult r = evaluate(m.net, probe);
  std::vector<int> pred(set.size());
  size_t correct = 0;
  for (size_t i = 0; i < set.size(); ++i) {
    pred[i] = to_task[size_t(r.predictions[i])];
    correct += pred[i] == set.y[i];
  }
  const auto confusion = confusion_matrix(set.y, pred, int(data.classes.size()));
  nlohmann::json per_class = nlohmann::json::object();
  for (size_t c = 0; c < data.classes.size(); ++c) {
    int total = 0;
    for (int v : confusion[c]) total += v;
    per_class[data.classes[c]] = {{"clips", total},
                                  {"recall", total ? double(confusion[c][c]) / total : 0.0}};
  }
  const nlohmann::json report = {{"model", a.model},
                                 {"model_task", m.config.task},
                                 {"model_classes", m.classes},
                                 {"task", spec.name},
                                 {"data_dir", spec.data_dir.string()},
                                 {"split", a.split},
                                 {"classes", data.classes},
                                 {"map", rename},
                                 {"clips", set.size()},
                                 {"accuracy", double(correct) / double(set.size())},
                                 {"per_class", per_class},
                                 {"confusion", confusion}};
  if (!a.out.empty()) write_file_atomic(a.out, report.dump(2) + "\n");
  if (a.json) {
    fmt::print("{}\n", report.dump(2));
    return;
  }
  fmt::print("{} on task {} ({} split, {} clips): accuracy {:.4f}\n", a.model, spec.name, a.split,
             set.size(), report["accuracy"].get<double>());
  fmt::print("{:<12} {:>6} {:>7}   predicted:", "class", "clips", "recall");
  for (const auto& n : data.classes) fmt::print(" {:>8}", n);
  fmt::print("\n");
  for (size_t c = 0; c < data.classes.size(); ++c) {
    const auto& pc = per_class[data.classes[c]];
    fmt::print("{:<12} {:>6} {:>7.3f}             ", data.classes[c], pc["clips"].get<int>(),
               pc["recall"].get<double>());
    for (int v : confusion[c]) fmt::print(" {:>8}", v);
    fmt::print("\n");
  }
}

}  // namespace

void register_eval(CLI::App& app) {
  auto args = std::make_shared<EvalArgs>();
  CLI::App* sub = app.add_subcommand(
      "eval", "Evaluate a trained model on a split of a task (classes matched by name)");
  sub->add_option("MODEL", args->model, "Model file (model.json from dkws train)")
      ->required()
      ->check(CLI::ExistingFile);
  sub->add_option("--task", args->task, "Task: kws12 | kw3 | folder (default: the model's)");
  sub->add_option("--data", args->data_dir,
                  "Data folder (default: the model's for its own task, else $DKWS_DATA or "
                  "../shared/data)");
  sub->add_option("--split", args->split, "Split to evaluate")
      ->check(CLI::IsMember({"train", "val", "test"}))
      ->capture_default_str();
  sub->add_option("--map", args->maps,
                  "Rename a model class to a task class: MODEL_CLASS=TASK_CLASS (repeatable)");
  sub->add_option("--seed", args->seed, "Task seed (kw3's unknown sample and noise crops)")
      ->capture_default_str();
  sub->add_option("--cache", args->cache_dir, "Feature cache folder ('' disables)")
      ->capture_default_str();
  sub->add_option("-o,--out", args->out, "Also write the JSON report to this file");
  sub->add_flag("--json", args->json, "Print the report as JSON");
  sub->add_flag("-q,--quiet", args->quiet, "No progress output");
  sub->callback([args] { run_eval(*args); });
}

}  // namespace dkws::cli
