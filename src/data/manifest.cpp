// The split TSV layout: "split<TAB>label<TAB>path" with a header, paths relative to the TSV's
// folder. It pins a split exactly (kws12 uses one), independent of any hashing rule.
#include <algorithm>
#include <fstream>
#include <sstream>

#include <fmt/core.h>

#include "data/data_internal.hpp"
#include "dkws/error.hpp"

namespace dkws::data {
namespace fs = std::filesystem;
namespace {

std::vector<std::string> split_tabs(const std::string& line) {
  std::vector<std::string> out;
  std::string field;
  std::istringstream in(line);
  while (std::getline(in, field, '\t')) out.push_back(field);
  if (!line.empty() && line.back() == '\t') out.emplace_back();
  return out;
}

}  // namespace

void read_split_tsv(const fs::path& tsv, DatasetIndex& index) {
  std::ifstream in(tsv);
  if (!in) throw Error(fmt::format("{}: cannot open split TSV", tsv.string()));
  index.root = tsv.parent_path();
  std::string line;
  if (!std::getline(in, line)) throw Error(fmt::format("{}: empty split TSV", tsv.string()));
  if (!line.empty() && line.back() == '\r') line.pop_back();
  // Columns are found by name so extra columns (e.g. a speaker column) do not break reading.
  const auto header = split_tabs(line);
  int col_split = -1, col_label = -1, col_path = -1;
  for (size_t i = 0; i < header.size(); ++i) {
    if (header[i] == "split") col_split = int(i);
    if (header[i] == "label") col_label = int(i);
    if (header[i] == "path") col_path = int(i);
  }
  if (col_split < 0 || col_label < 0 || col_path < 0) {
    throw Error(fmt::format(
        "{}: header must name the columns split, label and path (tab-separated)", tsv.string()));
  }
  const size_t need = size_t(std::max({col_split, col_label, col_path})) + 1;
  for (int line_no = 2; std::getline(in, line); ++line_no) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    const auto f = split_tabs(line);
    if (f.size() < need) {
      index.problems.push_back(fmt::format("{}:{}: expected {} tab-separated fields, skipped",
                                           tsv.string(), line_no, need));
      continue;
    }
    const std::string split = normalize_split(f[col_split]);
    if (split.empty()) {
      index.problems.push_back(
          fmt::format("{}:{}: unknown split '{}', skipped", tsv.string(), line_no, f[col_split]));
      continue;
    }
    if (f[col_label].empty() || f[col_path].empty()) {
      index.problems.push_back(
          fmt::format("{}:{}: empty label or path, skipped", tsv.string(), line_no));
      continue;
    }
    const fs::path path = index.root / f[col_path];
    index.clips.push_back({path, f[col_label], split, clip_speaker(path)});
  }
}

}  // namespace dkws::data
