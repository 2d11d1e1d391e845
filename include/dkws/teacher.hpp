// Knowledge distillation's teacher: the logits of one model, or the mean logits of an ensemble,
// on the training split, computed once and cached in a file keyed to the training features.
// Students name the file in train.teacher (config.hpp); `dkws teacher` makes it.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include "dkws/dataset.hpp"
#include "dkws/nn/sequential.hpp"

namespace dkws {

struct TeacherLogits {
  std::string features_key;          // feature_set_key of the training split it was computed on
  std::vector<std::string> classes;  // the task's class names, in the logits' column order
  std::vector<std::string> members;  // the model files whose logits it averages
  std::vector<float> logits;         // training rows x classes, row-major
  size_t rows() const { return classes.empty() ? 0 : logits.size() / classes.size(); }
};

// A hex digest (64-bit FNV-1a) of a feature set's shape, features and labels: the same clips
// through the same front end in the same order give the same key.
std::string feature_set_key(const FeatureSet& set);

// Eval-mode logits of `net` on every row of `set` (rows x classes, row-major).
std::vector<float> model_logits(nn::Sequential& net, const FeatureSet& set, int batch_size = 256);

void save_teacher_logits(const std::filesystem::path& path, const TeacherLogits& t);
// Reads a teacher file; a malformed file is a dkws::Error naming it.
TeacherLogits read_teacher_logits(const std::filesystem::path& path);
// Reads a teacher file and checks it against the training split and classes the student trains
// on: logits of other features, another split or another class list are an error naming the file.
TeacherLogits load_teacher_logits(const std::filesystem::path& path, const FeatureSet& train,
                                  const std::vector<std::string>& classes);

}  // namespace dkws
