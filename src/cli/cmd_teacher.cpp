// dkws teacher: the teacher of knowledge distillation. Trains a model or an ensemble (one member
// per seed, on the training split, the best checkpoint chosen on validation as `dkws train` does)
// or takes trained model files, and caches the members' mean logits on the training split in
// OUT/teacher_logits.json, keyed to the training features. Students read it through
// train.teacher. Running the same command again reuses finished members and a matching cache.
#include <algorithm>
#include <filesystem>

#include <fmt/core.h>

#include "cli/commands.hpp"
#include "cli/run_setup.hpp"
#include "dkws/error.hpp"
#include "dkws/teacher.hpp"

namespace dkws::cli {
namespace {

namespace fs = std::filesystem;

struct TeacherArgs {
  RunArgs run;
  std::vector<long long> seeds = {1};
  std::vector<std::string> models;
  std::string out_dir = "runs/teacher";
  bool quiet = false;
};

// Whether a member folder holds a finished run of an earlier call.
bool finished(const fs::path& dir) {
  if (!fs::exists(dir / "metrics.json") || !fs::exists(dir / "model.json")) return false;
  return load_model(dir / "model.json").training_state.is_null();
}

// Accuracy of the row-wise argmax of `logits` against `set`'s labels.
double accuracy_of(const std::vector<float>& logits, const FeatureSet& set, size_t classes) {
  size_t correct = 0;
  for (size_t i = 0; i < set.size(); ++i) {
    const float* z = logits.data() + i * classes;
    correct += size_t(std::max_element(z, z + classes) - z) == size_t(set.y[i]);
  }
  return set.size() ? double(correct) / double(set.size()) : 0;
}

// Members' mean logits on a split.
std::vector<float> mean_logits(std::vector<SavedModel>& members, const FeatureSet& set) {
  std::vector<float> sum;
  for (auto& m : members) {
    const std::vector<float> z = model_logits(m.net, set);
    if (sum.empty()) sum.assign(z.size(), 0.f);
    for (size_t i = 0; i < z.size(); ++i) sum[i] += z[i];
  }
  for (float& v : sum) v /= float(members.size());
  return sum;
}

void run_teacher(const TeacherArgs& a) {
  const fs::path out(a.out_dir);
  fs::create_directories(out);
  std::vector<std::string> paths = a.models;
  RunConfig cfg;
  if (paths.empty()) {
    if (a.seeds.empty()) throw Error("teacher: --seeds is empty");
    cfg = run_config_from(a.run);
    const TaskData data = load_run_task(cfg, a.run.cache_dir, a.quiet);
    for (long long seed : a.seeds) {
      const fs::path dir = out / fmt::format("member-seed{}", seed);
      paths.push_back((dir / "model.json").string());
      if (finished(dir)) continue;
      RunConfig member = cfg;
      apply_override(member, fmt::format("train.seed={}", seed));
      if (!a.quiet) fmt::print(stderr, "teacher member seed {} -> {}\n", seed, dir.string());
      train_into(member, data, dir.string(), a.quiet);
    }
  } else {
    cfg = load_model(paths.front()).config;
    if (!a.run.data_dir.empty()) cfg.data_dir = a.run.data_dir;
    if (cfg.data_dir.empty()) cfg.data_dir = default_data_dir();
  }
  std::vector<SavedModel> members;
  for (const auto& p : paths) {
    members.push_back(load_model(p));
    const RunConfig& c = members.back().config;
    if (c.task != cfg.task || c.front_end.to_json() != cfg.front_end.to_json())
      throw Error(fmt::format("{}: trained on another task or front end than {}", p, paths[0]));
  }
  cfg.augment = {};  // the teacher sees the clean training clips
  const TaskData data = load_run_task(cfg, a.run.cache_dir, true);
  for (size_t i = 0; i < members.size(); ++i)
    if (members[i].classes != data.classes)
      throw Error(fmt::format("{}: its classes differ from task {}'s", paths[i], data.name));

  const fs::path file = out / "teacher_logits.json";
  const std::string key = feature_set_key(data.train);
  if (fs::exists(file)) {
    const TeacherLogits cached = read_teacher_logits(file);
    if (cached.features_key == key && cached.members == paths) {
      fmt::print("teacher logits cached in {} ({} members, features {})\n", file.string(),
                 paths.size(), key);
      return;
    }
  }
  TeacherLogits t;
  t.features_key = key;
  t.classes = data.classes;
  t.members = paths;
  t.logits = mean_logits(members, data.train);
  save_teacher_logits(file, t);
  const size_t c = data.classes.size();
  fmt::print("teacher ({} member{}): train {:.4f}  val {:.4f}  test {:.4f} (eval mode)\n",
             members.size(), members.size() == 1 ? "" : "s", accuracy_of(t.logits, data.train, c),
             accuracy_of(mean_logits(members, data.val), data.val, c),
             accuracy_of(mean_logits(members, data.test), data.test, c));
  fmt::print("wrote {} ({} rows x {} classes, features {}); students: --set train.teacher={}\n",
             file.string(), t.rows(), c, key, file.string());
}

}  // namespace

void register_teacher(CLI::App& app) {
  auto args = std::make_shared<TeacherArgs>();
  CLI::App* sub = app.add_subcommand(
      "teacher",
      "Train a distillation teacher (a model, or an ensemble over --seeds) or take --model files, "
      "and cache its mean logits on the training split");
  add_run_options(sub, args->run);
  sub->add_option("--seeds", args->seeds, "Ensemble members' seeds (one model per seed)")
      ->delimiter(',')
      ->capture_default_str();
  sub->add_option("--model", args->models,
                  "Use these trained model files as the members instead of training (repeatable)")
      ->check(CLI::ExistingFile);
  sub->add_option("-o,--out", args->out_dir, "Output folder")->capture_default_str();
  sub->add_flag("-q,--quiet", args->quiet, "No progress output");
  sub->callback([args] { run_teacher(*args); });
}

}  // namespace dkws::cli
