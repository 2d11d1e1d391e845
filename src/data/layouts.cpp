// open_dataset: picks the layout reader, then checks that every listed clip can be opened. Bad
// files become problem lines rather than errors, because one broken clip in thousands should not
// stop a training run; only a dataset with no usable class is fatal.
#include <algorithm>
#include <set>

#include <fmt/core.h>

#include "data/data_internal.hpp"
#include "dkws/audio.hpp"
#include "dkws/error.hpp"

namespace dkws {
namespace fs = std::filesystem;

namespace data {

std::string clip_speaker(const fs::path& file) {
  return has_speaker(file) ? speaker_of(file) : "";
}

}  // namespace data

namespace {

// Error messages from the audio loader already start with the file name; others get it prefixed.
std::string problem_line(const fs::path& file, std::string message) {
  if (message.ends_with("., skipped")) message.erase(message.size() - 10, 1);  // "x., skipped"
  if (message.rfind(file.string(), 0) == 0) return message;
  return fmt::format("{}: {}", file.string(), message);
}

// Drops clips whose file is missing, empty or has an unreadable header, naming each.
void check_clips(DatasetIndex& index) {
  std::vector<std::string> bad(index.clips.size());
  data::parallel_for(index.clips.size(), [&](size_t i) {
    const Clip& c = index.clips[i];
    std::error_code ec;
    const auto size = fs::file_size(c.path, ec);
    if (ec) {
      bad[i] = problem_line(c.path, "cannot read: " + ec.message());
    } else if (size == 0) {
      bad[i] = problem_line(c.path, "empty file (0 bytes), skipped");
    } else {
      try {
        const AudioInfo info = probe_audio(c.path);
        if (info.frames <= 0) bad[i] = problem_line(c.path, "no audio frames, skipped");
      } catch (const std::exception& e) {
        bad[i] = problem_line(c.path, std::string(e.what()) + ", skipped");
      }
    }
  });
  std::vector<Clip> kept;
  kept.reserve(index.clips.size());
  for (size_t i = 0; i < index.clips.size(); ++i) {
    if (bad[i].empty()) {
      kept.push_back(std::move(index.clips[i]));
    } else {
      index.problems.push_back(std::move(bad[i]));
    }
  }
  index.clips = std::move(kept);
}

void fill_classes(DatasetIndex& index, const std::set<std::string>& listed) {
  std::set<std::string> with_clips;
  for (const Clip& c : index.clips) with_clips.insert(c.label);
  for (const std::string& label : listed) {
    if (!with_clips.count(label)) {
      index.problems.push_back(fmt::format("class '{}': no readable clips, dropped", label));
    }
  }
  index.classes.assign(with_clips.begin(), with_clips.end());
}

}  // namespace

DatasetIndex open_dataset(const fs::path& root) {
  return data::scan_dataset(root, true);
}

DatasetIndex data::scan_dataset(const fs::path& root_in, bool check_audio) {
  std::error_code ec;
  if (!fs::exists(root_in, ec)) {
    throw Error(fmt::format("{}: dataset not found", root_in.string()));
  }
  DatasetIndex index;
  index.root = root_in;
  if (fs::is_regular_file(root_in)) {
    if (root_in.filename() == "info.labels") {
      index.root = root_in.parent_path();
      index.layout = "edge_impulse";
      data::read_edge_impulse(index.root, index);
    } else {
      index.layout = "split_tsv";
      data::read_split_tsv(root_in, index);
    }
  } else if (!fs::is_directory(root_in)) {
    throw Error(fmt::format("{}: not a folder or split TSV file", root_in.string()));
  } else if (fs::is_regular_file(root_in / "splits.tsv")) {
    index.layout = "split_tsv";
    data::read_split_tsv(root_in / "splits.tsv", index);
  } else if (fs::is_regular_file(root_in / "info.labels")) {
    index.layout = "edge_impulse";
    data::read_edge_impulse(root_in, index);
  } else if (fs::is_regular_file(root_in / "validation_list.txt") ||
             fs::is_regular_file(root_in / "testing_list.txt")) {
    index.layout = "speech_commands";
    data::read_speech_commands(root_in, index);
  } else {
    index.layout = "class_folders";
    data::read_class_folders(root_in, index);
  }

  std::set<std::string> listed;
  for (const Clip& c : index.clips) listed.insert(c.label);
  if (check_audio) {
    check_clips(index);
  } else {
    // Still drop listed files that do not exist: cheap, and clearer than a decode error later.
    std::erase_if(index.clips, [&](const Clip& c) {
      if (fs::exists(c.path)) return false;
      index.problems.push_back(problem_line(c.path, "file not found, skipped"));
      return true;
    });
  }
  fill_classes(index, listed);
  if (index.classes.empty()) {
    std::string why = index.problems.empty() ? "" : " (first problem: " + index.problems[0] + ")";
    throw Error(fmt::format("{}: no class with readable clips ({} layout){}", root_in.string(),
                            index.layout, why));
  }
  return index;
}

}  // namespace dkws
