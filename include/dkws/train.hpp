// Training: the epoch loop, evaluation, the best-validation checkpoint and the switching tracker.
#pragma once
#include <cmath>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dkws/config.hpp"
#include "dkws/dataset.hpp"
#include "dkws/nn/sequential.hpp"

namespace dkws {

struct EpochRecord {
  int epoch = 0;            // 1-based
  std::string phase = "N";  // "N" neuron phase, "P" dendrite phase
  double train_loss = 0, train_acc = 0, val_acc = 0, val_loss = 0, val_score = 0;
  // Train accuracy in eval mode (no dropout or noise) after the epoch; NaN where not measured
  // (dendrite-phase epochs, train.eval_train_accuracy off). train_acc is the train-mode figure,
  // averaged over the epoch's batches as the weights changed.
  double train_eval_acc = std::nan("");
  double lr = 0;
  int dendrites = 0;
  size_t params = 0;
  double seconds = 0;
  std::vector<double> dendrite_scores;  // P phase: mean correlation score per wrapped layer
  std::string event;                    // transition logged at the end of this epoch, if any
};

struct TrainResult {
  int best_epoch = 0;
  double best_val_acc = 0;
  double test_acc = 0;  // of the best-validation checkpoint
  double val_loss = 0;
  int epochs_run = 0;      // the epoch counter at the end (rules pb: reloads rewind it)
  int epochs_trained = 0;  // every epoch trained, those a reload discarded included
  double train_seconds = 0;
  std::vector<EpochRecord> history;
  std::vector<std::vector<int>> test_confusion;  // [true][pred]
  nlohmann::json transitions = nlohmann::json::array();
};

struct TrainOptions {
  bool quiet = false;
  // When set, a model file (model_file.hpp) is written here atomically after every neuron-phase
  // epoch whose "training_state" holds the rest of the run (best checkpoint, optimiser, schedule,
  // tracker, random stream, history); a run that finds one for the same config resumes from it.
  // On completion it holds the best network with training_state null.
  std::filesystem::path state_path;
  // Called after each saved epoch (tests use it to simulate a kill).
  std::function<void(int epoch)> after_epoch;
  // Called after every epoch of either phase, dendrite-phase epochs included (which are not
  // saved); it may throw to abandon the run, e.g. on Ctrl-C or a lost sweep lease.
  std::function<void()> poll;
};

struct EvalResult {
  double accuracy = 0;
  double loss = 0;
  std::vector<int> predictions;
};

// Eval-mode accuracy and mean loss over a feature set.
EvalResult evaluate(nn::Sequential& net, const FeatureSet& set, int batch_size = 256);

// Trains `net` in place; on return it holds the best-validation checkpoint.
TrainResult train_model(nn::Sequential& net, const RunConfig& cfg, const TaskData& data,
                        const TrainOptions& opt = {});

std::vector<std::vector<int>> confusion_matrix(const std::vector<int>& truth,
                                               const std::vector<int>& pred, int classes);

}  // namespace dkws
