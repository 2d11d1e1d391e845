// Dataset problems grouped by kind. A dataset with one systematic fault (every clip at 8 kHz, a
// folder of text files) would otherwise bury the summary a user needs under one line per file.
#include <map>

#include <fmt/core.h>

#include "dkws/dataset.hpp"

namespace dkws {

std::string DataProblem::line() const {
  if (file.empty() || message.find(file) != std::string::npos) return message;
  return fmt::format("{}: {}", file, message);
}

std::string problem_kind_title(const std::string& kind) {
  static const std::map<std::string, std::string> kTitles = {
      {"unreadable", "cannot be read or decoded (skipped)"},
      {"empty", "empty files, 0 bytes (skipped)"},
      {"missing", "listed files that do not exist (skipped)"},
      {"not_audio", "files that are not audio (ignored)"},
      {"outside_classes", "audio files outside any class folder (ignored)"},
      {"folder", "folders that could not be listed or hold no audio (skipped)"},
      {"class", "classes without readable clips (dropped)"},
      {"manifest", "manifest rows that could not be used (skipped)"},
      {"label_pattern", "file names --label-pattern does not match (skipped)"},
      {"speaker_pattern", "file names --speaker-pattern does not match (no speaker id)"},
      {"short", "clips shorter than 0.5 s"},
      {"silent", "silent clips (peak below 1e-3 of full scale)"},
      {"sample_rate", "sample rate other than 16 kHz (resampled when features are computed)"},
      {"channels", "more than one channel (downmixed to mono)"},
      {"duplicate", "groups of byte-identical files"},
      {"speaker_overlap", "speakers in more than one split"},
      {"noise", "background noise recordings"},
      {"cache", "feature cache"},
      {"scan", "dataset files"}};
  const auto it = kTitles.find(kind);
  return it == kTitles.end() ? kind : it->second;
}

std::vector<std::string> summarize_problems(const std::vector<DataProblem>& problems,
                                            size_t per_kind) {
  std::vector<std::string> kinds;  // in order of first appearance
  std::map<std::string, std::vector<const DataProblem*>> by_kind;
  for (const DataProblem& p : problems) {
    auto& members = by_kind[p.kind];
    if (members.empty()) kinds.push_back(p.kind);
    members.push_back(&p);
  }
  std::vector<std::string> out;
  for (const std::string& kind : kinds) {
    const auto& members = by_kind[kind];
    out.push_back(fmt::format("  [{}] {}: {}", kind, members.size(), problem_kind_title(kind)));
    const size_t shown = per_kind == 0 ? members.size() : std::min(per_kind, members.size());
    for (size_t i = 0; i < shown; ++i) out.push_back("      " + members[i]->line());
    if (shown < members.size())
      out.push_back(fmt::format("      ... and {} more", members.size() - shown));
  }
  return out;
}

}  // namespace dkws
