// inspect_dataset: decodes every clip once and reports what would hurt training quietly —
// unreadable, short, silent or off-rate clips, byte-identical copies (which inflate accuracy when
// they straddle splits) and speakers that appear in two splits.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <set>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "data/data_internal.hpp"
#include "dkws/audio.hpp"
#include "dkws/util.hpp"

namespace dkws {
namespace fs = std::filesystem;
namespace {

constexpr double kMinSeconds = 0.5;
// 1e-3 of int16 full scale (about -60 dBFS): below this a clip is digital silence or a dead mic.
constexpr double kSilentPeak = 1e-3;
constexpr int kExpectedRate = 16000;

struct ClipStats {
  bool readable = false;
  std::string error;
  uint64_t hash = 0;
  AudioInfo info;
  double peak = 0;  // fraction of full scale
};

ClipStats measure(const Clip& c) {
  ClipStats s;
  try {
    if (fs::file_size(c.path) == 0) {
      s.error = "empty file (0 bytes)";
      return s;
    }
    s.hash = data::hash_file(c.path);
    s.info = probe_audio(c.path);
    // Decode at the file's own rate: resampling would cost time and could move the peak.
    const auto samples = load_audio(c.path, {std::max(1, s.info.sample_rate), 0});
    for (float v : samples) s.peak = std::max(s.peak, double(std::fabs(v)) / 32768.0);
    s.readable = true;
  } catch (const std::exception& e) {
    // The report prints the file beside the message, so drop the loader's own "<file>: " prefix.
    s.error = e.what();
    const std::string prefix = c.path.string() + ": ";
    if (s.error.starts_with(prefix)) s.error.erase(0, prefix.size());
  }
  return s;
}

nlohmann::json problem(const std::string& kind, const std::string& file, const std::string& msg) {
  return {{"kind", kind}, {"file", file}, {"message", msg}};
}

// A class meant to be quiet ("_silence_", "noise") is not flagged for being quiet.
bool quiet_class(std::string name) {
  std::erase(name, '_');
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char ch) { return std::tolower(ch); });
  return name == "silence" || name == "noise" || name == "backgroundnoise";
}

int split_index(const std::string& s) {
  return s == "train" ? 0 : s == "val" ? 1 : 2;
}

}  // namespace

