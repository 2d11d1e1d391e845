// `dkws report SWEEP_DIR` end to end on synthetic sweeps: the output files, a page with no network
// references, the 800-trial page size, the old `dkws report RUN...` behaviour, and the page in
// headless Chromium (no console errors, frontier plot with one point per configuration, training
// graphs on click). The Chromium tests skip only when no chromium binary is installed.
#include <gtest/gtest.h>

#include <regex>
#include <set>

#include <fmt/core.h>

#include "dkws/util.hpp"
#include "sweep_fixture.hpp"
#include "test_util.hpp"

namespace dkws::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

size_t count(const std::string& hay, const std::string& needle) {
  size_t n = 0;
  for (size_t p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + 1)) ++n;
  return n;
}

// Number of (arm, configuration) points the frontier plot must show: configurations with at least
// one finished trial, per arm.
size_t expected_points(const json& doc, const std::string& size_key = "params") {
  std::set<std::pair<std::string, int64_t>> seen;
  for (const auto& t : doc["trials"])
    if (t["status"] == "done" && !t[size_key].is_null())
      seen.insert({t["arm"].get<std::string>(), t["config_id"].get<int64_t>()});
  return seen.size();
}

TEST(SweepReport, WritesPageCsvJsonAndAnalysis) {
  TempDir tmp;
  SyntheticSweep s;
  s.n_configs = 8, s.seeds = {1, 2, 3}, s.failure_rate = 0.05;
  const json doc = make_synthetic_sweep(tmp / "sweep", s);
  const auto r = run_cli(fmt::format("report '{}' --out '{}' --bootstrap 200 --permutations 200",
                                     (tmp / "sweep").string(), (tmp / "out").string()));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("beats none at every budget: p = "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("Verdict:"), std::string::npos) << r.output;

  EXPECT_EQ(read_file(tmp / "out" / "trials.json"), read_file(tmp / "sweep" / "trials.json"));
  const std::string csv = read_file(tmp / "out" / "trials.csv");
  EXPECT_EQ(count(csv, "\n"), doc["trials"].size() + 1);
  EXPECT_NE(csv.find(",dropout,"), std::string::npos);  // hyperparameters as columns

  const json a = json::parse(read_file(tmp / "out" / "analysis.json"));
  EXPECT_EQ(a["format"], "dkws-sweep-analysis");
  EXPECT_TRUE(a["int8"].is_null());
  size_t points = 0, failed = 0;
  for (const auto& arm : a["params"]["arms"]) {
    points += arm["configs"].size();
    failed += arm["n_failed"].get<size_t>();
    EXPECT_EQ(arm["budgets"].size(), a["params"]["budgets"].size());
  }
  EXPECT_EQ(points, expected_points(doc));
  size_t failed_in_doc = 0;
  for (const auto& t : doc["trials"]) failed_in_doc += t["status"] == "failed";
  EXPECT_EQ(failed, failed_in_doc);
  // gd and cc against none and restart, and restart against none.
  EXPECT_EQ(a["params"]["tests"].size(), 5u);
  EXPECT_EQ(a["verdict"].size() > 3, true);

  const std::string html = read_file(tmp / "out" / "report.html");
  EXPECT_NE(html.find("Verdict"), std::string::npos);
  EXPECT_NE(html.find("1,500 (paper)"), std::string::npos);
  // Self-contained: no external scripts, styles, images or links.
  EXPECT_FALSE(std::regex_search(
      html, std::regex(R"((src|href)\s*=\s*["']?\s*(https?:)?//)", std::regex::icase)));
  EXPECT_EQ(html.find("<link"), std::string::npos);
  EXPECT_EQ(html.find("@import"), std::string::npos);
  EXPECT_EQ(html.find("url("), std::string::npos);
}

TEST(SweepReport, Int8ViewsAppearWhenTrialsCarryBytes) {
  TempDir tmp;
  SyntheticSweep s;
  s.int8 = true, s.write_run_files = false, s.arms = {"none", "gd"};
  make_synthetic_sweep(tmp / "sweep", s);
  const auto r = run_cli(
      fmt::format("report '{}' --bootstrap 100 --permutations 100 -q", (tmp / "sweep").string()));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const json a = json::parse(read_file(tmp / "sweep" / "report" / "analysis.json"));  // default out
  ASSERT_TRUE(a["int8"].is_object());
  EXPECT_EQ(a["int8"]["size_key"], "int8_bytes");
  EXPECT_NE(read_file(tmp / "sweep" / "report" / "report.html").find("frontier-int8_bytes"),
            std::string::npos);
}

TEST(SweepReport, BadSweepIsAOneLineError) {
  TempDir tmp;
  fs::create_directories(tmp / "sweep");
  write_file(tmp / "sweep" / "trials.json",
             "{\"format\": \"dkws-sweep-trials\", \"version\": 1, "
             "\"trials\": [{\"trial_id\": 1}]}");
  const auto r = run_cli(fmt::format("report '{}'", (tmp / "sweep").string()));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("trials.json: trials[0]: missing key 'config_id'"), std::string::npos)
      << r.output;
  EXPECT_EQ(count(r.output, "\n"), 1u) << r.output;
}

TEST(SweepReport, SweepWithoutFinishedTrialsStillReports) {
  TempDir tmp;
  fs::create_directories(tmp / "sweep");
  write_file(tmp / "sweep" / "trials.json",
             R"({"format":"dkws-sweep-trials","version":1,"sweep":{"arms":["none","gd"],)"
             R"("seeds":[1,2]},"trials":[{"trial_id":1,"config_id":0,"arm":"none","seed":1,)"
             R"("status":"failed","error":"boom","val_acc":null,"test_acc":null,"params":null,)"
             R"("dendrites":null,"epochs":null,"run_dir":null}]})");
  const auto r = run_cli(fmt::format("report '{}'", (tmp / "sweep").string()));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("nothing to judge yet"), std::string::npos) << r.output;
  const json a = json::parse(read_file(tmp / "sweep" / "report" / "analysis.json"));
  EXPECT_EQ(a["params"]["arms"][0]["n_failed"], 1);
  EXPECT_EQ(count(read_file(tmp / "sweep" / "report" / "trials.csv"), "\n"), 2u);
}

TEST(SweepReport, RunReportsStillWork) {
  TempDir tmp;
  fs::create_directories(tmp / "run");
  write_file(tmp / "run" / "metrics.json",
             R"({"task":"kws12","model":"ei_conv1d","dendrites":"none","seed":1,"params":3228,)"
             R"("params_base":3228,"val_accuracy":0.75,"test_accuracy":0.73,"best_epoch":7,)"
             R"("epochs":10,"train_seconds":1.5})");
  const auto r = run_cli(
      fmt::format("report '{}' --out '{}'", (tmp / "run").string(), (tmp / "out").string()));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(fs::exists(tmp / "out" / "index.html"));
  EXPECT_NE(read_file(tmp / "out" / "runs.csv").find("3228"), std::string::npos);
}

TEST(SweepReport, PageFor800TrialsStaysSmall) {
  TempDir tmp;
  SyntheticSweep s;
  s.n_configs = 100;  // x 4 arms x 2 seeds = 800 trials
  const json doc = make_synthetic_sweep(tmp / "sweep", s);
  ASSERT_EQ(doc["trials"].size(), 800u);
  const auto r = run_cli(
      fmt::format("report '{}' --out '{}' -q", (tmp / "sweep").string(), (tmp / "out").string()));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto bytes = fs::file_size(tmp / "out" / "report.html");
  std::printf("800-trial report.html: %.2f MB\n", double(bytes) / 1e6);
  EXPECT_LT(bytes, 5'000'000u);
  // Every trial's history is embedded, so each one's graph can be drawn on click.
  const std::string html = read_file(tmp / "out" / "report.html");
  const auto start = html.find("<script type='application/json' id='sweep-data'>") + 48;
  const json data = json::parse(html.substr(start, html.find("</script>", start) - start));
  size_t done = 0;
  for (const auto& t : doc["trials"]) done += t["status"] == "done";
  EXPECT_EQ(data["hist"].size(), done);
}

// ---- headless Chromium ----

std::string chromium_binary() {
  for (const char* name : {"chromium", "chromium-browser", "google-chrome"}) {
    const std::string cmd = std::string("command -v ") + name + " >/dev/null 2>&1";
    if (std::system(cmd.c_str()) == 0) return name;
  }
  return {};
}

struct BrowserRun {
  std::string dom, log;
};

// Loads a page in headless Chromium, returns the DOM after its scripts ran and the browser log
// (console messages and uncaught errors appear there as "CONSOLE" lines with --enable-logging).
BrowserRun load_in_chromium(const std::string& chromium, const fs::path& page,
                            const std::string& fragment, const fs::path& work) {
  const fs::path dom = work / "dom.html", log = work / "chromium.log";
  const std::string cmd = fmt::format(
      "{} --headless --no-sandbox --disable-gpu --no-first-run --user-data-dir='{}' "
      "--enable-logging=stderr --v=0 --virtual-time-budget=10000 --dump-dom 'file://{}{}' "
      ">'{}' 2>'{}'",
      chromium, (work / "profile").string(), fs::absolute(page).string(), fragment, dom.string(),
      log.string());
  const int rc = std::system(cmd.c_str());
  EXPECT_EQ(rc, 0) << cmd << "\n" << read_file(log);
  return {fs::exists(dom) ? read_file(dom) : "", fs::exists(log) ? read_file(log) : ""};
}

bool has_console_error(const std::string& log) {
  return log.find("CONSOLE") != std::string::npos || log.find("Uncaught") != std::string::npos;
}

TEST(SweepReportChromium, DetectsConsoleErrors) {
  const std::string chromium = chromium_binary();
  if (chromium.empty()) GTEST_SKIP() << "chromium is not installed (apt-get install chromium)";
  TempDir tmp;
  write_file(tmp / "bad.html",
             "<html><body><script>console.error('boom'); "
             "undefinedFunction();</script></body></html>");
  const BrowserRun run = load_in_chromium(chromium, tmp / "bad.html", "", tmp.path());
  EXPECT_TRUE(has_console_error(run.log)) << run.log;  // the check below can fail
}

TEST(SweepReportChromium, RendersFrontierWithoutConsoleErrors) {
  const std::string chromium = chromium_binary();
  if (chromium.empty()) GTEST_SKIP() << "chromium is not installed (apt-get install chromium)";
  TempDir tmp;
  SyntheticSweep s;
  s.n_configs = 24, s.seeds = {1, 2, 3}, s.failure_rate = 0.03, s.int8 = true;
  s.sampled_range = true;
  const json doc = make_synthetic_sweep(tmp / "sweep", s);
  const auto r = run_cli(
      fmt::format("report '{}' --out '{}' -q", (tmp / "sweep").string(), (tmp / "out").string()));
  ASSERT_EQ(r.exit_code, 0) << r.output;

  // Open with a configuration selected, as a click on one of its points does.
  int64_t cid = 3;
  size_t graphs = 0;
  for (const auto& t : doc["trials"]) graphs += t["config_id"] == cid && t["status"] == "done";
  const BrowserRun run = load_in_chromium(chromium, tmp / "out" / "report.html",
                                          "#config-" + std::to_string(cid), tmp.path());
  EXPECT_FALSE(has_console_error(run.log)) << run.log;
  EXPECT_NE(run.dom.find("data-rendered=\"ok\""), std::string::npos) << run.dom.substr(0, 400);
  EXPECT_EQ(run.dom.find("data-js-error=\""), std::string::npos) << run.dom.substr(0, 400);

  // The frontier plot: one point per (arm, configuration), one frontier line per arm.
  const auto start = run.dom.find("id=\"frontier-params\"");
  ASSERT_NE(start, std::string::npos);
  const std::string plot = run.dom.substr(start, run.dom.find("</svg>", start) - start);
  EXPECT_EQ(count(plot, "class=\"pt\""), expected_points(doc));
  EXPECT_EQ(count(plot, "class=\"frontier\""), s.arms.size());
  const auto start8 = run.dom.find("id=\"frontier-int8_bytes\"");
  ASSERT_NE(start8, std::string::npos);
  const std::string plot8 = run.dom.substr(start8, run.dom.find("</svg>", start8) - start8);
  EXPECT_EQ(count(plot8, "class=\"pt\""), expected_points(doc, "int8_bytes"));
  // Hyperparameter panels (13 hyperparameters and a sampled range, drawn on a log axis) and the
  // selected configuration's training graphs.
  EXPECT_EQ(count(run.dom, "class=\"hp-panel\""), 14u);
  EXPECT_NE(run.dom.find("weight_decay (log)"), std::string::npos);
  EXPECT_EQ(count(run.dom, "class=\"graph\""), graphs);
  EXPECT_GT(count(run.dom, "class=\"series val\""), 0u);

  // docs/sweep-report.png is made from this page: DKWS_SWEEP_SCREENSHOT=path runs the shot.
  if (const char* shot = std::getenv("DKWS_SWEEP_SCREENSHOT")) {
    const std::string cmd = fmt::format(
        "{} --headless --no-sandbox --disable-gpu --hide-scrollbars --user-data-dir='{}' "
        "--window-size=1300,2300 --virtual-time-budget=10000 --screenshot='{}' 'file://{}' "
        "2>/dev/null",
        chromium, (tmp / "profile2").string(), fs::absolute(shot).string(),
        fs::absolute(tmp / "out" / "report.html").string());
    EXPECT_EQ(std::system(cmd.c_str()), 0);
  }
}

}  // namespace
}  // namespace dkws::testing
