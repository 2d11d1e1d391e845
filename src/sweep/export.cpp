// SWEEP_DIR/trials.json: every finished trial with its hyperparameters and results, the one file
// the sweep report reads (format "dkws-sweep-trials", version 1).
#include <optional>

#include <fmt/core.h>

#include "dkws/sweep_run.hpp"
#include "dkws/sweep_tpe.hpp"
#include "dkws/util.hpp"

namespace dkws::sweep {

using nlohmann::json;

json trials_export(const json& meta, const std::vector<TrialRow>& rows) {
  json trials = json::array();
  // TPE sweeps: the round that proposed each config follows from its config_id and the settings.
  std::optional<TpeSettings> tpe;
  if (meta.contains("tpe") && meta["tpe"].is_object()) tpe = TpeSettings::from_json(meta["tpe"]);
  for (const TrialRow& r : rows) {
    if (r.status != "done" && r.status != "failed") continue;
    const json& res = r.result.is_object() ? r.result : json::object();
    auto get = [&](const char* key) { return res.contains(key) ? res[key] : json(); };
    trials.push_back({{"trial_id", r.spec.trial_id},
                      {"config_id", r.spec.config_id},
                      {"arm", r.spec.arm},
                      {"seed", r.spec.seed},
                      {"hparams", r.spec.hparams},
                      {"status", r.status},
                      {"error", r.status == "failed" ? json(r.error) : json()},
                      {"val_acc", get("val_acc")},
                      {"test_acc", get("test_acc")},
                      {"params", get("params")},
                      {"params_base", get("params_base")},
                      {"dendrites", get("dendrites")},
                      {"int8_bytes", get("int8_bytes")},
                      {"int8_test_acc", get("int8_test_acc")},
                      {"epochs", get("epochs")},
                      {"best_epoch", get("best_epoch")},
                      {"train_seconds", get("train_seconds")},
                      {"cpu_seconds", get("cpu_seconds")},
                      {"attempts", r.attempts},
                      {"worker", r.worker},
                      {"run_dir", r.status == "done" ? get("run_dir") : json()},
                      // Per-clip correctness (null for trials recorded before it was kept).
                      {"clips", get("clips")}});
    if (res.contains("folds")) trials.back()["folds"] = res["folds"];
    if (tpe) trials.back()["round"] = tpe_round_of(r.spec.config_id, *tpe);
  }
  json sweep = {{"task", meta.value("task", "")},
                {"arms", meta.value("arms", json::array())},
                {"seeds", meta.value("seeds", json::array())},
                {"sampler", meta.value("sampler", "")},
                {"seed", meta.value("seed", 0)},
                {"space", meta.value("space", json::object())},
                {"n_configs", meta.value("n_configs", 0)},
                {"n_trials", meta.value("n_trials", 0)},
                {"folds", meta.value("folds", 1)}};
  if (tpe) sweep["tpe"] = meta["tpe"];
  return {{"format", "dkws-sweep-trials"},
          {"version", 1},
          {"sweep", std::move(sweep)},
          {"trials", std::move(trials)}};
}

void write_trials_json(Storage& storage, const std::filesystem::path& out_dir) {
  const json meta = storage.metadata();
  write_file_atomic(out_dir / "trials.json", trials_export(meta, storage.trials()).dump(1) + "\n");
}

}  // namespace dkws::sweep
