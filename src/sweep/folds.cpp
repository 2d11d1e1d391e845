// Speaker-disjoint k-fold splits for small tasks: every clip of the task is tested once (and
// validated once) by a model that never trained on its speaker.
#include <fmt/core.h>

#include "dkws/dataset.hpp"
#include "dkws/error.hpp"
#include "dkws/sweep_run.hpp"

namespace dkws::sweep {
namespace {

void append(FeatureSet& to, const FeatureSet& from) {
  if (to.size() == 0) to.frames = from.frames, to.coeffs = from.coeffs;
  to.x.insert(to.x.end(), from.x.begin(), from.x.end());
  to.y.insert(to.y.end(), from.y.begin(), from.y.end());
  to.paths.insert(to.paths.end(), from.paths.begin(), from.paths.end());
}

void take_rows(FeatureSet& to, const FeatureSet& from, const std::vector<size_t>& rows) {
  to.frames = from.frames, to.coeffs = from.coeffs;
  const size_t dim = size_t(from.dim());
  for (size_t r : rows) {
    to.x.insert(to.x.end(), from.row(r), from.row(r) + dim);
    to.y.push_back(from.y[r]);
    to.paths.push_back(from.paths[r]);
  }
}

}  // namespace

FeatureSet pooled_clips(const TaskData& data) {
  FeatureSet all;
  for (const FeatureSet* s : {&data.train, &data.val, &data.test}) append(all, *s);
  return all;
}

std::vector<int> speaker_folds(const std::vector<std::string>& paths, int k) {
  if (k < 2) throw Error(fmt::format("--folds {}: must be >= 2", k));
  std::vector<int> fold(paths.size());
  for (size_t i = 0; i < paths.size(); ++i) {
    // FNV-1a of the speaker id: every clip of one speaker lands in the same fold. A noise crop
    // ("file.wav@offset") has its file name as speaker, so crops of one file stay together too.
    uint64_t h = 1469598103934665603ull;
    for (unsigned char c : speaker_of(paths[i])) h = (h ^ c) * 1099511628211ull;
    fold[i] = int(h % uint64_t(k));
  }
  return fold;
}

TaskData fold_task(const TaskData& data, const FeatureSet& pooled, const std::vector<int>& fold,
                   int k, int f) {
  if (data.variants > 0)
    throw Error("--folds: not available with augmentation variants (augment.variants > 0)");
  TaskData out;
  out.name = data.name;
  out.classes = data.classes;
  std::vector<size_t> train, val, test;
  for (size_t i = 0; i < fold.size(); ++i) {
    if (fold[i] == f)
      test.push_back(i);
    else if (fold[i] == (f + 1) % k)
      val.push_back(i);
    else
      train.push_back(i);
  }
  if (train.empty() || val.empty() || test.empty())
    throw Error(
        fmt::format("--folds {}: fold {} leaves an empty train, val or test split ({}, {}, "
                    "{} clips); use fewer folds",
                    k, f + 1, train.size(), val.size(), test.size()));
  take_rows(out.train, pooled, train);
  take_rows(out.val, pooled, val);
  take_rows(out.test, pooled, test);
  out.synthetic = data.synthetic;  // training-only rows belong to every fold's training
  return out;
}

SpeakerFolds make_folds(const TaskData& data, int k) {
  SpeakerFolds f{pooled_clips(data), {}, k};
  f.fold = speaker_folds(f.pooled.paths, k);
  for (int i = 0; i < k; ++i) fold_task(data, f.pooled, f.fold, k, i);  // refuses empty splits
  return f;
}

}  // namespace dkws::sweep
