// load_task: picks a task's clips (kws12, kw3 or any folder), extracts or loads their features,
// and reports class counts per split so a mislabelled or half-missing dataset is seen at once.
#include <algorithm>
#include <array>
#include <cstdio>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "data/data_internal.hpp"
#include "dkws/error.hpp"

namespace dkws {
namespace fs = std::filesystem;
namespace {

const std::vector<std::string> kKws12 = {"yes", "no",  "up",   "down", "left",      "right",
                                         "on",  "off", "stop", "go",   "_silence_", "_unknown_"};

fs::path speech_commands_tsv(const fs::path& data_dir) {
  const fs::path tsv = data_dir / "speech_commands_v2_test" / "splits.tsv";
  if (!fs::exists(tsv)) {
    throw Error(
        fmt::format("{}: not found (the task needs the Speech Commands test set)", tsv.string()));
  }
  return tsv;
}

data::TaskClips with_classes(const DatasetIndex& index, const std::vector<std::string>& classes) {
  data::TaskClips t;
  t.classes = classes;
  for (const std::string& c : classes) {
    if (std::find(index.classes.begin(), index.classes.end(), c) == index.classes.end()) {
      throw Error(fmt::format("{}: class '{}' has no clips", index.root.string(), c));
    }
  }
  for (const Clip& c : index.clips) {
    const auto it = std::find(classes.begin(), classes.end(), c.label);
    if (it == classes.end()) continue;
    t.clips.push_back(c);
    t.labels.push_back(int(it - classes.begin()));
  }
  return t;
}

// What a row is called in reports: its path under the data folder, plus the crop for crops.
std::string row_name(const Clip& c, const fs::path& base) {
  // Lexical: clip paths are built from data_dir, and fs::relative would stat every component.
  const fs::path rel = c.path.lexically_relative(base);
  std::string name = (rel.empty() || *rel.begin() == "..") ? c.path.string() : rel.string();
  if (c.length_seconds > 0)
    name += fmt::format("@{:.3f}+{:.3f}s", c.offset_seconds, c.length_seconds);
  return name;
}

}  // namespace

TaskData load_task(const TaskSpec& spec) {
  spec.front_end.validate();
  data::TaskClips tc;
  std::vector<DataProblem> problems;
  std::string speaker_warning;
  if (spec.name == "kws12" || spec.name == "kw3") {
    const DatasetIndex index = data::scan_dataset(speech_commands_tsv(spec.data_dir), false);
    problems = index.problems;
    if (spec.name == "kws12") {
      tc = with_classes(index, kKws12);
    } else {
      with_classes(index, kKws12);  // kw3 relies on the same folders being present
      const double crop = spec.front_end.window_seconds > 0 ? spec.front_end.window_seconds : 1.0;
      tc = data::kw3_clips(index, spec.data_dir / "background_noise", spec.seed, crop);
    }
  } else if (spec.name == "folder") {
    const DatasetIndex index = open_dataset(spec.data_dir);  // user data: check every header
    problems = index.problems;
    speaker_warning = speaker_leak_warning(index.split_by_clip, index.clips.size());
    tc = with_classes(index, index.classes);
  } else {
    throw Error(fmt::format("unknown task '{}' (expected kws12, kw3 or folder)", spec.name));
  }
  problems.insert(problems.end(), tc.problems.begin(), tc.problems.end());

  const fs::path cache_file =
      spec.cache_dir.empty()
          ? fs::path()
          : data::cache_file_for(spec.cache_dir, spec.name, spec.data_dir, spec.front_end);
  data::ExtractResult ex = data::extract_features(tc.clips, spec.front_end, cache_file, spec.quiet);
  problems.insert(problems.end(), ex.problems.begin(), ex.problems.end());

  TaskData out;
  out.name = spec.name;
  out.classes = tc.classes;
  out.features_computed = ex.computed;
  out.features_from_cache = ex.from_cache;
  for (FeatureSet* fs_ : {&out.train, &out.val, &out.test}) {
    fs_->frames = spec.front_end.frames();
    fs_->coeffs = spec.front_end.coeffs();
  }
  const size_t dim = size_t(out.train.dim());
  const fs::path base =
      fs::is_directory(spec.data_dir) ? spec.data_dir : spec.data_dir.parent_path();
  std::vector<std::array<size_t, 3>> counts(tc.classes.size(), {0, 0, 0});
  std::vector<Clip> train_clips;  // in train row order, for the augmented variants
  for (size_t k = 0; k < ex.kept.size(); ++k) {
    const Clip& c = tc.clips[ex.kept[k]];
    const int s = c.split == "train" ? 0 : c.split == "val" ? 1 : 2;
    FeatureSet& set = s == 0 ? out.train : s == 1 ? out.val : out.test;
    set.x.insert(set.x.end(), ex.rows.begin() + long(k * dim),
                 ex.rows.begin() + long((k + 1) * dim));
    set.y.push_back(tc.labels[ex.kept[k]]);
    set.paths.push_back(row_name(c, base));
    ++counts[size_t(tc.labels[ex.kept[k]])][size_t(s)];
    if (s == 0) train_clips.push_back(c);
  }
  if (spec.augment.variants > 0) {
    const fs::path aug_cache = spec.cache_dir.empty()
                                   ? fs::path()
                                   : data::cache_file_for(spec.cache_dir, spec.name + "-augment",
                                                          spec.data_dir, spec.front_end);
    out.train_variants.frames = out.train.frames;
    out.train_variants.coeffs = out.train.coeffs;
    out.train_variants.x = data::augmented_rows(train_clips, spec, aug_cache);
    out.variants = spec.augment.variants;
    for (int v = 0; v < out.variants; ++v) {
      out.train_variants.y.insert(out.train_variants.y.end(), out.train.y.begin(),
                                  out.train.y.end());
    }
  }

  out.notes.push_back(fmt::format("task {}: {} classes, {} features per clip ({} frames x {})",
                                  spec.name, tc.classes.size(), dim, out.train.frames,
                                  out.train.coeffs));
  out.notes.push_back(fmt::format("  {:<12} {:>6} {:>6} {:>6}", "class", "train", "val", "test"));
  for (size_t c = 0; c < tc.classes.size(); ++c) {
    out.notes.push_back(fmt::format("  {:<12} {:>6} {:>6} {:>6}", tc.classes[c], counts[c][0],
                                    counts[c][1], counts[c][2]));
  }
  out.notes.push_back(fmt::format("  {:<12} {:>6} {:>6} {:>6}", "total", out.train.size(),
                                  out.val.size(), out.test.size()));
  out.notes.insert(out.notes.end(), tc.notes.begin(), tc.notes.end());
  const AugmentSpec& a = spec.augment;
  if (a.synthetic_ratio > 0 || a.synthetic_pretrain_epochs > 0)
    out.synthetic = data::synthetic_rows(spec, tc.classes, out.notes);
  if (out.variants > 0)
    out.notes.push_back(fmt::format("augmentation: {} variants of each of {} training clips",
                                    out.variants, out.train.size()));
  out.notes.push_back(
      fmt::format("features: {} computed, {} from cache{}", ex.computed, ex.from_cache,
                  cache_file.empty() ? " (cache off)" : " (" + cache_file.string() + ")"));
  if (!problems.empty()) {
    out.notes.push_back(
        fmt::format("{} problem(s), by kind (dkws data inspect --list-problems "
                    "lists every one):",
                    problems.size()));
    for (std::string& line : summarize_problems(problems, 3)) out.notes.push_back(std::move(line));
  }
  if (!speaker_warning.empty()) out.notes.push_back(speaker_warning);
  if (!spec.quiet)
    for (const std::string& n : out.notes) fmt::print(stderr, "{}\n", n);
  if (out.train.size() == 0) throw Error(fmt::format("task {}: no training clips", spec.name));
  return out;
}

}  // namespace dkws
