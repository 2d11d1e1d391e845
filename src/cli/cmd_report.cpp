// dkws report RUN...: a side-by-side summary of finished training runs (the folders `dkws train`
// writes): a table on stdout, and a self-contained HTML page with every run's training graph and
// confusion matrix, plus the same table as CSV and JSON.
// dkws report SWEEP_DIR: when the one folder given holds a trials.json, the sweep's analysis
// (report/sweep_report.hpp) instead: report.html, trials.csv, trials.json, analysis.json.
#include <filesystem>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "dkws/error.hpp"
#include "dkws/util.hpp"
#include "report/sweep_report.hpp"

namespace dkws::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct ReportArgs {
  std::vector<std::string> runs;
  std::string out;  // default: "report" for runs, SWEEP_DIR/report for a sweep
  SweepAnalysisOptions sweep;
  bool quiet = false;
};

bool is_sweep_dir(const std::string& p) {
  return fs::is_directory(p) && fs::exists(fs::path(p) / "trials.json");
}

void run_sweep_report(const ReportArgs& a) {
  const fs::path out = a.out.empty() ? fs::path(a.runs[0]) / "report" : fs::path(a.out);
  const SweepReportResult r = write_sweep_report(a.runs[0], out, a.sweep);
  const SizeView& v = r.analysis.params;
  fmt::print("{:>9}", "budget");
  for (const auto& arm : v.arms) fmt::print("  {:>26}", arm.arm);
  fmt::print("\n");
  for (size_t b = 0; b < v.budgets.size(); ++b) {
    fmt::print("{:>9.0f}", v.budgets[b]);
    for (const auto& arm : v.arms) {
      const BudgetCell& c = arm.budgets[b];
      if (c.feasible)
        fmt::print("  {:.4f} [{:.4f}, {:.4f}]", c.test, c.ci.lo, c.ci.hi);
      else
        fmt::print("  {:>26}", "-");
    }
    fmt::print("\n");
  }
  for (const auto& t : v.tests)
    fmt::print("{} beats {} at every budget: p = {:.4f} ({} budgets, {} paired cells)\n", t.a, t.b,
               t.p_all, t.budgets.size(), t.n_cells);
  if (!a.quiet)
    for (const auto& s : r.verdict.lines()) fmt::print("{}\n", s);
  fmt::print("report: {} ({:.2f} MB; trials.csv, trials.json, analysis.json beside it)\n",
             r.html.string(), double(r.html_bytes) / 1e6);
}

std::string optional_file(const fs::path& p) {
  return fs::exists(p) ? read_file(p) : std::string();
}