nlohmann::json inspect_dataset(const fs::path& root, const ImportOptions& options) {
  // No header check here: inspect decodes every clip itself and reports failures by kind.
  const DatasetIndex index = data::scan_dataset(root, false, options);
  const auto& clips = index.clips;
  std::vector<ClipStats> stats(clips.size());
  data::parallel_for(clips.size(), [&](size_t i) { stats[i] = measure(clips[i]); });

  auto rel = [&](const fs::path& p) {
    const fs::path r = p.lexically_relative(index.root);
    return (r.empty() || *r.begin() == "..") ? p.string() : r.string();
  };

  nlohmann::json problems = nlohmann::json::array();
  for (const DataProblem& p : index.problems)
    problems.push_back(problem(p.kind, p.file.empty() ? "" : rel(p.file), p.message));

  struct ClassAcc {
    size_t count = 0, readable = 0, splits[3] = {0, 0, 0};
    double total = 0, min = 1e300, max = 0;
    std::set<int> rates, channels;
    std::set<std::string> speakers;
  };
  std::map<std::string, ClassAcc> acc;
  std::map<uint64_t, std::vector<size_t>> by_hash;
  std::map<std::string, std::set<std::string>> speaker_splits;
  size_t split_total[3] = {0, 0, 0};
  for (size_t i = 0; i < clips.size(); ++i) {
    const Clip& c = clips[i];
    const ClipStats& s = stats[i];
    const std::string file = rel(c.path);
    ClassAcc& a = acc[c.label];
    ++a.count;
    ++a.splits[split_index(c.split)];
    ++split_total[split_index(c.split)];
    if (!c.speaker.empty()) {
      a.speakers.insert(c.speaker);
      speaker_splits[c.speaker].insert(c.split);
    }
    if (!s.readable) {
      const bool empty = s.error.starts_with("empty file");
      problems.push_back(problem(empty ? "empty" : "unreadable", file, s.error));
      continue;
    }
    ++a.readable;
    const double sec = s.info.seconds();
    a.total += sec;
    a.min = std::min(a.min, sec);
    a.max = std::max(a.max, sec);
    a.rates.insert(s.info.sample_rate);
    a.channels.insert(s.info.channels);
    by_hash[s.hash].push_back(i);
    if (sec < kMinSeconds)
      problems.push_back(
          problem("short", file, fmt::format("{:.3f} s (< {} s)", sec, kMinSeconds)));
    if (s.peak < kSilentPeak && !quiet_class(c.label))
      problems.push_back(problem(
          "silent", file, fmt::format("peak {:.2g} of full scale (< {})", s.peak, kSilentPeak)));
    if (s.info.sample_rate != kExpectedRate)
      problems.push_back(problem("sample_rate", file,
                                 fmt::format("{} Hz (expected {}; will be resampled)",
                                             s.info.sample_rate, kExpectedRate)));
    if (s.info.channels != 1)
      problems.push_back(
          problem("channels", file,
                  fmt::format("{} channels (will be downmixed to mono)", s.info.channels)));
  }

  // Groups in path order (not hash order), so the report reads the same on every run.
  std::vector<std::vector<size_t>> groups;
  for (const auto& [hash, members] : by_hash)
    if (members.size() > 1) groups.push_back(members);
  std::sort(groups.begin(), groups.end(),
            [&](const auto& a, const auto& b) { return clips[a[0]].path < clips[b[0]].path; });
  nlohmann::json duplicates = nlohmann::json::array();
  for (const auto& members : groups) {
    nlohmann::json group = nlohmann::json::array();
    std::set<std::string> splits;
    for (size_t i : members) {
      group.push_back(rel(clips[i].path));
      splits.insert(clips[i].split);
    }
    std::string names;
    for (const auto& g : group) names += (names.empty() ? "" : ", ") + g.get<std::string>();
    problems.push_back(problem("duplicate", group[0].get<std::string>(),
                               fmt::format("{} byte-identical files{}: {}", members.size(),
                                           splits.size() > 1 ? " across splits" : "", names)));
    duplicates.push_back(group);
  }

  nlohmann::json overlap = nlohmann::json::array();
  for (const auto& [speaker, splits] : speaker_splits) {
    if (splits.size() < 2) continue;
    std::vector<std::string> v(splits.begin(), splits.end());
    overlap.push_back({{"speaker", speaker}, {"splits", v}});
    problems.push_back(problem("speaker_overlap", speaker,
                               fmt::format("speaker {} is in {} splits", speaker, splits.size())));
  }

  nlohmann::json classes = nlohmann::json::array();
  std::set<std::string> all_speakers;
  for (const auto& [name, a] : acc) {
    all_speakers.insert(a.speakers.begin(), a.speakers.end());
    classes.push_back(
        {{"name", name},
         {"count", a.count},
         {"readable", a.readable},
         {"seconds_total", a.total},
         {"seconds_min", a.readable ? a.min : 0.0},
         {"seconds_max", a.max},
         {"sample_rates", a.rates},
         {"channels", a.channels},
         {"speakers", a.speakers.size()},
         {"splits", {{"train", a.splits[0]}, {"val", a.splits[1]}, {"test", a.splits[2]}}}});
  }
  // `dkws data synth` output says so in its manifest; a report on it must say so too.
  bool synthetic = false;
  try {
    const fs::path manifest = index.root / "synth_manifest.json";
    if (fs::is_regular_file(manifest))
      synthetic = nlohmann::json::parse(read_file(manifest)).value("synthetic", false);
  } catch (const std::exception& e) {
    problems.push_back(problem("scan", "synth_manifest.json", e.what()));
  }
  nlohmann::json problem_counts = nlohmann::json::object();
  for (const auto& p : problems) {
    const std::string kind = p["kind"];
    problem_counts[kind] = problem_counts.value(kind, 0) + 1;
  }
  // Said loudly: a split that is not speaker-disjoint looks fine and inflates test accuracy.
  std::string speaker_warning = speaker_leak_warning(index.split_by_clip, clips.size());
  if (speaker_warning.empty() && all_speakers.empty() && !clips.empty())
    speaker_warning =
        "WARNING: no speaker ids found, so nothing shows whether the given splits keep each "
        "speaker in one split (give --speaker-pattern REGEX or a speaker column)";
  return {
      {"root", root.string()},  // as given: a manifest file is named, not its folder
      {"layout", index.layout},
      {"synthetic", synthetic},
      {"clips", clips.size()},
      {"speakers", all_speakers.size()},
      {"split_by_clip", index.split_by_clip},
      {"speaker_warning", speaker_warning},
      {"splits", {{"train", split_total[0]}, {"val", split_total[1]}, {"test", split_total[2]}}},
      {"classes", classes},
      {"problems", problems},
      {"problem_counts", problem_counts},
      {"duplicates", duplicates},
      {"speaker_overlap", overlap},
      {"thresholds",
       {{"min_seconds", kMinSeconds},
        {"silent_peak", kSilentPeak},
        {"sample_rate", kExpectedRate}}}};
}

}  // namespace dkws
