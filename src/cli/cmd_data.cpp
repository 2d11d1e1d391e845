// dkws data: `inspect` audits a dataset folder (problems are reported, not fatal, so one bad clip
// does not hide the rest), `split` pins a speaker-aware hash split into a TSV. Both read every
// layout open_dataset knows, with labels and speakers from file names where patterns say so.
#include <cstdio>
#include <filesystem>
#include <map>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "dkws/dataset.hpp"
#include "dkws/error.hpp"
#include "dkws/synth.hpp"

namespace dkws::cli {
namespace {

struct DataArgs {
  std::string dir;
  bool json = false;
  std::string out;
  int val = 20;
  int test = 20;
  ImportOptions import;
  bool list_problems = false;
  SynthOptions synth;
  std::string snr = "5,30";
  bool no_unknown = false, no_noise = false;
};

std::string join_ints(const nlohmann::json& a) {
  std::string s;
  for (const auto& v : a) s += (s.empty() ? "" : ",") + std::to_string(v.get<int>());
  return s;
}

// Problems by kind, the first few files of each (all of them with --list-problems).
void print_problems(const std::vector<DataProblem>& problems, bool list_all, FILE* to) {
  std::map<std::string, size_t> counts;
  for (const auto& p : problems) ++counts[p.kind];
  std::string kinds;
  for (const auto& [kind, n] : counts)
    kinds += fmt::format("{}{} {}", kinds.empty() ? "" : ", ", n, kind);
  fmt::print(to, "{} problem(s): {}{}\n", problems.size(), kinds,
             list_all ? "" : " (first 3 of each kind; --list-problems lists all)");
  for (const std::string& line : summarize_problems(problems, list_all ? 0 : 3))
    fmt::print(to, "{}\n", line);
}

void print_inspect(const nlohmann::json& r, bool list_problems) {
  fmt::print("dataset {} ({} layout): {} clips, {} classes, {} speakers\n",
             r["root"].get<std::string>(), r["layout"].get<std::string>(), r["clips"].get<size_t>(),
             r["classes"].size(), r["speakers"].get<size_t>());
  const std::string warning = r["speaker_warning"];
  if (!warning.empty()) fmt::print("{}\n", warning);
  if (r["synthetic"].get<bool>())
    fmt::print("SYNTHETIC data (text-to-speech, see synth_manifest.json), not recordings\n");
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
  std::vector<DataProblem> problems;
  for (const auto& p : r["problems"]) problems.push_back({p["kind"], p["file"], p["message"]});
  if (problems.empty()) {
    fmt::print("\nno problems found\n");
  } else {
    fmt::print("\n");
    print_problems(problems, list_problems, stdout);
    const auto& t = r["thresholds"];
    fmt::print("(short: < {} s; silent: peak < {} of full scale; expected rate {} Hz)\n",
               t["min_seconds"].get<double>(), t["silent_peak"].get<double>(),
               t["sample_rate"].get<int>());
  }
  // Its first line again: the table and problems can push the warning off the screen.
  if (!warning.empty()) fmt::print("\n{}\n", warning.substr(0, warning.find('\n')));
}

void run_inspect(const DataArgs& a) {
  const nlohmann::json report = inspect_dataset(a.dir, a.import);
  if (a.json) {
    fmt::print("{}\n", report.dump(2));
  } else {
    print_inspect(report, a.list_problems);
  }
}

void run_split(const DataArgs& a) {
  const SplitSummary s = write_speaker_split(a.dir, a.out, a.val, a.test, a.import);
  if (!s.problems.empty()) print_problems(s.problems, a.list_problems, stderr);
  const size_t rows = s.rows[0] + s.rows[1] + s.rows[2];
  const std::string warning = speaker_leak_warning(s.split_by_clip, rows);
  if (!warning.empty()) fmt::print(stderr, "{}\n", warning);
  fmt::print("wrote {}: train {} / val {} / test {} clips; {} / {} / {} speakers\n",
             s.file.string(), s.rows[0], s.rows[1], s.rows[2], s.speakers[0], s.speakers[1],
             s.speakers[2]);
  if (s.split_by_clip == rows) {
    fmt::print(
        "split by clip, not by speaker (no speaker ids): speaker leakage between the "
        "splits is possible\n");
  } else if (s.split_by_clip > 0) {
    fmt::print(
        "{} clip(s) without a speaker id split by clip: speaker leakage is possible for "
        "them\n",
        s.split_by_clip);
  }
}

void run_synth(DataArgs& a) {
  SynthOptions& o = a.synth;
  const size_t comma = a.snr.find(',');
  try {
    if (comma == std::string::npos) throw std::invalid_argument("no comma");
    size_t used = 0;
    o.snr_lo = std::stod(a.snr.substr(0, comma), &used);
    o.snr_hi = std::stod(a.snr.substr(comma + 1), &used);
  } catch (const std::exception&) {
    throw Error(fmt::format("--snr-db {}: expected lo,hi in dB (e.g. 5,30)", a.snr));
  }
  o.unknown = !a.no_unknown;
  o.noise_class = !a.no_noise;
  const SynthSummary s = synthesize_dataset(o);
  fmt::print("wrote {} (SYNTHETIC text-to-speech data, {} voices, {:.1f}s):", o.out.string(),
             s.voices, s.seconds);
  for (size_t i = 0; i < s.classes.size(); ++i) fmt::print(" {} {}", s.classes[i], s.counts[i]);
  fmt::print("\nmanifest {}\n", s.manifest.string());
}

void add_import_options(CLI::App* cmd, DataArgs& a) {
  cmd->add_option("--label-pattern", a.import.label_pattern,
                  "Regex on file names giving the label as (?<label>...) or its one group; "
                  "every audio file under DIR is a clip (flat folders, e.g. "
                  "'^(?<label>[^_]+)_' for LABEL_SPEAKER_N.wav)");
  cmd->add_option("--speaker-pattern", a.import.speaker_pattern,
                  "Regex on file names giving the speaker as (?<speaker>...) or its one group, "
                  "in any layout (e.g. '^(?<speaker>[^_]+)_' for SPEAKER_WORD_NN.wav); without "
                  "speakers the split is by clip and can leak speakers");
  cmd->add_flag("--list-problems", a.list_problems,
                "List every problem, not the first 3 of each kind");
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
                   "Dataset folder (class folders, Speech Commands, Edge Impulse export, "
                   "per-split train/val/test.csv lists, a flat folder with --label-pattern) or "
                   "manifest file (CSV/TSV with a header naming path, label and optionally "
                   "speaker and split; or a split TSV)")
      ->required();
  inspect->add_flag("--json", args->json, "Print the report as JSON");
  add_import_options(inspect, *args);
  inspect->callback([args] { run_inspect(*args); });

