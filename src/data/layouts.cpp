// open_dataset: picks the layout reader, then checks that every listed clip can be opened. Bad
// files become problem lines rather than errors, because one broken clip in thousands should not
// stop a training run; only a dataset with no usable class is fatal.
#include <algorithm>
#include <optional>
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

// A problem about one file; messages from the audio loader start with the file name, which
// DataProblem::line does not repeat.
DataProblem file_problem(const std::string& kind, const fs::path& file, std::string message) {
  if (message.ends_with("., skipped")) message.erase(message.size() - 10, 1);  // "x., skipped"
  return {kind, file.string(), std::move(message)};
}

// Drops clips whose file is missing, empty or has an unreadable header, naming each.
void check_clips(DatasetIndex& index) {
  std::vector<std::optional<DataProblem>> bad(index.clips.size());
  data::parallel_for(index.clips.size(), [&](size_t i) {
    const Clip& c = index.clips[i];
    std::error_code ec;
    const auto size = fs::file_size(c.path, ec);
    if (ec) {
      bad[i] = file_problem(fs::exists(c.path) ? "unreadable" : "missing", c.path,
                            "cannot read: " + ec.message());
    } else if (size == 0) {
      bad[i] = file_problem("empty", c.path, "empty file (0 bytes), skipped");
    } else {
      try {
        const AudioInfo info = probe_audio(c.path);
        if (info.frames <= 0)
          bad[i] = file_problem("unreadable", c.path, "no audio frames, skipped");
      } catch (const std::exception& e) {
        bad[i] = file_problem("unreadable", c.path, std::string(e.what()) + ", skipped");
      }
    }
  });
  std::vector<Clip> kept;
  kept.reserve(index.clips.size());
  for (size_t i = 0; i < index.clips.size(); ++i) {
    if (!bad[i]) {
      kept.push_back(std::move(index.clips[i]));
    } else {
      index.problems.push_back(std::move(*bad[i]));
    }
  }
  index.clips = std::move(kept);
}

void fill_classes(DatasetIndex& index, const std::set<std::string>& listed) {
  std::set<std::string> with_clips;
  for (const Clip& c : index.clips) with_clips.insert(c.label);
  for (const std::string& label : listed) {
    if (!with_clips.count(label)) {
      index.problems.push_back(
          {"class", label, fmt::format("class '{}': no readable clips, dropped", label)});
    }
  }
  index.classes.assign(with_clips.begin(), with_clips.end());
}

// Replaces every clip's speaker by what the pattern finds in its file name.
void apply_speaker_pattern(const data::NamePattern& pattern, DatasetIndex& index) {
  for (Clip& c : index.clips) {
    c.speaker = pattern.find(c.path.filename().string());
    if (c.speaker.empty())
      index.problems.push_back({"speaker_pattern", c.path.string(), "name has no speaker id"});
  }
}

// Draws the splits readers left open, now that speakers are final. A clip without a speaker id
// hashes on its own name (Speech Commands' rule), which cannot keep a voice in one split.
void assign_splits(DatasetIndex& index) {
  for (Clip& c : index.clips) {
    const bool train_or_val = c.split == data::kTrainOrVal;
    if (!train_or_val && !c.split.empty()) continue;
    if (c.speaker.empty()) ++index.split_by_clip;
    const std::string key = c.speaker.empty() ? speaker_of(c.path) : c.speaker;
    c.split = train_or_val ? split_for_speaker(key, 20, 0) : split_for_speaker(key);
  }
}

