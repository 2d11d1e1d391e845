// dkws data: `inspect` audits a dataset folder (problems are reported, not fatal, so one bad clip
// does not hide the rest), `split` pins a speaker-aware hash split into a TSV.
#include <filesystem>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "dkws/dataset.hpp"

namespace dkws::cli {
namespace {

struct DataArgs {
  std::string dir;
  bool json = false;
  std::string out;
  int val = 20;
  int test = 20;
};

std::string join_ints(const nlohmann::json& a) {
  std::string s;
  for (const auto& v : a) s += (s.empty() ? "" : ",") + std::to_string(v.get<int>());
  return s;
}

void print_inspect(const nlohmann::json& r) {
  fmt::print("dataset {} ({} layout): {} clips, {} classes, {} speakers\n",
             r["root"].get<std::string>(), r["layout"].get<std::string>(), r["clips"].get<size_t>(),
             r["classes"].size(), r["speakers"].get<size_t>());
  const auto& sp = r["splits"];
  fmt::print("splits: train {}, val {}, test {}\n\n", sp["train"].get<size_t>(),
             sp["val"].get<size_t>(), sp["test"].get<size_t>());
  fmt::print("{:<16} {:>6} {:>6} {:>5} {:>5} {:>8} {:>9} {:>7} {:>7}  {:<12} {}\n", "class",
             "clips", "train", "val", "test", "speakers", "total s", "min s", "max s", "rates",
             "channels");
  for (const auto& c : r["classes"]) {
    fmt::print("{:<16} {:>6} {:>6} {:>5} {:>5} {:>8} {:>9.1f} {:>7.3f} {:>7.3f}  {:<12} {}\n",
               c["name"].get<std::string>(), c["count"].get<size_t>(),
               c["splits"]["train"].get<size_t>(), c["splits"]["val"].get<size_t>(),
               c["splits"]["test"].get<size_t>(), c["speakers"].get<size_t>(),
               c["seconds_total"].get<double>(), c["seconds_min"].get<double>(),
               c["seconds_max"].get<double>(), join_ints(c["sample_rates"]),
               join_ints(c["channels"]));
  }
  const auto& problems = r["problems"];
  if (problems.empty()) {
    fmt::print("\nno problems found\n");
    return;
  }
  fmt::print("\n{} problem(s):\n", problems.size());
  for (const auto& p : problems) {
    const std::string file = p["file"].get<std::string>();
    const std::string kind = p["kind"].get<std::string>();
    // Scan lines and duplicate groups already name their files in the message.
    if (file.empty() || kind == "duplicate" || kind == "speaker_overlap") {
      fmt::print("  [{}] {}\n", kind, p["message"].get<std::string>());
    } else {
      fmt::print("  [{}] {}: {}\n", kind, file, p["message"].get<std::string>());
    }
  }
  const auto& t = r["thresholds"];
  fmt::print("(short: < {} s; silent: peak < {} of full scale; expected rate {} Hz)\n",
             t["min_seconds"].get<double>(), t["silent_peak"].get<double>(),
             t["sample_rate"].get<int>());
}

void run_inspect(const DataArgs& a) {
  const nlohmann::json report = inspect_dataset(a.dir);
  if (a.json) {
    fmt::print("{}\n", report.dump(2));
  } else {
    print_inspect(report);
  }
}

void run_split(const DataArgs& a) {
  const SplitSummary s = write_speaker_split(a.dir, a.out, a.val, a.test);
  for (const auto& p : s.problems) fmt::print(stderr, "problem: {}\n", p);
  fmt::print("wrote {}: train {} / val {} / test {} clips; {} / {} / {} speakers\n",
             s.file.string(), s.rows[0], s.rows[1], s.rows[2], s.speakers[0], s.speakers[1],
             s.speakers[2]);
}

}  // namespace

void register_data(CLI::App& app) {
  auto args = std::make_shared<DataArgs>();
  CLI::App* data = app.add_subcommand("data", "Inspect datasets and write speaker-aware splits");
  data->require_subcommand(1);

  CLI::App* inspect = data->add_subcommand(
      "inspect",
      "Per-class counts, durations, rates, speakers and splits, plus problems: "
      "unreadable, empty, short (< 0.5 s) or silent clips, rates other than 16 kHz, "
      "multi-channel files, exact duplicates, speakers in two splits");
  inspect
      ->add_option("DIR", args->dir,
                   "Dataset folder (class folders, Speech Commands, "
                   "Edge Impulse export) or split TSV")
      ->required();
  inspect->add_flag("--json", args->json, "Print the report as JSON");
  inspect->callback([args] { run_inspect(*args); });

  CLI::App* split =
      data->add_subcommand("split",
                           "Split a dataset by speaker hash (Speech Commands rule) into a TSV of "
                           "split<TAB>label<TAB>path");
  split->add_option("DIR", args->dir, "Dataset folder or split TSV")->required();
  split->add_option("-o,--out", args->out, "Output TSV (default DIR/splits.tsv)");
  split->add_option("--val", args->val, "Validation percent of speakers")
      ->check(CLI::Range(0, 100))
      ->capture_default_str();
  split->add_option("--test", args->test, "Test percent of speakers")
      ->check(CLI::Range(0, 100))
      ->capture_default_str();
  split->callback([args] { run_split(*args); });
}

}  // namespace dkws::cli
