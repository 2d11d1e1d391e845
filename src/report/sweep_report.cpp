// write_sweep_report: analysis, page data and the four output files, each written atomically.
#include "report/sweep_report.hpp"

#include <cmath>

#include "dkws/error.hpp"
#include "dkws/util.hpp"

namespace dkws {
namespace {

using nlohmann::json;

// Four decimals are below any accuracy difference the report discusses and keep the page small.
json r4(double v) {
  return std::isfinite(v) ? json(std::round(v * 1e4) / 1e4) : json(nullptr);
}

json view_data(const SizeView& v, const std::vector<double>& paper) {
  json configs = json::object(), frontier = json::object();
  for (const auto& a : v.arms) {
    json rows = json::array(), front = json::array();
    for (const auto& c : a.configs)
      rows.push_back({c.config_id, r4(c.size), r4(c.val), r4(c.test), c.seeds.size()});
    for (size_t i : a.frontier) front.push_back(a.configs[i].config_id);
    configs[a.arm] = rows, frontier[a.arm] = front;
  }
  return {{"size", v.size_key}, {"report", v.report_key}, {"budgets", v.budgets},
          {"paper", paper},     {"configs", configs},     {"frontier", frontier}};
}

json page_data(const std::filesystem::path& dir, const SweepTrials& t, const SweepAnalysis& a) {
  json views = {{"params", view_data(a.params, a.options.extra_budgets)}};
  if (a.int8) views["int8_bytes"] = view_data(*a.int8, {});
  json trials = json::array(), hparams = json::object();
  for (const auto& tr : t.trials) {
    const bool d = tr.done();
    trials.push_back({tr.trial_id, tr.config_id, tr.arm, tr.seed, tr.status,
                      d ? r4(tr.val_acc) : json(nullptr), d ? r4(tr.test_acc) : json(nullptr),
                      d ? json(tr.params) : json(nullptr), tr.dendrites, tr.epochs, tr.error});
    const std::string key = std::to_string(tr.config_id);
    // Every arm samples the same configuration; the first row's hyperparameters stand for it.
    if (!hparams.contains(key)) hparams[key] = tr.hparams;
  }
  return {{"arms", a.arms},
          {"views", views},
          {"trials", trials},
          {"hparams", hparams},
          {"hist", sweep_histories(dir, t)}};
}

}  // namespace

SweepReportResult write_sweep_report(const std::filesystem::path& sweep_dir,
                                     const std::filesystem::path& out,
                                     const SweepAnalysisOptions& opt) {
  using nlohmann::json;
  const std::filesystem::path trials_path = sweep_dir / "trials.json";
  // Read once: a running sweep may replace trials.json meanwhile, and the copy must match the
  // analysis.
  if (!std::filesystem::exists(trials_path))
    throw Error(trials_path.string() + ": no such file (is this a `dkws sweep` folder?)");
  const std::string text = read_file(trials_path);
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::exception& e) {
    throw Error(trials_path.string() + ": invalid JSON: " + e.what());
  }
  const SweepTrials t = parse_sweep_trials(doc, trials_path.string());
  SweepReportResult r;
  r.analysis = analyse_sweep(t, opt);
  r.verdict = sweep_verdict(t, r.analysis);
  const std::string html =
      sweep_page_html(t, r.analysis, r.verdict, page_data(sweep_dir, t, r.analysis));
  std::filesystem::create_directories(out);
  write_file_atomic(out / "trials.json", text);
  write_file_atomic(out / "trials.csv", sweep_trials_csv(t));
  json analysis = analysis_json(r.analysis);
  analysis["verdict"] = r.verdict.lines();
  write_file_atomic(out / "analysis.json", analysis.dump(2) + "\n");
  // The page last: once it exists, the files it describes are complete.
  r.html = out / "report.html";
  write_file_atomic(r.html, html);
  r.html_bytes = html.size();
  return r;
}

}  // namespace dkws