// Picks the layout reader for a folder or file and runs it.
void read_layout(const fs::path& root, const data::NamePattern* label_pattern,
                 DatasetIndex& index) {
  const auto refuse_label_pattern = [&] {
    if (label_pattern)
      throw Error(fmt::format(
          "--label-pattern: {} is a {} dataset, whose labels come from its lists; a label "
          "pattern is for folders of audio files",
          root.string(), index.layout));
  };
  if (fs::is_regular_file(root)) {
    // A file in the working directory has an empty parent; "." keeps relative paths readable.
    index.root = root.has_parent_path() ? root.parent_path() : fs::path(".");
    if (root.filename() == "info.labels") {
      index.layout = "edge_impulse";
      refuse_label_pattern();
      data::read_edge_impulse(index.root, index);
      return;
    }
    index.layout = "manifest";
    refuse_label_pattern();
    const auto format = data::read_manifest(root, "", index);
    if (format.delimiter == '\t' && format.has_split_column) index.layout = "split_tsv";
    return;
  }
  if (!fs::is_directory(root)) {
    throw Error(fmt::format("{}: not a folder or manifest file", root.string()));
  }
  for (const char* name : {"splits.tsv", "manifest.csv", "manifest.tsv"}) {
    if (!fs::is_regular_file(root / name)) continue;
    index.layout = name == std::string("splits.tsv") ? "split_tsv" : "manifest";
    refuse_label_pattern();
    data::read_manifest(root / name, "", index);
    return;
  }
  if (fs::is_regular_file(root / "info.labels")) {
    index.layout = "edge_impulse";
    refuse_label_pattern();
    data::read_edge_impulse(root, index);
  } else if (fs::is_regular_file(root / "validation_list.txt") ||
             fs::is_regular_file(root / "testing_list.txt")) {
    index.layout = "speech_commands";
    refuse_label_pattern();
    data::read_speech_commands(root, index);
  } else if (const auto lists = data::split_manifests_in(root); !lists.empty()) {
    index.layout = "split_manifests";
    refuse_label_pattern();
    data::read_split_manifests(lists, index);
  } else if (label_pattern) {
    index.layout = "file_names";
    data::read_file_names(root, *label_pattern, index);
  } else {
    index.layout = "class_folders";
    data::read_class_folders(root, index);
  }
}

}  // namespace

DatasetIndex open_dataset(const fs::path& root, const ImportOptions& options) {
  return data::scan_dataset(root, true, options);
}

DatasetIndex data::scan_dataset(const fs::path& root_in, bool check_audio,
                                const ImportOptions& options) {
  std::error_code ec;
  if (!fs::exists(root_in, ec)) {
    throw Error(fmt::format("{}: dataset not found", root_in.string()));
  }
  // Patterns compile first: a typo in one is the error to see, not its consequences.
  std::optional<NamePattern> label_pattern, speaker_pattern;
  if (!options.label_pattern.empty())
    label_pattern.emplace(options.label_pattern, "label", "--label-pattern");
  if (!options.speaker_pattern.empty())
    speaker_pattern.emplace(options.speaker_pattern, "speaker", "--speaker-pattern");

  DatasetIndex index;
  index.root = root_in;
  read_layout(root_in, label_pattern ? &*label_pattern : nullptr, index);
  if (speaker_pattern) apply_speaker_pattern(*speaker_pattern, index);

  std::set<std::string> listed;
  for (const Clip& c : index.clips) listed.insert(c.label);
  if (check_audio) {
    check_clips(index);
  } else {
    // Still drop listed files that do not exist: cheap, and clearer than a decode error later.
    std::erase_if(index.clips, [&](const Clip& c) {
      if (fs::exists(c.path)) return false;
      index.problems.push_back(file_problem("missing", c.path, "file not found, skipped"));
      return true;
    });
  }
  assign_splits(index);
  fill_classes(index, listed);
  const auto loose = std::find_if(index.problems.begin(), index.problems.end(),
                                  [](const DataProblem& p) { return p.kind == "outside_classes"; });
  if (index.classes.empty() && loose != index.problems.end()) {
    throw Error(fmt::format(
        "{}: {} and no class folders; for a flat folder say where the label is in the file "
        "names with --label-pattern REGEX (e.g. '^(?<label>[^_]+)_' for LABEL_SPEAKER_N.wav)",
        root_in.string(), loose->message.substr(0, loose->message.find(" outside"))));
  }
  if (index.classes.empty()) {
    std::string why =
        index.problems.empty() ? "" : " (first problem: " + index.problems[0].line() + ")";
    throw Error(fmt::format("{}: no class with readable clips ({} layout){}", root_in.string(),
                            index.layout, why));
  }
  return index;
}

}  // namespace dkws
