// Manifests: a CSV or TSV file listing clips, one row each, in columns its header names (path and
// label; speaker and split if known), or the split TSV "split<TAB>label<TAB>path" with or without
// its header line. Paths are relative to the manifest's folder. A folder may also hold one
// manifest per split (train.csv, val.csv, test.csv), as datasets often ship.
#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <optional>

#include <fmt/core.h>

#include "data/data_internal.hpp"
#include "dkws/error.hpp"

namespace dkws::data {
namespace fs = std::filesystem;
namespace {

enum Role { kPath, kLabel, kSpeaker, kSplit, kRoles };
const char* const kRoleNames[kRoles] = {"path", "label", "speaker", "split"};

// Header names each role goes by in the wild (compared lower case, spaces and dashes as '_').
const std::map<std::string, Role>& column_names() {
  static const std::map<std::string, Role> names = {
      {"path", kPath},       {"file", kPath},          {"filename", kPath},
      {"file_name", kPath},  {"filepath", kPath},      {"file_path", kPath},
      {"audio", kPath},      {"audio_path", kPath},    {"audio_file", kPath},
      {"wav", kPath},        {"fname", kPath},         {"label", kLabel},
      {"class", kLabel},     {"class_name", kLabel},   {"category", kLabel},
      {"word", kLabel},      {"keyword", kLabel},      {"target", kLabel},
      {"speaker", kSpeaker}, {"speaker_id", kSpeaker}, {"client_id", kSpeaker},
      {"user", kSpeaker},    {"user_id", kSpeaker},    {"spk", kSpeaker},
      {"split", kSplit},     {"set", kSplit},          {"subset", kSplit},
      {"partition", kSplit}};
  return names;
}

std::string trimmed(std::string s) {
  const auto space = [](unsigned char c) { return std::isspace(c); };
  while (!s.empty() && space(s.back())) s.pop_back();
  size_t i = 0;
  while (i < s.size() && space(s[i])) ++i;
  return s.substr(i);
}

std::string column_key(std::string s) {
  s = trimmed(std::move(s));
  for (char& c : s) c = (c == ' ' || c == '-') ? '_' : char(std::tolower((unsigned char)c));
  return s;
}

// The columns of a manifest, from its first line.
struct Columns {
  char delimiter = ',';
  bool header = true;  // false: the first line is already a row
  int at[kRoles] = {-1, -1, -1, -1};
  size_t needed() const { return size_t(*std::max_element(at, at + kRoles)) + 1; }
};

// Reads the first line's columns; an error string instead when it names none.
std::optional<Columns> parse_columns(std::string first, const fs::path& file, std::string& why) {
  if (first.starts_with("\xEF\xBB\xBF")) first.erase(0, 3);  // UTF-8 byte order mark
  Columns c;
  c.delimiter = detect_delimiter(first);
  std::vector<std::string> f;
  split_delimited(first, c.delimiter, f);
  // A split TSV row reads as a row even when its label is a column name
  // ("train<TAB>word<TAB>a.wav").
  const bool split_tsv_row = c.delimiter == '\t' && f.size() == 3 &&
                             !normalize_split(trimmed(f[0])).empty() &&
                             is_audio_file(trimmed(f[2]));
  bool named_any = false;
  for (size_t i = 0; i < f.size() && !split_tsv_row; ++i) {
    const auto it = column_names().find(column_key(f[i]));
    if (it == column_names().end()) continue;
    named_any = true;
    if (c.at[it->second] >= 0) {
      why =
          fmt::format("{}: columns {} and {} both name the {}", file.string(),
                      trimmed(f[size_t(c.at[it->second])]), trimmed(f[i]), kRoleNames[it->second]);
      return std::nullopt;
    }
    c.at[it->second] = int(i);
  }
  if (named_any) {
    for (Role r : {kPath, kLabel}) {
      if (c.at[r] >= 0) continue;
      std::string options;
      for (const auto& [name, role] : column_names())
        if (role == r) options += (options.empty() ? "" : ", ") + name;
      why = fmt::format("{}: the header names no {} column (one of: {})", file.string(),
                        kRoleNames[r], options);
      return std::nullopt;
    }
    return c;
  }
  // No header: the split TSV's own column order, or path and label told apart by the extension.
  c.header = false;
  if (split_tsv_row ||
      (c.delimiter == '\t' && f.size() == 3 && !normalize_split(trimmed(f[0])).empty())) {
    c.at[kSplit] = 0, c.at[kLabel] = 1, c.at[kPath] = 2;
    return c;
  }
  if (f.size() == 2 && is_audio_file(trimmed(f[0])) != is_audio_file(trimmed(f[1]))) {
    c.at[kPath] = is_audio_file(trimmed(f[0])) ? 0 : 1;
    c.at[kLabel] = 1 - c.at[kPath];
    return c;
  }
  why = fmt::format(
      "{}: the first line is neither a header naming path and label columns (e.g. "
      "'path,label,speaker,split') nor a split<TAB>label<TAB>path row",
      file.string());
  return std::nullopt;
}

bool skipped_line(const std::string& line) {
  return trimmed(line).empty() || line[0] == '#';
}

// The first line that is not blank or a comment, without its line end.
std::optional<std::string> first_line(std::ifstream& in, int& line_no) {
  std::string line;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!skipped_line(line)) return line;
  }
  return std::nullopt;
}

