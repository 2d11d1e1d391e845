// The analysis as JSON (analysis.json, also embedded in the HTML page) and the trials as CSV.
#include <fmt/core.h>

#include "dkws/sweep_analysis.hpp"
#include "report/sweep_report.hpp"

namespace dkws {
namespace {

using nlohmann::json;

json interval(const Interval& i) {
  return json::array({i.lo, i.hi});
}

json view_json(const SizeView& v) {
  json arms = json::array();
  for (const auto& a : v.arms) {
    json configs = json::array(), frontier = json::array(), budgets = json::array();
    for (const auto& c : a.configs)
      configs.push_back({{"config_id", c.config_id},
                         {"size", c.size},
                         {"val", c.val},
                         {"test", c.test},
                         {"seeds", c.seeds},
                         {"trial_ids", c.trial_ids}});
    for (size_t i : a.frontier) {
      const auto& c = a.configs[i];
      frontier.push_back(
          {{"config_id", c.config_id}, {"size", c.size}, {"val", c.val}, {"test", c.test}});
    }
    for (size_t b = 0; b < v.budgets.size(); ++b) {
      const BudgetCell& c = a.budgets[b];
      json cell = {{"budget", v.budgets[b]}, {"feasible", c.feasible}};
      if (c.feasible)
        cell.update({{"config_id", c.config_id},
                     {"size", c.size},
                     {"val", c.val},
                     {"test", c.test},
                     {"n_seeds", c.n_seeds},
                     {"ci95", interval(c.ci)},
                     {"dendrites", c.dendrites},
                     {"trials_with_dendrites", c.n_with_dendrites}});
      budgets.push_back(cell);
    }
    arms.push_back({{"arm", a.arm},
                    {"n_done", a.n_done},
                    {"n_failed", a.n_failed},
                    {"n_configs", a.configs.size()},
                    {"hypervolume", a.hypervolume},
                    {"hypervolume_ci95", interval(a.hypervolume_ci)},
                    {"frontier_trials", a.frontier_trials},
                    {"frontier_trials_with_dendrites", a.frontier_trials_with_dendrites},
                    {"frontier_dendrite_share", a.frontier_dendrite_share()},
                    {"frontier", frontier},
                    {"budgets", budgets},
                    {"configs", configs}});
  }
  json tests = json::array();
  for (const auto& t : v.tests)
    tests.push_back({{"a", t.a},
                     {"b", t.b},
                     {"hypothesis", t.a + " beats " + t.b + " at every budget"},
                     {"budgets", t.budgets},
                     {"diff", t.diff},
                     {"p", t.p},
                     {"p_all", t.p_all},
                     {"n_cells", t.n_cells},
                     {"min_p", t.min_p},
                     {"exact", t.exact}});
  json effects = json::array();
  for (const auto& e : v.effects) {
    json cis = json::array();
    for (const auto& c : e.ci) cis.push_back(interval(c));
    effects.push_back({{"a", e.a},
                       {"b", e.b},
                       {"budgets", e.budgets},
                       {"diff", e.diff},
                       {"ci95", cis},
                       {"p", e.p},
                       {"se", e.se},
                       {"mde80", e.mde},
                       {"hypervolume_diff", e.hv_diff},
                       {"hypervolume_diff_ci95", interval(e.hv_ci)},
                       {"hypervolume_p", e.hv_p}});
  }
  return {{"size_key", v.size_key},
          {"report_key", v.report_key},
          {"resampling",
           {{"clips", v.clip_resampling}, {"replicates", v.n_replicates}, {"note", v.resampling}}},
          {"effects", effects},
          {"budgets", v.budgets},
          {"n_trials", v.n_trials},
          {"hypervolume_reference", {{"size", v.hv_ref_size}, {"report", v.hv_ref_report}}},
          {"arms", arms},
          {"tests", tests}};
}

std::string csv_cell(const std::string& v) {
  if (v.find_first_of(",\"\n") == std::string::npos) return v;
  std::string out = "\"";
  for (char c : v) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + '"';
}

std::string num(double v) {
  return fmt::format("{:.6g}", v);
}
std::string opt(const std::optional<double>& v) {
  return v ? num(*v) : std::string();
}

}  // namespace

json analysis_json(const SweepAnalysis& a) {
  const auto& o = a.options;
  return {{"format", "dkws-sweep-analysis"},
          {"version", 1},
          {"arms", a.arms},
          {"seeds", a.seeds},
          {"options",
           {{"bootstrap", o.bootstrap},
            {"permutations", o.permutations},
            {"seed", o.seed},
            {"budgets_per_decade", o.budgets_per_decade},
            {"extra_budgets", o.extra_budgets}}},
          {"method", sweep_method_notes(a)},
          {"params", view_json(a.params)},
          {"int8", a.int8 ? view_json(*a.int8) : json(nullptr)}};
}

std::string sweep_trials_csv(const SweepTrials& t) {
  std::vector<std::string> keys;  // union of hyperparameter names, in first-seen order
  for (const auto& tr : t.trials)
    for (auto it = tr.hparams.begin(); it != tr.hparams.end(); ++it)
      if (std::find(keys.begin(), keys.end(), it.key()) == keys.end()) keys.push_back(it.key());
  std::string out =
      "trial_id,config_id,arm,seed,status,val_acc,test_acc,params,params_base,dendrites,"
      "int8_bytes,int8_test_acc,epochs,train_seconds,attempts,round,run_dir,error";
  for (const auto& k : keys) {
    out += ',';
    out += csv_cell(k);
  }
  // Per-clip correctness last (long cells): clip counts and the base64 bits, empty when the
  // sweep did not record them.
  out += ",n_val_clips,n_test_clips,val_correct,test_correct\n";
  for (const auto& tr : t.trials) {
    const bool d = tr.done();
    out += fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}", tr.trial_id,
                       tr.config_id, csv_cell(tr.arm), tr.seed, tr.status, d ? num(tr.val_acc) : "",
                       d ? num(tr.test_acc) : "", d ? num(tr.params) : "", num(tr.params_base),
                       tr.dendrites, opt(tr.int8_bytes), opt(tr.int8_test_acc), tr.epochs,
                       num(tr.train_seconds), tr.attempts,
                       tr.round >= 0 ? std::to_string(tr.round) : std::string(),
                       csv_cell(tr.run_dir), csv_cell(tr.error));
    for (const auto& k : keys) {
      auto it = tr.hparams.find(k);
      out += ',';
      if (it != tr.hparams.end())
        out += csv_cell(it->is_string() ? it->get<std::string>() : it->dump());
    }
    const auto& v = tr.val_clips;
    const auto& te = tr.test_clips;
    out += fmt::format(",{},{},{},{}\n", v ? std::to_string(v->n) : "",
                       te ? std::to_string(te->n) : "", v ? v->encoded : "", te ? te->encoded : "");
  }
  return out;
}

}  // namespace dkws
