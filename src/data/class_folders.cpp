// Folder layouts: plain class folders (split by speaker hash), Speech Commands
// (validation_list.txt / testing_list.txt name the val and test clips; the rest is train), and
// folders of audio files whose names carry the label (a label pattern says where).
#include <algorithm>
#include <fstream>
#include <map>

#include <fmt/core.h>

#include "data/data_internal.hpp"
#include "dkws/error.hpp"

namespace dkws::data {
namespace fs = std::filesystem;
namespace {

bool hidden(const fs::path& p) {
  return p.filename().string().starts_with(".");
}

// Audio files under one class folder (recursively, sorted so the clip order is stable).
std::vector<fs::path> scan_folder(const fs::path& dir, DatasetIndex& index) {
  std::vector<fs::path> files;
  std::error_code ec;
  auto it =
      fs::recursive_directory_iterator(dir, fs::directory_options::skip_permission_denied, ec);
  if (ec) {
    index.problems.push_back({"folder", dir.string(), "cannot list folder: " + ec.message()});
    return files;
  }
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) {
      index.problems.push_back({"folder", dir.string(), "listing stopped: " + ec.message()});
      break;
    }
    const fs::path& p = it->path();
    if (hidden(p)) {
      if (it->is_directory()) it.disable_recursion_pending();
      continue;
    }
    if (!it->is_regular_file()) continue;
    if (is_audio_file(p)) {
      files.push_back(p);
    } else {
      index.problems.push_back({"not_audio", p.string(), "not an audio file, ignored"});
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

// Class name -> its audio files, for every non-hidden subfolder except the noise folder.
std::map<std::string, std::vector<fs::path>> scan_classes(const fs::path& root,
                                                          DatasetIndex& index) {
  std::map<std::string, std::vector<fs::path>> classes;
  size_t loose_audio = 0;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(root, ec)) {
    const fs::path& p = entry.path();
    if (hidden(p)) continue;
    if (entry.is_directory()) {
      // Speech Commands keeps long noise recordings here; they are not a class of 1 s clips.
      if (p.filename() == "_background_noise_") continue;
      auto files = scan_folder(p, index);
      if (files.empty()) {
        index.problems.push_back(
            {"folder", p.string(), "empty class folder (no audio files), skipped"});
        continue;
      }
      classes[p.filename().string()] = std::move(files);
    } else if (is_audio_file(p)) {
      ++loose_audio;
    }
  }
  if (ec) throw Error(fmt::format("{}: cannot list folder: {}", root.string(), ec.message()));
  if (loose_audio) {
    // A flat folder needs a label pattern; say so where the user sees the count.
    index.problems.push_back(
        {"outside_classes", root.string(),
         fmt::format("{} audio file(s) outside any class folder, ignored (for a flat folder, "
                     "give --label-pattern)",
                     loose_audio)});
  }
  return classes;
}

// "label/base" without extension: list files may say .wav where the copy on disk is .flac.
std::string list_key(const fs::path& rel) {
  fs::path p = rel;
  while (p.has_extension() && is_audio_file(p)) p.replace_extension();
  return p.generic_string();
}

void read_list(const fs::path& file, const std::string& split,
               std::map<std::string, std::string>& split_of, DatasetIndex& index) {
  if (!fs::exists(file)) return;
  std::ifstream in(file);
  if (!in) {
    index.problems.push_back({"scan", file.string(), "cannot read"});
    return;
  }
  std::string line;
  while (std::getline(in, line)) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (!line.empty()) split_of[list_key(line)] = split;
  }
}

}  // namespace

void read_class_folders(const fs::path& root, DatasetIndex& index) {
  for (auto& [label, files] : scan_classes(root, index)) {
    for (const fs::path& f : files) {
      index.clips.push_back({f, label, "", clip_speaker(f)});
    }
  }
}

void read_speech_commands(const fs::path& root, DatasetIndex& index) {
  std::map<std::string, std::string> split_of;
  read_list(root / "validation_list.txt", "val", split_of, index);
  read_list(root / "testing_list.txt", "test", split_of, index);
  size_t matched = 0;
  for (auto& [label, files] : scan_classes(root, index)) {
    for (const fs::path& f : files) {
      auto it = split_of.find(list_key(f.lexically_relative(root)));
      std::string split = "train";
      if (it != split_of.end()) {
        split = it->second;
        ++matched;
      }
      index.clips.push_back({f, label, split, clip_speaker(f)});
    }
  }
  if (matched < split_of.size()) {
    index.problems.push_back(
        {"missing", root.string(),
         fmt::format("{} entries of validation_list.txt/testing_list.txt name no clip here",
                     split_of.size() - matched)});
  }
}

void read_file_names(const fs::path& root, const NamePattern& label, DatasetIndex& index) {
  for (const fs::path& f : scan_folder(root, index)) {
    // Speech Commands keeps long noise recordings here; they are not clips.
    if (f.lexically_relative(root).begin()->string() == "_background_noise_") continue;
    const std::string name = f.filename().string();
    const std::string l = label.find(name);
    if (l.empty()) {
      index.problems.push_back({"label_pattern", f.string(), "name has no label, skipped"});
      continue;
    }
    index.clips.push_back({f, l, "", clip_speaker(f)});
  }
}

}  // namespace dkws::data