void add_row(const std::vector<std::string>& f, const Columns& c, const std::string& where,
             const std::string& file_split, const fs::path& folder, DatasetIndex& index) {
  if (f.size() < c.needed()) {
    index.problems.push_back(
        {"manifest", where,
         fmt::format("expected {} fields, found {}; skipped", c.needed(), f.size())});
    return;
  }
  const auto field = [&](Role r) {
    return c.at[r] < 0 ? std::string() : trimmed(f[size_t(c.at[r])]);
  };
  std::string split = file_split;
  if (!field(kSplit).empty()) {
    split = normalize_split(field(kSplit));
    if (split.empty()) {
      index.problems.push_back(
          {"manifest", where, fmt::format("unknown split '{}'; skipped", field(kSplit))});
      return;
    }
  }
  if (field(kLabel).empty() || field(kPath).empty()) {
    index.problems.push_back({"manifest", where, "empty label or path; skipped"});
    return;
  }
  const fs::path listed = field(kPath);
  const fs::path path = listed.is_absolute() ? listed : folder / listed;
  // A speaker column is the truth, even where it is empty; otherwise the name may carry one.
  const std::string speaker = c.at[kSpeaker] >= 0 ? field(kSpeaker) : clip_speaker(path);
  index.clips.push_back({path, field(kLabel), split, speaker});
}

}  // namespace

bool is_manifest(const fs::path& file) {
  std::ifstream in(file);
  int line_no = 0;
  const auto line = first_line(in, line_no);
  std::string why;
  return line && parse_columns(*line, file, why).has_value();
}

ManifestFormat read_manifest(const fs::path& file, const std::string& file_split,
                             DatasetIndex& index) {
  std::ifstream in(file);
  if (!in) throw Error(fmt::format("{}: cannot open manifest", file.string()));
  int line_no = 0;
  const auto first = first_line(in, line_no);
  if (!first) throw Error(fmt::format("{}: empty manifest", file.string()));
  std::string why;
  const auto columns = parse_columns(*first, file, why);
  if (!columns) throw Error(why);
  const Columns& c = *columns;
  const fs::path folder = file.parent_path();
  std::vector<std::string> fields;
  auto row = [&](const std::string& line) {
    const std::string where = fmt::format("{}:{}", file.string(), line_no);
    if (!split_delimited(line, c.delimiter, fields)) {
      index.problems.push_back({"manifest", where, "unterminated quote; skipped"});
      return;
    }
    add_row(fields, c, where, file_split, folder, index);
  };
  if (!c.header) row(*first);
  for (std::string line; std::getline(in, line);) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!skipped_line(line)) row(line);
  }
  return {c.delimiter, c.at[kSplit] >= 0};
}

std::vector<std::pair<fs::path, std::string>> split_manifests_in(const fs::path& root) {
  std::vector<std::pair<fs::path, std::string>> found;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(root, ec)) {
    std::string ext = e.path().extension().string();
    for (char& ch : ext) ch = char(std::tolower((unsigned char)ch));
    if (!e.is_regular_file() || (ext != ".csv" && ext != ".tsv")) continue;
    // "train.csv", "testing_list.tsv", "kws-val.csv": exactly one split word among the tokens.
    std::string stem = e.path().stem().string(), split;
    for (char& ch : stem)
      if (ch == '-' || ch == '.' || ch == ' ') ch = '_';
    bool ambiguous = false;
    for (size_t at = 0; at <= stem.size();) {
      size_t end = stem.find('_', at);
      if (end == std::string::npos) end = stem.size();
      const std::string s = normalize_split(stem.substr(at, end - at));
      if (!s.empty()) ambiguous |= !split.empty() && s != split, split = s;
      at = end + 1;
    }
    if (!split.empty() && !ambiguous && is_manifest(e.path())) found.emplace_back(e.path(), split);
  }
  std::sort(found.begin(), found.end());
  return found;
}

void read_split_manifests(const std::vector<std::pair<fs::path, std::string>>& files,
                          DatasetIndex& index) {
  bool has_val = false;
  for (const auto& [file, split] : files) has_val |= split == "val";
  for (const auto& [file, split] : files) {
    // Without a validation list, validation comes out of training by speaker hash (20%).
    read_manifest(file, split == "train" && !has_val ? std::string(kTrainOrVal) : split, index);
  }
}

}  // namespace dkws::data
