// Running a sweep: the coordinator (`dkws sweep`), which records the trial list and starts worker
// processes, and the worker (`dkws sweep worker`), which claims and trains trials one at a time.
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dkws/dataset.hpp"
#include "dkws/sweep_storage.hpp"

namespace dkws::sweep {

struct SweepOptions {
  std::filesystem::path space_path;
  std::filesystem::path out_dir;
  std::string task = "kws12";
  std::filesystem::path data_dir;  // empty: default_data_dir()
  std::string arms = "none,gd,cc";
  size_t configs = 0;  // 0: from trials, or the whole grid
  size_t trials = 0;
  int seeds = 2;
  int folds = 1;  // > 1: every trial trains K speaker-disjoint folds (fold_task) and is scored on
                  // every clip of the task
  std::string sampler = "random";  // random | grid | tpe
  size_t tpe_startup = 0;          // tpe: random configs in round 0 (0: max(8, configs / 4))
  size_t tpe_batch = 8;            // tpe: configs proposed per later round
  int jobs = 0;                    // 0: the number of cores
  std::string storage;             // empty: OUT/sweep.db
  double lease_seconds = 60;
  uint64_t seed = 1;
  int max_attempts = 3;
  std::filesystem::path cache_dir = ".cache/dkws";
  bool quiet = false;
};

struct WorkerOptions {
  std::string storage;
  std::filesystem::path out_dir;  // trials/<id>/ go here; empty: an SQLite file's folder, else "."

  std::filesystem::path data_dir;  // empty: the sweep's data folder
  std::filesystem::path cache_dir = ".cache/dkws";
  double lease_seconds = 60;
  int max_attempts = 3;
  bool quiet = false;
  // A TPE sweep's queue is empty between rounds, until its coordinator proposes the next one. A
  // worker joined from elsewhere waits up to this long for it; the coordinator's own workers
  // (0) exit, since the coordinator proposes the next round once they have.
  double round_wait_seconds = 600;
};

// Both return the process exit code: 0 when the sweep is complete, 130 when stopped by a signal
// (unfinished trials are back in the queue). They throw dkws::Error for bad input or storage.
int run_sweep(const SweepOptions& opt);
int run_worker(const WorkerOptions& opt);

// The trial export shared with the report (see docs: "SWEEP_DIR/trials.json"): finished trials
// only, ordered by trial_id.
nlohmann::json trials_export(const nlohmann::json& meta, const std::vector<TrialRow>& rows);
void write_trials_json(Storage& storage, const std::filesystem::path& out_dir);

// Per-clip correctness of a trial's final model on one split, for the report's bootstrap over
// clips: {"n": clips, "set": clip_set_fingerprint(paths), "correct": encode_clip_bits(...)}.
nlohmann::json clip_record(const std::vector<int>& truth, const std::vector<int>& predicted,
                           const std::vector<std::string>& paths);
// Bit i (least significant bit first within each byte) set when clip i is correct; base64.
std::string encode_clip_bits(const std::vector<bool>& correct);
// 16 hex digits identifying the clips and their order.
std::string clip_set_fingerprint(const std::vector<std::string>& paths);

// Speaker-disjoint k-fold (`dkws sweep --folds K`). The task's train, val and test clips are
// pooled (in that order); each clip's speaker (speaker_of) is hashed into one of K folds. Fold f
// tests on fold f, validates on fold f+1 (mod K) and trains on the rest, so over the K folds
// every clip is tested once and validated once, and no speaker is in two splits of a fold.
FeatureSet pooled_clips(const TaskData& data);
std::vector<int> speaker_folds(const std::vector<std::string>& paths, int k);
TaskData fold_task(const TaskData& data, const FeatureSet& pooled, const std::vector<int>& fold,
                   int k, int f);
// The pooled clips and their folds, after checking that every fold has clips in all three splits
// (a dkws::Error naming --folds otherwise).
struct SpeakerFolds {
  FeatureSet pooled;
  std::vector<int> fold;
  int k = 1;
};
SpeakerFolds make_folds(const TaskData& data, int k);

}  // namespace dkws::sweep
