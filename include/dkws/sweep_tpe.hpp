// The model-based sampler of `dkws sweep --sampler tpe`: a multi-objective Tree-structured Parzen
// Estimator. Configurations are proposed in rounds; round 0 is the random sampler's first
// `startup` configs, every later round proposes `batch` configs from the finished earlier rounds
// only, so the proposals depend on the seed and the results, never on -j or timing.
// A config's objective is its mean over every arm and seed (val_acc up, params down), so the search
// favours no arm and every proposal still runs in every arm with every seed.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>

#include "dkws/sweep.hpp"
#include "dkws/sweep_storage.hpp"

namespace dkws::sweep {

struct TpeSettings {
  size_t startup = 8;   // round 0: random configs
  size_t batch = 8;     // configs per later round
  double gamma = 0.25;  // share of the finished configs that form the "good" density l(x)
  int candidates = 24;  // draws from l(x) per proposal; the best l/g ratio is kept
  nlohmann::json to_json() const;
  static TpeSettings from_json(const nlohmann::json& j);
};

// One finished configuration, averaged over its finished trials (all arms and seeds).
struct TpeObservation {
  nlohmann::json hparams;
  bool ok = false;  // false: every trial of the config failed (ranks below everything)
  double val_acc = 0, params = 0;
};

// Per config_id (ascending), from the trials whose status is done or failed; configs with a
// trial still queued or running are left out.
std::vector<TpeObservation> tpe_observations(const std::vector<TrialRow>& rows);

// Indices of the good set: non-dominated fronts on (val_acc up, params down), failed configs
// last, taken front by front up to max(1, ceil(gamma * n)); an overflowing front gives its most
// isolated points first (NSGA-II crowding distance), then the lower index.
std::vector<size_t> tpe_good_set(const std::vector<TpeObservation>& obs, double gamma);

// The round that proposed config `config_id` (1-based).
int tpe_round_of(int config_id, const TpeSettings& s);

// `n` configs for `round` (>= 1), drawn with an Rng seeded by (seed, round). Configs equal to one
// in `existing` (or proposed earlier in this call) are skipped while other candidates exist.
std::vector<nlohmann::json> tpe_propose(const SearchSpace& space,
                                        const std::vector<TpeObservation>& obs,
                                        const std::vector<nlohmann::json>& existing, size_t n,
                                        uint64_t seed, int round, const TpeSettings& s);

}  // namespace dkws::sweep
