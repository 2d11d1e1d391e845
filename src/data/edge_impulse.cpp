// Edge Impulse exported data: info.labels lists each file with its category (training/testing) and
// label. Edge Impulse has no validation category, so val is carved out of training by speaker hash
// (20% of speakers), which keeps one voice in one split.
#include <fstream>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "data/data_internal.hpp"
#include "dkws/error.hpp"

namespace dkws::data {
namespace fs = std::filesystem;

void read_edge_impulse(const fs::path& root, DatasetIndex& index) {
  const fs::path labels_file = root / "info.labels";
  std::ifstream in(labels_file);
  if (!in) throw Error(fmt::format("{}: cannot open", labels_file.string()));
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw Error(fmt::format("{}: not valid JSON: {}", labels_file.string(), e.what()));
  }
  if (!j.is_object() || !j.contains("files") || !j["files"].is_array()) {
    throw Error(fmt::format("{}: expected an object with a 'files' array", labels_file.string()));
  }
  size_t n = 0;
  for (const auto& entry : j["files"]) {
    ++n;
    const std::string where = fmt::format("{}: files[{}]", labels_file.string(), n - 1);
    if (!entry.is_object() || !entry.contains("path") || !entry["path"].is_string()) {
      index.problems.push_back({"manifest", where, "no 'path', skipped"});
      continue;
    }
    const fs::path path = root / entry["path"].get<std::string>();
    const auto& label = entry.value("label", nlohmann::json::object());
    if (!label.is_object() || label.value("type", "") != "label" || !label.contains("label") ||
        !label["label"].is_string() || label["label"].get<std::string>().empty()) {
      index.problems.push_back(
          {"manifest", path.string(), "no single label (unlabeled or multi-label), skipped"});
      continue;
    }
    const std::string category = entry.value("category", "");
    const std::string split = normalize_split(category);
    if (split.empty()) {
      index.problems.push_back(
          {"manifest", path.string(), fmt::format("unknown category '{}', skipped", category)});
      continue;
    }
    // The sample's own name ("yes.0a7c2a8d_nohash_0") carries the speaker; the stored file name
    // adds Edge Impulse's random suffix, which would make every clip its own "speaker".
    const fs::path name = entry.contains("name") && entry["name"].is_string()
                              ? fs::path(entry["name"].get<std::string>())
                              : path.filename();
    index.clips.push_back({path, label["label"].get<std::string>(),
                           split == "train" ? std::string(kTrainOrVal) : split,
                           clip_speaker(name)});
  }
}

}  // namespace dkws::data
