// Running a sweep: the coordinator (`dkws sweep`), which records the trial list and starts worker
// processes, and the worker (`dkws sweep worker`), which claims and trains trials one at a time.
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

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

}  // namespace dkws::sweep
