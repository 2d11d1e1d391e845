// quantize_run: a trained run -> QModel, with float and int8 accuracy on validation and test
// recorded in the run's metrics.json. Both accuracies use the same features (the training front
// end), so the difference is the cost of int8 alone.
#include <fmt/core.h>

#include "dkws/deploy.hpp"
#include "dkws/error.hpp"
#include "dkws/train.hpp"
#include "dkws/util.hpp"

namespace dkws::deploy {
namespace {

double int8_accuracy(const QModel& q, const FeatureSet& set) {
  if (set.size() == 0) return 0;
  std::vector<int8_t> in(size_t(set.dim()));
  size_t correct = 0;
  for (size_t i = 0; i < set.size(); ++i) {
    quantize_input(q, set.row(i), in.data());
    correct += argmax_scores(run_int8(q, in.data())) == set.y[i];
  }
  return double(correct) / double(set.size());
}

}  // namespace

QuantizeRunResult quantize_run(const std::filesystem::path& run, const QuantizeRunOptions& opt) {
  const std::filesystem::path model_path =
      std::filesystem::is_directory(run) ? run / "model.json" : run;
  SavedModel model = load_model(model_path);
  TaskSpec spec;
  spec.name = model.config.task;
  spec.data_dir = !opt.data_dir.empty()            ? opt.data_dir
                  : !model.config.data_dir.empty() ? model.config.data_dir
                                                   : default_data_dir();
  if (spec.data_dir.empty())
    throw Error("no data to calibrate on: pass --data DIR or set DKWS_DATA");
  spec.front_end = model.config.front_end;
  spec.cache_dir = opt.cache_dir;
  spec.seed = model.config.train.seed;
  spec.quiet = opt.quiet;
  const TaskData data = load_task(spec);
  if (data.classes != model.classes)
    throw Error(fmt::format("{}: the model's classes differ from task {}'s", model_path.string(),
                            data.name));

  QuantizeRunResult r;
  r.q = quantize(model, data.train);
  r.calibration_clips = data.train.size();
  r.float_val = evaluate(model.net, data.val).accuracy;
  r.float_test = evaluate(model.net, data.test).accuracy;
  r.int8_val = int8_accuracy(r.q, data.val);
  r.int8_test = int8_accuracy(r.q, data.test);
  r.data_dir = spec.data_dir;
  r.test_paths = data.test.paths;
  r.test_labels = data.test.y;

  r.metrics_path = model_path.parent_path() / "metrics.json";
  nlohmann::json metrics = nlohmann::json::object();
  if (std::filesystem::exists(r.metrics_path)) {
    try {
      metrics = nlohmann::json::parse(read_file(r.metrics_path));
    } catch (const nlohmann::json::exception& e) {
      throw Error(fmt::format("{}: not valid JSON ({})", r.metrics_path.string(), e.what()));
    }
  }
  metrics["float_val_accuracy"] = r.float_val;
  metrics["float_test_accuracy"] = r.float_test;
  metrics["int8_val_accuracy"] = r.int8_val;
  metrics["int8_test_accuracy"] = r.int8_test;
  metrics["int8_bytes"] = r.q.weight_bytes();
  metrics["int8_calibration"] = {{"split", "train"},
                                 {"clips", r.calibration_clips},
                                 {"ranges", "min/max"},
                                 {"weights", "per-channel symmetric int8"},
                                 {"activations", "asymmetric int8"}};
  write_file_atomic(r.metrics_path, metrics.dump(2) + "\n");
  return r;
}

}  // namespace dkws::deploy