  CLI::App* split =
      data->add_subcommand("split",
                           "Split a dataset by speaker hash (Speech Commands rule; by clip when "
                           "no speaker is known) into a TSV of "
                           "split<TAB>label<TAB>path<TAB>speaker");
  split->add_option("DIR", args->dir, "Dataset folder or manifest file (as for inspect)")
      ->required();
  split->add_option("-o,--out", args->out, "Output TSV (default DIR/splits.tsv)");
  split->add_option("--val", args->val, "Validation percent of speakers")
      ->check(CLI::Range(0, 100))
      ->capture_default_str();
  split->add_option("--test", args->test, "Test percent of speakers")
      ->check(CLI::Range(0, 100))
      ->capture_default_str();
  add_import_options(split, *args);
  split->callback([args] { run_split(*args); });

  CLI::App* synth = data->add_subcommand(
      "synth",
      "Make a SYNTHETIC class-folder dataset from text-to-speech (espeak-ng and flite voices, "
      "sox rate/pitch changes, random placement, noise at an SNR range): one folder per "
      "keyword plus 'unknown' (other words) and 'noise'; the TTS voice is the speaker");
  synth
      ->add_option("--keywords", args->synth.keywords,
                   "Keywords, comma-separated (yes,hello world)")
      ->delimiter(',')
      ->required();
  synth->add_option("-o,--out", args->synth.out, "Output folder (new, or made by synth before)")
      ->required();
  synth->add_option("--per-class", args->synth.per_class, "Clips per class")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  synth->add_option("--seed", args->synth.seed, "Random seed (same seed: identical files)")
      ->capture_default_str();
  synth->add_option("--snr-db", args->snr, "Speech-to-noise ratio range lo,hi (dB)")
      ->capture_default_str();
  synth->add_option("--noise", args->synth.noise_dir,
                    "Folder of noise recordings to mix in (default: generated coloured noise)");
  synth
      ->add_option("--unknown-words", args->synth.unknown_words,
                   "Words for the 'unknown' class, comma-separated (default: the Speech "
                   "Commands vocabulary minus the keywords)")
      ->delimiter(',');
  synth->add_flag("--no-unknown", args->no_unknown, "Do not make the 'unknown' class");
  synth->add_flag("--no-noise", args->no_noise, "Do not make the 'noise' class");
  synth->add_flag("-q,--quiet", args->synth.quiet, "No progress output");
  synth->callback([args] { run_synth(*args); });
}

}  // namespace dkws::cli
