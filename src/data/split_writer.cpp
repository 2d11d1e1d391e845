// write_speaker_split: pins a hash split into a split TSV, so later runs (and other tools) see the
// same split even if the hashing rule or the file set changes. Rows are sorted by path and the
// file is written atomically, so the output is byte-identical for the same input.
#include <algorithm>
#include <set>

#include <fmt/core.h>

#include "data/data_internal.hpp"
#include "dkws/error.hpp"
#include "dkws/util.hpp"

namespace dkws {
namespace fs = std::filesystem;

SplitSummary write_speaker_split(const fs::path& root, fs::path out, int val_percent,
                                 int test_percent) {
  split_for_speaker("", val_percent, test_percent);  // validates the percentages up front
  const DatasetIndex index = open_dataset(root);
  if (out.empty()) out = (fs::is_directory(root) ? root : root.parent_path()) / "splits.tsv";
  const fs::path out_dir = fs::absolute(out).parent_path().lexically_normal();

  struct Row {
    std::string path, label, split, speaker;
  };
  std::vector<Row> rows;
  for (const Clip& c : index.clips) {
    // Clips without a speaker in the name hash on their own base name (Speech Commands' rule).
    const std::string key = c.speaker.empty() ? speaker_of(c.path) : c.speaker;
    const std::string rel =
        fs::absolute(c.path).lexically_normal().lexically_relative(out_dir).generic_string();
    if (rel.find_first_of("\t\n") != std::string::npos ||
        c.label.find_first_of("\t\n") != std::string::npos) {
      throw Error(
          fmt::format("{}: a tab or newline in the name cannot go into a TSV", c.path.string()));
    }
    rows.push_back({rel, c.label, split_for_speaker(key, val_percent, test_percent), c.speaker});
  }
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
    return std::tie(a.path, a.label) < std::tie(b.path, b.label);
  });

  SplitSummary summary;
  summary.file = out;
  summary.problems = index.problems;
  std::set<std::string> speakers[3];
  std::string text = "split\tlabel\tpath\n";
  for (const Row& r : rows) {
    text += r.split + "\t" + r.label + "\t" + r.path + "\n";
    const int s = r.split == "train" ? 0 : r.split == "val" ? 1 : 2;
    ++summary.rows[s];
    if (!r.speaker.empty()) speakers[s].insert(r.speaker);
  }
  for (int s = 0; s < 3; ++s) summary.speakers[s] = speakers[s].size();
  write_file_atomic(out, text);
  return summary;
}

}  // namespace dkws