void run_report(const ReportArgs& a) {
  if (a.runs.size() == 1 && is_sweep_dir(a.runs[0])) return run_sweep_report(a);
  for (const auto& r : a.runs)
    if (a.runs.size() > 1 && is_sweep_dir(r))
      throw Error(r + ": a sweep folder must be reported on its own (dkws report SWEEP_DIR)");
  const std::string out_dir = a.out.empty() ? std::string("report") : a.out;
  json rows = json::array();
  std::string csv =
      "run,task,model,dendrites,seed,params_base,params,val_accuracy,test_accuracy,best_epoch,"
      "epochs,train_seconds\n";
  std::string body;
  fmt::print("{:<40} {:>8} {:>6} {:>7} {:>7} {:>7} {:>6} {:>8}\n", "run", "dendrite", "seed",
             "params", "val", "test", "epochs", "seconds");
  for (const auto& run : a.runs) {
    const fs::path metrics_path = fs::path(run) / "metrics.json";
    if (!fs::exists(metrics_path))
      throw Error(fmt::format("{}: no metrics.json (is this a finished `dkws train` run?)", run));
    json m;
    try {
      m = json::parse(read_file(metrics_path));
    } catch (const json::exception& e) {
      throw Error(fmt::format("{}: invalid JSON: {}", metrics_path.string(), e.what()));
    }
    json row = {{"run", run},
                {"task", m.value("task", "")},
                {"model", m.value("model", "")},
                {"dendrites", m.value("dendrites", "")},
                {"seed", m.value("seed", 0)},
                {"params_base", m.value("params_base", 0)},
                {"params", m.value("params", 0)},
                {"val_accuracy", m.value("val_accuracy", 0.0)},
                {"test_accuracy", m.value("test_accuracy", 0.0)},
                {"best_epoch", m.value("best_epoch", 0)},
                {"epochs", m.value("epochs", 0)},
                {"train_seconds", m.value("train_seconds", 0.0)}};
    rows.push_back(row);
    csv += fmt::format(
        "{},{},{},{},{},{},{},{:.4f},{:.4f},{},{},{:.2f}\n", run, row["task"].get<std::string>(),
        row["model"].get<std::string>(), row["dendrites"].get<std::string>(),
        row["seed"].get<long>(), row["params_base"].get<long>(), row["params"].get<long>(),
        row["val_accuracy"].get<double>(), row["test_accuracy"].get<double>(),
        row["best_epoch"].get<int>(), row["epochs"].get<int>(), row["train_seconds"].get<double>());
    fmt::print("{:<40} {:>8} {:>6} {:>7} {:>7.4f} {:>7.4f} {:>6} {:>8.1f}\n", run,
               row["dendrites"].get<std::string>(), row["seed"].get<long>(),
               row["params"].get<long>(), row["val_accuracy"].get<double>(),
               row["test_accuracy"].get<double>(), row["epochs"].get<int>(),
               row["train_seconds"].get<double>());
    body += fmt::format(
        "<section><h2>{}</h2><p>{} · {} · dendrites {} · {} parameters · val {:.4f} · test "
        "{:.4f}</p>\n",
        xml_escape(run), xml_escape(row["task"].get<std::string>()),
        xml_escape(row["model"].get<std::string>()),
        xml_escape(row["dendrites"].get<std::string>()), row["params"].get<long>(),
        row["val_accuracy"].get<double>(), row["test_accuracy"].get<double>());
    body += "<div class='figs'>" + optional_file(fs::path(run) / "training_graph.svg") +
            optional_file(fs::path(run) / "confusion.svg") + "</div></section>\n";
  }
  std::string table =
      "<table><tr><th>run</th><th>dendrites</th><th>params</th><th>val</th><th>test</"
      "th><th>epochs</th><th>seconds</th></tr>\n";
  for (const auto& r : rows)
    table += fmt::format(
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{:.4f}</td><td>{:.4f}</td><td>{}</td><td>{:.1f}</"
        "td></tr>\n",
        xml_escape(r["run"].get<std::string>()), xml_escape(r["dendrites"].get<std::string>()),
        r["params"].get<long>(), r["val_accuracy"].get<double>(), r["test_accuracy"].get<double>(),
        r["epochs"].get<int>(), r["train_seconds"].get<double>());
  table += "</table>\n";
  const std::string html =
      "<!DOCTYPE html><html><head><meta charset='utf-8'><title>dkws runs</title><style>"
      "body{font-family:sans-serif;margin:2em;max-width:1400px}table{border-collapse:collapse}"
      "td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}td:first-child{text-align:left}"
      ".figs{display:flex;flex-wrap:wrap;gap:1em;align-items:flex-start}</style></head><body>"
      "<h1>dkws runs</h1>\n" +
      table + body + "</body></html>\n";
  fs::create_directories(out_dir);
  write_file_atomic(fs::path(out_dir) / "index.html", html);
  write_file_atomic(fs::path(out_dir) / "runs.csv", csv);
  write_file_atomic(fs::path(out_dir) / "runs.json", rows.dump(2) + "\n");
  fmt::print("report: {}/index.html (runs.csv, runs.json beside it)\n", out_dir);
}

}  // namespace

void register_report(CLI::App& app) {
  auto args = std::make_shared<ReportArgs>();
  CLI::App* sub = app.add_subcommand(
      "report",
      "Summarise finished training runs (RUN...) or a sweep (SWEEP_DIR, a folder holding "
      "trials.json): table, self-contained HTML page, CSV and JSON");
  sub->add_option("runs", args->runs, "Run folders written by `dkws train`, or one sweep folder")
      ->required();
  sub->add_option("-o,--out", args->out,
                  "Output folder (default: report for runs, SWEEP_DIR/report for a sweep)");
  sub->add_option("--bootstrap", args->sweep.bootstrap,
                  "Sweep: bootstrap replicates over seeds (exact enumeration when seeds^seeds "
                  "is not larger)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000000));
  sub->add_option("--permutations", args->sweep.permutations,
                  "Sweep: sign-flip patterns of the paired test (exact when 2^cells is not larger)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000000));
  sub->add_option("--seed", args->sweep.seed, "Sweep: seed of the bootstrap and permutation draws")
      ->capture_default_str();
  sub->add_flag("-q,--quiet", args->quiet, "Sweep: print the table and tests, not the verdict");
  sub->callback([args] { run_report(*args); });
}

}  // namespace dkws::cli
