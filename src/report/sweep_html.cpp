// The sweep report page: layout, the server-rendered tables (summary, budgets, tests, method) and
// the embedded data the inline script draws the plots from.
#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include <fmt/core.h>

#include "dkws/util.hpp"
#include "report/report_assets.hpp"
#include "report/sweep_report.hpp"

namespace dkws {
namespace {

using nlohmann::json;

std::string esc(const std::string& s) {
  return xml_escape(s);
}

template <class T>
std::string list(const std::vector<T>& v) {
  std::string out;
  for (const auto& x : v) {
    if (!out.empty()) out += ", ";
    out += fmt::format("{}", x);
  }
  return out;
}

std::string size_unit(const SizeView& v) {
  return v.size_key == "params" ? "params" : "bytes";
}

std::string summary_table(const SweepAnalysis& a) {
  std::string s =
      "<table class='summary'><tr><th>arm</th><th>done</th><th>failed</th><th>configurations</th>"
      "<th>frontier points</th><th>frontier trials with &ge;1 dendrite</th>"
      "<th>hypervolume [95% CI]</th></tr>\n";
  for (const auto& arm : a.params.arms)
    s += fmt::format(
        "<tr><td><span class='swatch arm-{0}'></span>{0}</td><td>{1}</td><td>{2}</td><td>{3}</td>"
        "<td>{4}</td><td>{8} of {9} ({10:.0f}%)</td><td>{5:.4f} [{6:.4f}, {7:.4f}]</td></tr>\n",
        esc(arm.arm), arm.n_done, arm.n_failed, arm.configs.size(), arm.frontier.size(),
        arm.hypervolume, arm.hypervolume_ci.lo, arm.hypervolume_ci.hi,
        arm.frontier_trials_with_dendrites, arm.frontier_trials,
        100 * arm.frontier_dendrite_share());
  return s + "</table>\n";
}

std::string budget_table(const SizeView& v, const std::vector<double>& paper) {
  std::string s = fmt::format("<table class='budgets'><tr><th>budget ({})</th>", size_unit(v));
  for (const auto& arm : v.arms)
    s += fmt::format("<th><span class='swatch arm-{0}'></span>{0}</th>", esc(arm.arm));
  s += "</tr>\n";
  for (size_t b = 0; b < v.budgets.size(); ++b) {
    const bool is_paper = std::any_of(paper.begin(), paper.end(), [&](double p) {
      return std::abs(p - v.budgets[b]) < 1e-9 * p;
    });
    double best = -1;
    for (const auto& arm : v.arms)
      if (arm.budgets[b].feasible) best = std::max(best, arm.budgets[b].test);
    s += fmt::format("<tr{}><td>{}{}</td>", is_paper ? " class='paper'" : "", grouped(v.budgets[b]),
                     is_paper ? " (paper)" : "");
    for (const auto& arm : v.arms) {
      const BudgetCell& c = arm.budgets[b];
      if (!c.feasible) {
        s += "<td class='na'>no model fits</td>";
        continue;
      }
      s += fmt::format(
          "<td{}><b>{:.4f}</b> [{:.4f}, {:.4f}]<br><small><a href='#config-{}' "
          "data-config='{}'>config {}</a> · {} {} · val {:.4f} · {} seed{} · dendrites "
          "{:.1f}</small></td>",
          c.test == best ? " class='best'" : "", c.test, c.ci.lo, c.ci.hi, c.config_id, c.config_id,
          c.config_id, grouped(c.size), size_unit(v), c.val, c.n_seeds, c.n_seeds == 1 ? "" : "s",
          c.dendrites);
    }
    s += "</tr>\n";
  }
  return s + "</table>\n";
}

std::string p_text(double p) {
  return p < 0.001 ? "&lt; 0.001" : fmt::format("{:.3f}", p);
}

std::string tests_table(const SizeView& v) {
  if (v.tests.empty())
    return "<p>No pair of arms to test (the tests need none and a dendritic arm).</p>\n";
  std::string s =
      "<table class='tests'><tr><th>claim</th><th>budgets compared</th><th>ahead at</th>"
      "<th>difference (min … max)</th><th>weakest budget</th><th>p (every budget)</th>"
      "<th>paired cells</th><th>smallest possible p</th></tr>\n";
  std::string detail;
  for (const auto& t : v.tests) {
    if (t.budgets.empty()) {
      s += fmt::format(
          "<tr><td>{} beats {} at every budget</td><td colspan='7'>no budget where "
          "both have a model</td></tr>\n",
          esc(t.a), esc(t.b));
      continue;
    }
    const long ahead = std::count_if(t.diff.begin(), t.diff.end(), [](double d) { return d > 0; });
    const size_t worst = size_t(std::max_element(t.p.begin(), t.p.end()) - t.p.begin());
    s += fmt::format(
        "<tr><td>{0} beats {1} at every budget</td><td>{2}</td><td>{3} of {2}</td>"
        "<td>{4:+.4f} … {5:+.4f}</td><td>{6}</td><td class='{7}'><b>{8}</b></td><td>{9}</td>"
        "<td>{10:.3g} ({11})</td></tr>\n",
        esc(t.a), esc(t.b), t.budgets.size(), ahead,
        *std::min_element(t.diff.begin(), t.diff.end()),
        *std::max_element(t.diff.begin(), t.diff.end()), grouped(t.budgets[worst]),
        t.p_all < 0.05 ? "sig" : "nsig", p_text(t.p_all), t.n_cells, t.min_p,
        t.exact ? "exact" : "Monte Carlo");
    detail += fmt::format("<tr><th colspan='3'>{} − {}</th></tr>\n", esc(t.a), esc(t.b));
    for (size_t i = 0; i < t.budgets.size(); ++i)
      detail += fmt::format("<tr><td>{}</td><td>{:+.4f}</td><td>{}</td></tr>\n",
                            grouped(t.budgets[i]), t.diff[i], p_text(t.p[i]));
  }
  s += "</table>\n";
  return s +
         "<details><summary>Per-budget differences and one-sided p-values</summary>"
         "<table class='perbudget'><tr><th>budget</th><th>difference</th><th>p</th></tr>\n" +
         detail + "</table></details>\n";
}

// Rows: budgets (those where some pair compares), then the pooled hypervolume; columns: pairs.
std::string effects_table(const SizeView& v, const std::vector<double>& paper) {
  if (v.effects.empty()) return "";
  std::string s = fmt::format(
      "<p class='note'>Differences of the picked test accuracies, with 95% intervals and "
      "two-sided p-values from {} bootstrap replicates ({}); \"detectable\" is the minimum "
      "detectable difference, the true difference a 5% test would find with 80% power given "
      "this variance. The last row pools the budgets: the hypervolume difference.</p>\n"
      "<table class='effects'><tr><th>budget ({})</th>",
      v.n_replicates, esc(v.resampling), size_unit(v));
  for (const auto& e : v.effects) s += fmt::format("<th>{} − {}</th>", esc(e.a), esc(e.b));
  s += "</tr>\n";
  for (double b : v.budgets) {
    std::string row;
    bool any = false;
    for (const auto& e : v.effects) {
      const auto it = std::find(e.budgets.begin(), e.budgets.end(), b);
      if (it == e.budgets.end()) {
        row += "<td class='na'>no model fits</td>";
        continue;
      }
      any = true;
      const size_t i = size_t(it - e.budgets.begin());
      row += fmt::format(
          "<td{}><b>{:+.4f}</b> [{:+.4f}, {:+.4f}]<br><small>p {} · detectable {}</small></td>",
          e.p[i] < 0.05 ? " class='sig'" : "", e.diff[i], e.ci[i].lo, e.ci[i].hi, p_text(e.p[i]),
          std::isfinite(e.mde[i]) ? fmt::format("{:.4f}", e.mde[i]) : std::string("n/a"));
    }
    const bool is_paper = std::any_of(paper.begin(), paper.end(),
                                      [&](double p) { return std::abs(p - b) < 1e-9 * p; });
    if (any)
      s += fmt::format("<tr{}><td>{}{}</td>{}</tr>\n", is_paper ? " class='paper'" : "", grouped(b),
                       is_paper ? " (paper)" : "", row);
  }
  s += "<tr><td>hypervolume</td>";
  for (const auto& e : v.effects)
    s += fmt::format("<td{}><b>{:+.4f}</b> [{:+.4f}, {:+.4f}]<br><small>p {}</small></td>",
                     e.hv_p < 0.05 ? " class='sig'" : "", e.hv_diff, e.hv_ci.lo, e.hv_ci.hi,
                     p_text(e.hv_p));
  return s + "</tr>\n</table>\n";
}

std::string view_section(const SizeView& v, const std::string& id, const std::string& title,
                         const std::vector<double>& paper) {
  std::string s = fmt::format("<section id='{0}'><h2>{1}</h2>\n", id, esc(title));
  s += fmt::format(
      "<p class='note'>One point per configuration and arm: mean {0} over its seeds against its "
      "mean {1} (log scale). Lines join each arm's frontier, chosen on <em>validation</em> "
      "accuracy (a point is on it when no smaller configuration of that arm has higher mean "
      "validation accuracy) and drawn at its <em>test</em> accuracy. Click a point for the "
      "configuration's trials and training graphs.</p>\n"
      "<div class='plot' id='frontier-{2}' data-view='{2}'></div>\n",
      v.report_key == "test_acc" ? "test accuracy" : "int8 test accuracy", size_unit(v),
      v.size_key);
  s += "<h3>Best configuration per budget</h3>\n<p class='note'>Mean test accuracy of the "
       "configuration with the best mean validation accuracy within the budget, with a bootstrap "
       "95% interval (" +
       esc(v.resampling) +
       "; selection repeated in every replicate), and the "
       "mean final dendrite count of its trials. Bold: the best arm.</p>\n";
  s += budget_table(v, paper);
  s += "<h3>Effect sizes</h3>\n" + effects_table(v, paper);
  s += "<h3>Paired tests</h3>\n" + tests_table(v);
  return s + "</section>\n";
}

std::string method_list(const json& notes) {
  std::string s = "<dl class='method'>\n";
  for (auto it = notes.begin(); it != notes.end(); ++it)
    s += fmt::format("<dt>{}</dt><dd>{}</dd>\n", esc(it.key()), esc(it.value().get<std::string>()));
  return s + "</dl>\n";
}

// JSON inside <script> must not contain "</script>"; escaping every '<' (only ever inside
// strings in JSON text) rules that out.
std::string script_safe(const std::string& json_text) {
  std::string out;
  out.reserve(json_text.size());
  for (char c : json_text) c == '<' ? out += "\\u003c" : out += c;
  return out;
}

}  // namespace

std::string sweep_page_html(const SweepTrials& t, const SweepAnalysis& a,
                            const SweepVerdict& verdict, const json& data) {
  const std::string task = t.sweep.value("task", std::string("?"));
  std::string html = fmt::format(
      "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
      "<meta name='viewport' content='width=device-width, initial-scale=1'>"
      "<title>dkws sweep report: {}</title>\n<style>{}</style></head><body>\n",
      esc(task), report_asset("sweep_report.css"));
  // A TPE sweep's rounds: configs proposed per round (round 0 is the random start-up).
  std::string rounds;
  {
    std::map<int, std::set<int64_t>> configs;
    for (const auto& tr : t.trials)
      if (tr.round >= 0) configs[tr.round].insert(tr.config_id);
    for (const auto& [r, ids] : configs)
      rounds +=
          fmt::format("{}{}: {}", rounds.empty() ? " · rounds (configs) " : ", ", r, ids.size());
  }
  html += fmt::format(
      "<h1>dkws sweep: {}</h1>\n<p class='sub'>arms {} · seeds {} · sampler {} · {} "
      "configurations · {} trials{}</p>\n",
      esc(task), esc(list(a.arms)), esc(list(a.seeds)),
      esc(t.sweep.value("sampler", std::string("?"))), t.sweep.value("n_configs", 0),
      t.trials.size(), esc(rounds));
  html += "<section id='verdict'><h2>Verdict on the paper's claim</h2><p><b>";
  html += esc(verdict.headline);
  html += "</b>";
  // Appends only: GCC 12 warns (-Wrestrict, falsely) on "literal" + std::string temporaries.
  for (const auto& f : verdict.facts) html.append(" ").append(esc(f));
  html += "</p>\n<ul>";
  for (const auto& t : verdict.tests) html.append("<li>").append(esc(t)).append("</li>");
  html += "</ul>\n";
  for (const auto& n : verdict.notes) html.append("<p class='note'>").append(esc(n)).append("</p>");
  html += "</section>\n";
  html += "<section id='summary'><h2>Arms</h2>\n" + summary_table(a) + "</section>\n";
  html += view_section(a.params, "params-view", "Test accuracy against parameter count",
                       a.options.extra_budgets);
  if (a.int8)
    html += view_section(*a.int8, "int8-view", "Accuracy against int8 model size", {});
  else
    html +=
        "<p class='note'>No trial carries int8_bytes yet, so the int8 size views are "
        "omitted.</p>\n";
  html +=
      "<section id='hparams-view'><h2>Hyperparameters and accuracy</h2><p class='note'>Each "
      "panel: one point per configuration and arm (mean test accuracy over seeds) at each value "
      "of one hyperparameter, slightly spread within the value's column; the bar marks the arm's "
      "mean at that value. Click a point for its trials.</p><div id='hparams'></div></section>\n"
      "<section id='detail'><h2>Configuration</h2><p class='note'>Click a point or a table link "
      "to show a configuration's trials in every arm and seed, with their training graphs.</p>"
      "<div id='detail-body'></div></section>\n"
      "<section id='all-configs'><details id='config-list'><summary>Every configuration "
      "(click to list)</summary><div id='config-table'></div></details></section>\n";
  html += "<section id='method'><h2>How the numbers are computed</h2>\n" +
          method_list(sweep_method_notes(a)) + "</section>\n";
  html += "<script type='application/json' id='sweep-data'>" + script_safe(data.dump()) +
          "</script>\n<script>" + report_asset("sweep_report.js") + "</script>\n</body></html>\n";
  return html;
}

}  // namespace dkws
