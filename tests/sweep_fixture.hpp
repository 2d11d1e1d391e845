// A synthetic but realistic sweep folder for the report tests: trials.json in the format
// `dkws sweep` writes, and per trial the files `dkws train` leaves (metrics.json, history.csv,
// training_graph.svg, confusion files) written by the real write_run_outputs. Accuracy follows a
// made-up smooth law in log(params) and the hyperparameters, with dendritic arms buying a small
// gain with extra parameters, shared (config, seed) noise (the pairing) and ~2% failed trials.
#pragma once
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dkws/rng.hpp"
#include "dkws/train.hpp"
#include "dkws/util.hpp"
#include "train/training_graph.hpp"

namespace dkws::testing {

struct SyntheticSweep {
  std::vector<std::string> arms = {"none", "restart", "gd", "cc"};
  std::vector<int64_t> seeds = {1, 2};
  int n_configs = 12;
  uint64_t seed = 7;
  double failure_rate = 0.02;
  bool int8 = false;
  bool write_run_files = true;
  bool sampled_range = false;  // add "weight_decay", log-uniform in [1e-5, 1e-2] (no effect)
};

template <class T>
T pick(Rng& rng, const std::vector<T>& v) {
  return v[rng.below(v.size())];
}

inline TrainResult synthetic_history(Rng& rng, bool dendritic, double lr0, int switch_every,
                                     double val_final, double test_final, double params_base,
                                     double params_final, int dendrites, int& epochs) {
  TrainResult r;
  const int n_switches = dendritic ? dendrites : 0;
  epochs = std::min(150, switch_every * (n_switches + 1) + 5 * n_switches + 5 + int(rng.below(10)));
  int d = 0, since = 0, p_left = 0;
  double lr = lr0;
  for (int e = 1; e <= epochs; ++e) {
    EpochRecord h;
    h.epoch = e;
    const double progress = 1 - 0.55 * std::exp(-e / 9.0);
    h.val_acc = std::clamp(val_final * progress + 0.01 * rng.normal(), 0.0, 1.0);
    h.train_acc = std::clamp(h.val_acc + 0.03 + 0.01 * rng.normal(), 0.0, 1.0);
    h.train_loss = 2.5 * (1 - h.train_acc), h.val_loss = 2.5 * (1 - h.val_acc);
    h.val_score = h.val_acc;
    if (p_left > 0) {
      h.phase = "P", --p_left;
      h.dendrite_scores = {0.1 + 0.05 * rng.uniform(), 0.08 + 0.05 * rng.uniform()};
    }
    if (++since % 8 == 0) lr *= 0.1;  // plateau schedule
    if (dendritic && since >= switch_every && d < n_switches) {
      ++d, since = 0, p_left = 5, lr = lr0;
      h.event = "switch: dendrites " + std::to_string(d) + ", optimiser reset";
    }
    h.lr = lr;
    h.dendrites = d;
    h.params = size_t(params_base +
                      (params_final - params_base) * (n_switches ? double(d) / n_switches : 0));
    h.seconds = 0.05;
    r.history.push_back(h);
  }
  r.epochs_run = epochs;
  r.best_epoch = epochs - 3;
  r.best_val_acc = val_final, r.test_acc = test_final;
  r.test_confusion.assign(12, std::vector<int>(12, 1));
  for (int i = 0; i < 12; ++i) r.test_confusion[size_t(i)][size_t(i)] = int(70 * test_final);
  return r;
}

// history.csv in the columns `dkws train` writes (train/run_outputs.cpp), training_graph.svg and
// metrics.json, with plain writes: the library's atomic writes fsync, too slow for 800 trials.
inline void write_trial_files(const std::filesystem::path& run, const TrainResult& r,
                              const nlohmann::json& metrics) {
  std::ofstream csv(run / "history.csv");
  csv << "epoch,phase,train_loss,train_acc,val_loss,val_acc,val_score,lr,dendrites,params,seconds,"
         "dendrite_score_0,dendrite_score_1,event\n";
  for (const auto& e : r.history) {
    csv << e.epoch << ',' << e.phase << ',' << e.train_loss << ',' << e.train_acc << ','
        << e.val_loss << ',' << e.val_acc << ',' << e.val_score << ',' << e.lr << ',' << e.dendrites
        << ',' << e.params << ',' << e.seconds;
    for (size_t l = 0; l < 2; ++l)
      csv << ',' << (l < e.dendrite_scores.size() ? std::to_string(e.dendrite_scores[l]) : "");
    csv << ',' << (e.event.empty() ? "" : "\"" + e.event + "\"") << '\n';
  }
  std::ofstream(run / "metrics.json") << metrics.dump(2);
  std::ofstream(run / "training_graph.svg")
      << training_graph_svg(r, "Training: kws12 \u00b7 " + metrics["dendrites"].get<std::string>());
}

// Writes SWEEP/trials.json (and trial folders when asked); returns the trials document.
inline nlohmann::json make_synthetic_sweep(const std::filesystem::path& dir,
                                           const SyntheticSweep& s) {
  using nlohmann::json;
  Rng rng(s.seed);
  std::vector<json> configs;
  for (int c = 0; c < s.n_configs; ++c)
    configs.push_back({{"dropout", pick<double>(rng, {0.1, 0.3, 0.5})},
                       {"num_conv", pick<int>(rng, {1, 2, 3})},
                       {"num_linear", pick<int>(rng, {1, 2})},
                       {"width", pick<double>(rng, {0.25, 0.5, 1, 2})},
                       {"noise", pick<double>(rng, {0, 0.1, 0.2})},
                       {"n_epochs_to_switch", pick<int>(rng, {10, 25, 100})},
                       {"lr", pick<double>(rng, {0.001, 0.005, 0.01})},
                       {"growth", int(rng.below(6))},
                       {"max_dendrites", pick<int>(rng, {1, 2, 3})},
                       {"thresholds", json::array({0.001, 0.0001, 0})},
                       {"init_multiplier", pick<double>(rng, {0.1, 0.01})},
                       {"activation", pick<std::string>(rng, {"sigmoid", "relu", "tanh"})},
                       {"dendrite_layers", pick<std::string>(rng, {"all", "dense"})}});
  if (s.sampled_range)
    for (auto& c : configs) c["weight_decay"] = std::pow(10.0, rng.uniform(-5, -2));
  json trials = json::array();
  int64_t id = 0;
  for (int c = 0; c < s.n_configs; ++c) {
    const json& h = configs[size_t(c)];
    const double width = h["width"], dropout = h["dropout"], noise = h["noise"], lr = h["lr"];
    const int conv = h["num_conv"], lin = h["num_linear"], growth = h["growth"];
    const double base = std::round(250 + 900 * width * std::pow(conv, 0.9) +
                                   250 * lin * width * (1 + 0.2 * growth));
    const double quality = 0.58 + 0.09 * std::log10(base / 500) -
                           0.25 * std::pow(dropout - 0.25, 2) - 0.1 * noise * noise -
                           (lr == 0.01    ? 0.02
                            : lr == 0.001 ? 0.01
                                          : 0);
    for (int64_t seed : s.seeds) {
      const double shared = 0.012 * rng.normal();  // the same (config, seed) in every arm
      for (const auto& arm : s.arms) {
        json t = {{"trial_id", id},
                  {"config_id", c},
                  {"arm", arm},
                  {"seed", seed},
                  {"hparams", h},
                  {"attempts", 1},
                  {"run_dir", "trials/" + std::to_string(id)}};
        ++id;
        const bool dendritic = arm == "gd" || arm == "cc";
        const int dendrites = dendritic ? 1 + int(rng.below(uint64_t(int(h["max_dendrites"])))) : 0;
        const double per_d = (h["dendrite_layers"] == "all" ? 0.45 : 0.2) * (arm == "cc" ? 0.8 : 1);
        const double params = std::round(base * (1 + per_d * dendrites));
        const double gain = arm == "restart" ? 0.006
                            : arm == "gd"    ? 0.008 * dendrites
                            : arm == "cc"    ? 0.01 * dendrites
                                             : 0;
        const double acc = quality + gain + shared + 0.006 * rng.normal();
        const double val = std::clamp(acc + 0.005 * rng.normal(), 0.0, 1.0);
        const double test = std::clamp(acc + 0.006 * rng.normal(), 0.0, 1.0);
        if (rng.uniform() < s.failure_rate) {
          t.update({{"status", "failed"},
                    {"error", "training diverged: loss is NaN at epoch 3"},
                    {"val_acc", nullptr},
                    {"test_acc", nullptr},
                    {"params", nullptr},
                    {"params_base", base},
                    {"dendrites", 0},
                    {"int8_bytes", nullptr},
                    {"int8_test_acc", nullptr},
                    {"epochs", 3},
                    {"train_seconds", 0.4}});
          trials.push_back(t);
          continue;
        }
        int epochs = 0;
        const TrainResult r = synthetic_history(rng, arm != "none", lr, h["n_epochs_to_switch"],
                                                val, test, base, params, dendrites, epochs);
        t.update({{"status", "done"},
                  {"error", nullptr},
                  {"val_acc", val},
                  {"test_acc", test},
                  {"params", params},
                  {"params_base", base},
                  {"dendrites", dendrites},
                  {"int8_bytes", s.int8 ? json(params + 900) : json(nullptr)},
                  {"int8_test_acc", s.int8 ? json(test - 0.003) : json(nullptr)},
                  {"epochs", epochs},
                  {"train_seconds", 0.05 * epochs}});
        trials.push_back(t);
        if (!s.write_run_files) continue;
        const auto run = dir / t["run_dir"].get<std::string>();
        std::filesystem::create_directories(run);
        const json metrics = {{"task", "kws12"},
                              {"model", "audio_classifier"},
                              {"dendrites", arm},
                              {"seed", seed},
                              {"params", params}};
        write_trial_files(run, r, metrics);
      }
    }
  }
  json doc = {{"format", "dkws-sweep-trials"},
              {"version", 1},
              {"sweep",
               {{"task", "kws12"},
                {"arms", s.arms},
                {"seeds", s.seeds},
                {"sampler", "random"},
                {"space", json::object()},
                {"n_configs", s.n_configs}}},
              {"trials", trials}};
  std::filesystem::create_directories(dir);
  write_file_atomic(dir / "trials.json", doc.dump(1));
  return doc;
}

}  // namespace dkws::testing
