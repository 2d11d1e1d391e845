// Configuration means, budget selection and seed-bootstrap draws over one arm's trial table.
#include <algorithm>
#include <cmath>
#include <map>

#include "dkws/rng.hpp"
#include "report/sweep_internal.hpp"

namespace dkws::sweep_detail {
namespace {

bool measure(const SweepTrial& t, const std::string& key, double& out) {
  if (key == "params") return out = t.params, true;
  if (key == "test_acc") return out = t.test_acc, true;
  if (key == "int8_bytes" && t.int8_bytes) return out = *t.int8_bytes, true;
  if (key == "int8_test_acc" && t.int8_test_acc) return out = *t.int8_test_acc, true;
  return false;
}

}  // namespace

ArmTable arm_table(const std::vector<SweepTrial>& trials, const std::string& arm,
                   const std::string& size_key, const std::string& report_key,
                   const std::vector<int64_t>& seeds, const std::vector<int64_t>& config_ids) {
  ArmTable t;
  t.n_seeds = seeds.size();
  t.config_ids = config_ids;
  if (t.config_ids.empty()) {
    for (const auto& tr : trials)
      if (tr.arm == arm && tr.done()) t.config_ids.push_back(tr.config_id);
    std::sort(t.config_ids.begin(), t.config_ids.end());
    t.config_ids.erase(std::unique(t.config_ids.begin(), t.config_ids.end()), t.config_ids.end());
  }
  std::map<int64_t, size_t> row, col;
  for (size_t i = 0; i < t.config_ids.size(); ++i) row[t.config_ids[i]] = i;
  for (size_t i = 0; i < seeds.size(); ++i) col[seeds[i]] = i;
  t.cells.assign(t.config_ids.size() * t.n_seeds, Cell{});
  for (const auto& tr : trials) {
    if (tr.arm != arm || !tr.done()) continue;
    auto r = row.find(tr.config_id);
    auto c = col.find(tr.seed);
    Cell cell;
    if (r == row.end() || c == col.end() || !measure(tr, size_key, cell.size) ||
        !measure(tr, report_key, cell.report))
      continue;
    cell.ok = true;
    cell.val = tr.val_acc;
    cell.trial_id = tr.trial_id;
    cell.trial = &tr;
    t.at(r->second, c->second) = cell;  // a re-run trial of the same cell: the later row wins
  }
  return t;
}

Means config_means(const ArmTable& t, const std::vector<int>& weight) {
  const size_t nc = t.config_ids.size();
  Means m{std::vector<double>(nc, 0), std::vector<double>(nc, 0), std::vector<double>(nc, 0),
          std::vector<int>(nc, 0)};
  for (size_t c = 0; c < nc; ++c) {
    for (size_t s = 0; s < t.n_seeds; ++s) {
      const Cell& x = t.at(c, s);
      if (!x.ok || weight[s] == 0) continue;
      m.size[c] += weight[s] * x.size;
      m.val[c] += weight[s] * x.val;
      m.report[c] += weight[s] * x.report;
      m.n[c] += weight[s];
    }
    if (m.n[c]) m.size[c] /= m.n[c], m.val[c] /= m.n[c], m.report[c] /= m.n[c];
  }
  return m;
}

std::vector<int> select_budgets(const ArmTable& t, const Means& m,
                                const std::vector<double>& budgets) {
  std::vector<int> out(budgets.size(), -1);
  for (size_t b = 0; b < budgets.size(); ++b) {
    int best = -1;
    for (size_t c = 0; c < t.config_ids.size(); ++c) {
      if (!m.n[c] || m.size[c] > budgets[b]) continue;
      if (best < 0 || m.val[c] > m.val[size_t(best)] ||
          (m.val[c] == m.val[size_t(best)] && m.size[c] < m.size[size_t(best)]))
        best = int(c);  // rows are sorted by config_id, so the first of a full tie stays
    }
    out[b] = best;
  }
  return out;
}

std::vector<Point> mean_points(const ArmTable& t, const Means& m) {
  std::vector<Point> pts;
  for (size_t c = 0; c < t.config_ids.size(); ++c)
    if (m.n[c]) pts.push_back({m.size[c], m.val[c], m.report[c], t.config_ids[c]});
  return pts;
}

std::vector<std::vector<int>> bootstrap_draws(size_t n_seeds, int max_draws, uint64_t seed) {
  std::vector<std::vector<int>> draws;
  if (n_seeds == 0) return draws;
  const double total = std::pow(double(n_seeds), double(n_seeds));
  if (total <= double(max_draws)) {
    // Every ordered draw once: the bootstrap distribution itself, no Monte Carlo error.
    std::vector<size_t> digit(n_seeds, 0);
    for (size_t k = 0; k < size_t(total); ++k) {
      std::vector<int> w(n_seeds, 0);
      for (size_t d : digit) ++w[d];
      draws.push_back(std::move(w));
      for (size_t i = 0; i < n_seeds && ++digit[i] == n_seeds; ++i) digit[i] = 0;
    }
    return draws;
  }
  Rng rng(seed);
  for (int k = 0; k < max_draws; ++k) {
    std::vector<int> w(n_seeds, 0);
    for (size_t i = 0; i < n_seeds; ++i) ++w[rng.below(n_seeds)];
    draws.push_back(std::move(w));
  }
  return draws;
}

}  // namespace dkws::sweep_detail
