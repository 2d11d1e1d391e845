// Sweeps (docs/design.md section 7): a search space file, samplers, and the matched-arm trial list.
// Every sampled configuration (config_id) runs in every arm with every seed, so arms are compared
// on identical hyperparameters: trials = n_configs x arms x seeds.
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dkws/config.hpp"

namespace dkws::sweep {

// One hyperparameter: a list of choices, or a numeric range (random sampling draws uniformly, or
// log-uniformly; the grid takes `steps` evenly spaced points).
struct ParamSpec {
  std::string name;  // short name ("lr") or a run-config key ("train.lr")
  std::string key;   // the run-config key it sets ("train.lr")
  std::vector<nlohmann::json> choices;
  bool is_range = false;
  double lo = 0, hi = 0;
  bool log = false, integer = false;
  int steps = 0;  // grid points for a range; 0: random sampling only
};

struct SearchSpace {
  nlohmann::json source;          // the file's JSON, comments stripped (stored with the sweep)
  nlohmann::json base;            // run-config overrides shared by every trial
  std::vector<ParamSpec> params;  // in key order (JSON objects are read sorted)
  // Sampled hyperparameters {name: value} applied to base, as a validated run config.
  RunConfig config_for(const nlohmann::json& hparams) const;
  size_t grid_size() const;  // product of choice counts (0 when a range has no steps)
};

// Parses a space; `source` names the file in errors ("space.json: params.lr: empty choice list").
SearchSpace parse_space(const nlohmann::json& j, const std::string& source);
SearchSpace load_space(const std::filesystem::path& path);  // JSON with // comments allowed

// `n` configurations (hparams objects). random: config i is drawn from a stream seeded by
// (seed, i), so the first n configs do not depend on n. grid: the first n points of the
// cartesian product in key order, last key fastest (n = 0: all of them). The model-based sampler
// (sweep_tpe.hpp) needs results, so it is not here; its round 0 is random's first configs.
std::vector<nlohmann::json> sample_configs(const SearchSpace& space, const std::string& sampler,
                                           size_t n, uint64_t seed);

// The arms: "none", "restart" (mode none with restart_only), "gd", "cc".
std::vector<std::string> parse_arms(const std::string& list);
void apply_arm(RunConfig& cfg, const std::string& arm);

struct TrialSpec {
  int64_t trial_id = 0;  // 1-based, in run order
  int config_id = 0;     // 1-based
  std::string arm;
  int seed = 1;
  nlohmann::json hparams;
};
// Ordered config, then seed, then arm, so a partly run sweep has matched arms for what it has.
std::vector<TrialSpec> make_trials(const std::vector<nlohmann::json>& configs,
                                   const std::vector<std::string>& arms, int seeds);

// The full run config of one trial: space base + task/data + hparams + arm + seed.
RunConfig trial_config(const SearchSpace& space, const nlohmann::json& meta, const TrialSpec& t);

}  // namespace dkws::sweep

namespace dkws::sweep {

// --- final model sizes, before any training (src/sweep/sizes.cpp) ---

// The parameter count of cfg's model with `dendrites` dendrites per neuron on the layers
// cfg.dendrites.layers wraps, counted as trials.csv's `params` column counts it (dendrite
// parameters included; 0 dendrites: the bare model).
size_t planned_params(const RunConfig& cfg, int classes, int dendrites);

// The dendrites a trial's final model may carry: [fewest, most]. Arms none and restart carry
// none; gd and cc carry exactly max_dendrites under fixed switching, else 0..max_dendrites.
std::pair<int, int> dendrite_range(const RunConfig& cfg, const std::string& arm);

// How many distinct sampled configurations fit a budget, per arm: `surely` counts those whose
// largest possible final model fits, `possibly` those whose smallest does.
struct BudgetFit {
  std::string arm;
  double budget = 0;
  size_t surely = 0, possibly = 0;
};
// `classes`: the task's class count (kws12 12, kw3 3).
std::vector<BudgetFit> count_budget_fits(const SearchSpace& space,
                                         const std::vector<nlohmann::json>& configs,
                                         const std::vector<std::string>& arms,
                                         const std::vector<double>& budgets, int classes);

}  // namespace dkws::sweep
