// `dkws report SWEEP_DIR`: the sweep's analysis as one self-contained HTML page plus trials.csv,
// trials.json and analysis.json. The page is split over small files: sweep_html.cpp (layout and
// tables), assets/sweep_report.js and .css (the inline plots and style, embedded at build time:
// report_assets.hpp), sweep_history.cpp (training histories compacted for the page),
// sweep_verdict.cpp (the verdict paragraph and method notes).
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dkws/sweep_analysis.hpp"

namespace dkws {

// The verdict on the paper's claim: a headline, the facts it rests on, one sentence per paired
// test, and caveats. lines() gives them in that order (stdout, analysis.json).
struct SweepVerdict {
  std::string headline;
  std::vector<std::string> facts, tests, notes;
  std::vector<std::string> lines() const;
};

struct SweepReportResult {
  std::filesystem::path html;
  size_t html_bytes = 0;
  SweepAnalysis analysis;
  SweepVerdict verdict;
};

SweepReportResult write_sweep_report(const std::filesystem::path& sweep_dir,
                                     const std::filesystem::path& out,
                                     const SweepAnalysisOptions& opt);

SweepVerdict sweep_verdict(const SweepTrials& t, const SweepAnalysis& a);
// How each number is computed, as {topic: sentence}; shown on the page and in analysis.json.
nlohmann::json sweep_method_notes(const SweepAnalysis& a);

std::string sweep_trials_csv(const SweepTrials& t);

// {trial_id: compact history} for trials whose run_dir holds a history.csv: accuracies in
// thousandths, the phase string, and learning rate / dendrites / params as change points.
nlohmann::json sweep_histories(const std::filesystem::path& sweep_dir, const SweepTrials& t);

std::string sweep_page_html(const SweepTrials& t, const SweepAnalysis& a,
                            const SweepVerdict& verdict, const nlohmann::json& data);
// 1234567 -> "1,234,567": budgets and sizes, grouped as the paper writes them.
std::string grouped(double v);

}  // namespace dkws
