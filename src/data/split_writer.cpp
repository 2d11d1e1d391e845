// write_speaker_split: pins a hash split into a split TSV, so later runs (and other tools) see the
// same split even if the hashing rule or the file set changes. Rows are sorted by path and the
// file is written atomically, so the output is byte-identical for the same input.
#include <algorithm>
#include <map>
#include <set>

#include <fmt/core.h>

#include "data/data_internal.hpp"
#include "dkws/audio.hpp"
#include "dkws/error.hpp"
#include "dkws/util.hpp"

namespace dkws {
namespace fs = std::filesystem;
namespace {

// What the split keeps but training should hear about, from headers and file hashes only (no
// decode, so splitting stays fast): off-rate, multi-channel and short clips, and byte-identical
// files, which leak when the copies land in different splits.
void header_problems(const DatasetIndex& index, const std::vector<std::string>& split_of,
                     std::vector<DataProblem>& problems) {
  const auto& clips = index.clips;
  std::vector<AudioInfo> info(clips.size());
  std::vector<uint64_t> hash(clips.size());
  data::parallel_for(clips.size(), [&](size_t i) {
    try {
      info[i] = probe_audio(clips[i].path);
      hash[i] = data::hash_file(clips[i].path);
    } catch (const std::exception&) {
      // open_dataset has just read these headers; a file that vanished since is not ours to judge
    }
  });
  std::map<uint64_t, std::vector<size_t>> by_hash;
  for (size_t i = 0; i < clips.size(); ++i) {
    const std::string name = clips[i].path.string();
    if (info[i].sample_rate && info[i].sample_rate != 16000)
      problems.push_back(
          {"sample_rate", name,
           fmt::format("{} Hz (expected 16000; will be resampled)", info[i].sample_rate)});
    if (info[i].channels > 1)
      problems.push_back(
          {"channels", name,
           fmt::format("{} channels (will be downmixed to mono)", info[i].channels)});
    if (info[i].sample_rate && info[i].seconds() < 0.5)
      problems.push_back({"short", name, fmt::format("short clip, {:.3f} s", info[i].seconds())});
    if (hash[i]) by_hash[hash[i]].push_back(i);
  }
  for (const auto& [h, members] : by_hash) {
    if (members.size() < 2) continue;
    std::set<std::string> splits;
    std::string names;
    for (size_t i : members) {
      splits.insert(split_of[i]);
      names += (names.empty() ? "" : ", ") + clips[i].path.string();
    }
    problems.push_back(
        {"duplicate", clips[members[0]].path.string(),
         fmt::format("{} byte-identical files{}: {}", members.size(),
                     splits.size() > 1 ? " in different splits (leak)" : "", names)});
  }
}

}  // namespace

SplitSummary write_speaker_split(const fs::path& root, fs::path out, int val_percent,
                                 int test_percent, const ImportOptions& options) {
  split_for_speaker("", val_percent, test_percent);  // validates the percentages up front
  const DatasetIndex index = open_dataset(root, options);
  if (out.empty()) out = (fs::is_directory(root) ? root : root.parent_path()) / "splits.tsv";
  const fs::path out_dir = fs::absolute(out).parent_path().lexically_normal();

  struct Row {
    std::string path, label, split, speaker;
  };
  std::vector<Row> rows;
  std::vector<std::string> split_of;
  for (const Clip& c : index.clips) {
    // Clips without a speaker in the name hash on their own base name (Speech Commands' rule).
    const std::string key = c.speaker.empty() ? speaker_of(c.path) : c.speaker;
    const std::string rel =
        fs::absolute(c.path).lexically_normal().lexically_relative(out_dir).generic_string();
    if (rel.find_first_of("\t\n") != std::string::npos ||
        c.label.find_first_of("\t\n") != std::string::npos ||
        c.speaker.find_first_of("\t\n") != std::string::npos) {
      throw Error(
          fmt::format("{}: a tab or newline in the name cannot go into a TSV", c.path.string()));
    }
    rows.push_back({rel, c.label, split_for_speaker(key, val_percent, test_percent), c.speaker});
    split_of.push_back(rows.back().split);
  }
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
    return std::tie(a.path, a.label) < std::tie(b.path, b.label);
  });

  SplitSummary summary;
  summary.file = out;
  for (const Clip& c : index.clips) summary.split_by_clip += c.speaker.empty();
  summary.problems = index.problems;
  header_problems(index, split_of, summary.problems);
  std::set<std::string> speakers[3];
  // The speaker column keeps speakers that came from a pattern or a manifest column, which the
  // file name alone would not give back.
  std::string text = "split\tlabel\tpath\tspeaker\n";
  for (const Row& r : rows) {
    text += r.split + "\t" + r.label + "\t" + r.path + "\t" + r.speaker + "\n";
    const int s = r.split == "train" ? 0 : r.split == "val" ? 1 : 2;
    ++summary.rows[s];
    if (!r.speaker.empty()) speakers[s].insert(r.speaker);
  }
  for (int s = 0; s < 3; ++s) summary.speakers[s] = speakers[s].size();
  write_file_atomic(out, text);
  return summary;
}

}  // namespace dkws
