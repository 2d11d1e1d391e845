// Synthetic speech as extra training data (issue: tiny models that are actually good). The
// dataset comes from `dkws data synth`: one folder per keyword plus 'unknown' and 'noise', the TTS
// voice as speaker. Every clip is used for training, whatever split its speaker hash gives it:
// the real validation and test splits are what the model is judged on.
#include <algorithm>
#include <map>

#include <fmt/core.h>

#include "data/data_internal.hpp"
#include "dkws/error.hpp"

namespace dkws::data {
namespace fs = std::filesystem;
namespace {

// The task class a synthetic folder feeds, or -1. synth names the Speech Commands silence and
// unknown classes 'noise' and 'unknown'.
int task_class_of(const std::string& synthetic, const std::vector<std::string>& classes) {
  auto index = [&](const std::string& name) {
    const auto it = std::find(classes.begin(), classes.end(), name);
    return it == classes.end() ? -1 : int(it - classes.begin());
  };
  if (const int direct = index(synthetic); direct >= 0) return direct;
  if (synthetic == "unknown") return index("_unknown_");
  if (synthetic == "noise") return index("_silence_");
  return -1;
}

}  // namespace

FeatureSet synthetic_rows(const TaskSpec& spec, const std::vector<std::string>& classes,
                          std::vector<std::string>& notes) {
  const fs::path root = spec.augment.synthetic;
  if (!fs::is_directory(root))
    throw Error(fmt::format("augment.synthetic: {}: not a folder (make one with `dkws data synth`)",
                            root.string()));
  const DatasetIndex index = open_dataset(root);
  std::vector<Clip> clips;
  std::vector<int> labels;
  std::map<std::string, size_t> used, left_out;
  for (const Clip& c : index.clips) {
    const int label = task_class_of(c.label, classes);
    if (label < 0) {
      ++left_out[c.label];
      continue;
    }
    clips.push_back(c);
    labels.push_back(label);
    ++used[c.label];
  }
  if (clips.empty()) {
    std::string names;
    for (const std::string& c : index.classes) names += (names.empty() ? "" : ", ") + c;
    throw Error(fmt::format("augment.synthetic: {}: none of its classes ({}) is a class of task {}",
                            root.string(), names, spec.name));
  }

  const fs::path cache = spec.cache_dir.empty()
                             ? fs::path()
                             : cache_file_for(spec.cache_dir, spec.name + "-synthetic",
                                              fs::absolute(root), spec.front_end);
  ExtractResult ex = extract_features(clips, spec.front_end, cache, spec.quiet);
  FeatureSet out;
  out.frames = spec.front_end.frames();
  out.coeffs = spec.front_end.coeffs();
  out.x = std::move(ex.rows);
  for (size_t k : ex.kept) {
    out.y.push_back(labels[k]);
    out.paths.push_back(clips[k].path.string());
  }

  std::string counts;
  for (const auto& [name, n] : used)
    counts += fmt::format("{}{} {}", counts.empty() ? "" : ", ", name, n);
  notes.push_back(fmt::format("synthetic training clips from {}: {} ({}; {} unreadable)",
                              root.string(), out.size(), counts, ex.problems.size()));
  if (!left_out.empty()) {
    std::string names;
    for (const auto& [name, n] : left_out)
      names += fmt::format("{}{} ({})", names.empty() ? "" : ", ", name, n);
    notes.push_back(fmt::format("  left out, not a class of task {}: {}", spec.name, names));
  }
  return out;
}

}  // namespace dkws::data
