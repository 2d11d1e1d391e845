// Final model sizes of sampled configurations, computed by building each model (no data, no
// training): how a size-targeted search space is checked against its parameter budgets.
#include <set>

#include "dkws/dendrite.hpp"
#include "dkws/models.hpp"
#include "dkws/sweep.hpp"

namespace dkws::sweep {

size_t planned_params(const RunConfig& cfg, int classes, int dendrites) {
  Rng rng(1);  // weights do not matter, only shapes
  nn::Sequential net =
      build_model(cfg.model, cfg.front_end.frames(), cfg.front_end.coeffs(), classes, rng);
  if (dendrites == 0) return net.count_params();
  dendrite::wrap_layers(net, cfg.dendrites);
  for (int d = 0; d < dendrites; ++d) dendrite::add_gd_dendrites(net, cfg.dendrites, rng);
  return net.count_params();
}

std::pair<int, int> dendrite_range(const RunConfig& cfg, const std::string& arm) {
  if (arm != "gd" && arm != "cc") return {0, 0};
  const int most = cfg.dendrites.max_dendrites;
  return {cfg.dendrites.switch_mode == "fixed" ? most : 0, most};
}

std::vector<BudgetFit> count_budget_fits(const SearchSpace& space,
                                         const std::vector<nlohmann::json>& configs,
                                         const std::vector<std::string>& arms,
                                         const std::vector<double>& budgets, int classes) {
  std::set<std::string> seen;  // random sampling may draw a configuration twice
  std::vector<nlohmann::json> distinct;
  for (const nlohmann::json& h : configs)
    if (seen.insert(h.dump()).second) distinct.push_back(h);
  std::vector<BudgetFit> out;
  for (const std::string& arm : arms)
    for (double budget : budgets) out.push_back({arm, budget, 0, 0});
  for (const nlohmann::json& h : distinct) {
    RunConfig cfg = space.config_for(h);
    for (size_t a = 0; a < arms.size(); ++a) {
      apply_arm(cfg, arms[a]);
      const auto [fewest, most] = dendrite_range(cfg, arms[a]);
      const double smallest = double(planned_params(cfg, classes, fewest));
      const double largest = fewest == most ? smallest : double(planned_params(cfg, classes, most));
      for (size_t b = 0; b < budgets.size(); ++b) {
        BudgetFit& fit = out[a * budgets.size() + b];
        fit.surely += largest <= budgets[b];
        fit.possibly += smallest <= budgets[b];
      }
    }
  }
  return out;
}

}  // namespace dkws::sweep
