// The sweep worker: loads the task's features once, then claims, trains and records trials one at
// a time until none is left. A heartbeat thread (its own connection) keeps the lease alive; losing
// it, or a stop signal, ends the current trial at the next epoch boundary. A trial's files appear
// under OUT/trials/<id>/ by one rename, before its row is marked done, so every done row has them.
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <fmt/core.h>

#include "dkws/dataset.hpp"
#include "dkws/dendrite.hpp"
#include "dkws/error.hpp"
#include "dkws/model_file.hpp"
#include "dkws/sweep_run.hpp"
#include "dkws/train.hpp"
#include "train/run_outputs.hpp"

namespace dkws::sweep {
namespace fs = std::filesystem;
namespace {

using nlohmann::json;

volatile sig_atomic_t g_stop = 0;
void on_stop(int) {
  g_stop = 1;
}

struct Interrupted {};  // thrown out of training: stop requested or lease lost
struct LeaseLost {};

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

std::string worker_id() {
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  return fmt::format("{}:{}", host, getpid());
}

// Extends a lease every lease/3 seconds until stopped; records whether the lease was lost.
class Heartbeat {
 public:
  Heartbeat(Storage& store, int64_t id, std::string token, double lease)
      : thread_([this, &store, id, token = std::move(token), lease] {
          std::unique_lock lock(m_);
          const auto every = std::chrono::duration<double>(std::max(0.2, lease / 3));
          while (!cv_.wait_for(lock, every, [this] { return done_; })) {
            try {
              if (!store.heartbeat(id, token, lease)) lost_ = true;
            } catch (const std::exception&) {
              // A transient storage error: the lease may still hold; the next beat retries.
            }
          }
        }) {}
  ~Heartbeat() {
    {
      std::lock_guard lock(m_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  bool lost() const { return lost_; }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  bool done_ = false;
  std::atomic<bool> lost_{false};
  std::thread thread_;
};

class Worker {
 public:
  explicit Worker(const WorkerOptions& opt) : opt_(opt), id_(worker_id()) {
    if (!(opt.lease_seconds > 0)) throw Error("--lease-seconds: must be > 0");
    if (opt.max_attempts < 1) throw Error("--max-attempts: must be >= 1");
    if (opt_.out_dir.empty()) {
      const StorageUrl where = parse_storage_url(opt.storage);
      opt_.out_dir = where.postgres ? fs::path(".") : fs::path(where.sqlite_file).parent_path();
      if (opt_.out_dir.empty()) opt_.out_dir = ".";
    }
    store_ = open_storage(opt.storage);
    beat_store_ = open_storage(opt.storage);
    meta_ = store_->metadata();
    if (meta_.is_null()) throw Error(fmt::format("{}: holds no sweep", store_->describe()));
    space_ = parse_space(meta_.at("space"), "sweep space");
  }
  int run();

 private:
  void load_data();
  void run_trial(const Claim& c);
  size_t planned_trials() const;  // configs x arms x seeds, every round proposed
  bool rounds_to_come(const Counts& n) const;
  // One model trained on one split: what the trial records of it.
  struct FoldRun {
    SavedModel model;
    TrainResult r;
    size_t params_base;
    int dendrites;
    double cpu;
    std::vector<int> val, test;  // predictions of the final model, one per clip
  };
  FoldRun train_one(const RunConfig& cfg, const TaskData& data, const Heartbeat& hb);
  json train_and_write(const Claim& c, const Heartbeat& hb);

  WorkerOptions opt_;
  std::string id_;
  std::unique_ptr<Storage> store_, beat_store_;
  json meta_;
  SearchSpace space_;
  TaskData data_;
  SpeakerFolds folds_;  // k > 1: the sweep's --folds, with the pooled clips and their folds
};

void Worker::load_data() {
  const RunConfig base = parse_run_config(space_.base, "base");
  TaskSpec spec;
  spec.name = meta_.at("task");
  spec.data_dir =
      opt_.data_dir.empty() ? fs::path(meta_.at("data_dir").get<std::string>()) : opt_.data_dir;
  spec.front_end = base.front_end;
  spec.augment = base.augment;  // augmented variants are part of the loaded task
  spec.cache_dir = opt_.cache_dir;
  spec.seed = 1;  // kw3's sampling: the same data for every trial
  spec.quiet = true;
  data_ = load_task(spec);
  if (const int k = meta_.value("folds", 1); k > 1) folds_ = make_folds(data_, k);
}

Worker::FoldRun Worker::train_one(const RunConfig& cfg, const TaskData& data, const Heartbeat& hb) {
  FoldRun run{new_model(cfg, data), {}, 0, 0, 0, {}, {}};
  run.params_base = run.model.net.count_params();
  TrainOptions topt;
  topt.quiet = true;
  topt.poll = [&hb] {  // every epoch, dendrite phases included
    if (g_stop) throw Interrupted{};
    if (hb.lost()) throw LeaseLost{};
  };
  const double cpu0 = thread_cpu_seconds();
  run.r = train_model(run.model.net, cfg, data, topt);
  run.cpu = thread_cpu_seconds() - cpu0;
  run.dendrites = cfg.dendrites.mode == "none" ? 0 : dendrite::dendrite_count(run.model.net);
  // The final (best-validation) model's answer on every clip, for the report's clip bootstrap.
  run.val = evaluate(run.model.net, data.val).predictions;
  run.test = evaluate(run.model.net, data.test).predictions;
  run.model.metrics = run_metrics_json(cfg, data, run.r, run.params_base, run.model.net);
  run.model.metrics["cpu_seconds"] = run.cpu;
  return run;
}

json Worker::train_and_write(const Claim& c, const Heartbeat& hb) {
  const TrialSpec& t = c.spec;
  RunConfig cfg = trial_config(space_, meta_, t);
  if (!opt_.data_dir.empty()) cfg.data_dir = opt_.data_dir;
  const json trial = {{"trial_id", t.trial_id}, {"config_id", t.config_id},
                      {"arm", t.arm},           {"seed", t.seed},
                      {"hparams", t.hparams},   {"attempt", c.attempts}};

  // Written beside the final folder and renamed into place: a trial folder is whole or absent.
  const fs::path trials = opt_.out_dir / "trials";
  const fs::path final_dir = trials / std::to_string(t.trial_id);
  const fs::path tmp = trials / fmt::format(".tmp-{}-{}", t.trial_id, c.token.substr(0, 8));
  fs::create_directories(tmp);
  auto write = [&](const fs::path& dir, FoldRun& run, const TaskData& data) {
    run.model.metrics["trial"] = trial;
    save_model(dir / "model.json", run.model);
    write_run_outputs(dir, data, run.r, run.model.metrics);
  };

  json result;
  if (folds_.k <= 1) {
    FoldRun run = train_one(cfg, data_, hb);
    write(tmp, run, data_);
    result = {{"val_acc", run.r.best_val_acc},
              {"test_acc", run.r.test_acc},
              {"params", run.model.net.count_params()},
              {"params_base", run.params_base},
              {"dendrites", run.dendrites},
              {"epochs", run.r.epochs_run},
              {"best_epoch", run.r.best_epoch},
              {"train_seconds", run.r.train_seconds},
              {"cpu_seconds", run.cpu},
              {"clips",
               {{"val", clip_record(data_.val.y, run.val, data_.val.paths)},
                {"test", clip_record(data_.test.y, run.test, data_.test.paths)}}}};
  } else {
    // Every clip is tested once and validated once; the pooled answers make the trial's
    // accuracies. The trial's size is its largest fold model (what must fit a budget) and its
    // dendrite count the fewest any fold model carries (>= 1: every fold model has one).
    std::vector<int> val_pred(folds_.pooled.size(), -1), test_pred(folds_.pooled.size(), -1);
    json per_fold = json::array();
    size_t params = 0, params_base = 0;
    int dendrites = -1, epochs = 0;
    double seconds = 0, cpu = 0;
    for (int f = 0; f < folds_.k; ++f) {
      const TaskData data = fold_task(data_, folds_.pooled, folds_.fold, folds_.k, f);
      FoldRun run = train_one(cfg, data, hb);
      size_t iv = 0, it = 0;
      for (size_t i = 0; i < folds_.pooled.size(); ++i) {
        if (folds_.fold[i] == f) test_pred[i] = run.test[it++];
        if (folds_.fold[i] == (f + 1) % folds_.k) val_pred[i] = run.val[iv++];
      }
      write(tmp / fmt::format("fold-{}", f + 1), run, data);
      if (f == 0) write(tmp, run, data);  // the trial folder's own files: fold 1's
      params = std::max(params, run.model.net.count_params());
      params_base = std::max(params_base, run.params_base);
      dendrites = dendrites < 0 ? run.dendrites : std::min(dendrites, run.dendrites);
      epochs += run.r.epochs_run, seconds += run.r.train_seconds, cpu += run.cpu;
      per_fold.push_back({{"val_acc", run.r.best_val_acc},
                          {"test_acc", run.r.test_acc},
                          {"params", run.model.net.count_params()},
                          {"dendrites", run.dendrites},
                          {"epochs", run.r.epochs_run}});
    }
    auto share = [&](const std::vector<int>& pred) {
      size_t ok = 0;
      for (size_t i = 0; i < pred.size(); ++i) ok += pred[i] == folds_.pooled.y[i];
      return double(ok) / double(pred.size());
    };
    result = {{"val_acc", share(val_pred)},
              {"test_acc", share(test_pred)},
              {"params", params},
              {"params_base", params_base},
              {"dendrites", dendrites},
              {"epochs", epochs},
              {"best_epoch", nullptr},
              {"train_seconds", seconds},
              {"cpu_seconds", cpu},
              {"folds", per_fold},
              {"clips",
               {{"val", clip_record(folds_.pooled.y, val_pred, folds_.pooled.paths)},
                {"test", clip_record(folds_.pooled.y, test_pred, folds_.pooled.paths)}}}};
  }
  // Only the trial's current owner may replace the folder: a worker that stalled past its lease
  // (the heartbeat thread stalled with it) would otherwise put its files over those of the
  // trial's new owner, which may already have finished. The renewal also makes the lease last
  // past the rename: a new owner can only claim later, and will finish (and rename) later still.
  std::error_code ec;
  if (!store_->heartbeat(t.trial_id, c.token, opt_.lease_seconds)) {
    fs::remove_all(tmp, ec);
    throw LeaseLost{};
  }
  fs::remove_all(final_dir, ec);  // an earlier attempt that died between rename and finish
  fs::rename(tmp, final_dir);

  result.update({{"int8_bytes", nullptr},
                 {"int8_test_acc", nullptr},
                 {"worker", id_},
                 {"run_dir", fmt::format("trials/{}", t.trial_id)}});
  return result;
}

void Worker::run_trial(const Claim& c) {
  // Leftovers of an attempt that was killed while writing.
  std::error_code ec;
  const std::string prefix = fmt::format(".tmp-{}-", c.spec.trial_id);
  for (const auto& e : fs::directory_iterator(opt_.out_dir / "trials", ec))
    if (e.path().filename().string().rfind(prefix, 0) == 0) fs::remove_all(e.path(), ec);

  json result;
  std::string error;
  bool ok = false;
  {
    Heartbeat hb(*beat_store_, c.spec.trial_id, c.token, opt_.lease_seconds);
    try {
      result = train_and_write(c, hb);
      ok = true;
    } catch (const Interrupted&) {
      store_->release(c.spec.trial_id, c.token);
      return;
    } catch (const LeaseLost&) {
      fmt::print(stderr, "dkws worker {}: trial {}: lease lost, leaving it to its new owner\n", id_,
                 c.spec.trial_id);
      return;
    } catch (const std::exception& e) {
      error = e.what();
      for (auto& ch : error)
        if (ch == '\n') ch = ' ';
    }
  }
  if (!store_->finish(c.spec.trial_id, c.token, ok, result, error))
    fmt::print(stderr, "dkws worker {}: trial {}: lease lost before recording, result dropped\n",
               id_, c.spec.trial_id);
}

size_t Worker::planned_trials() const {
  return meta_.at("n_configs").get<size_t>() * meta_.at("arms").size() * meta_.at("seeds").size();
}

bool Worker::rounds_to_come(const Counts& n) const {
  return opt_.round_wait_seconds > 0 && meta_.value("sampler", std::string()) == "tpe" &&
         n.total() < planned_trials();
}

int Worker::run() {
  fs::create_directories(opt_.out_dir / "trials");
  load_data();
  double idle_since = -1;  // when the queue was last seen empty with a TPE round to come
  while (!g_stop) {
    const auto claim = store_->claim(id_, opt_.lease_seconds, opt_.max_attempts);
    if (claim) {
      run_trial(*claim);
      continue;
    }
    // Nothing claimable: done, unless another worker's trial may still come back to the queue,
    // or a TPE round is still to be proposed.
    const Counts n = store_->counts();
    if (n.queued == 0 && n.running == 0) {
      if (!rounds_to_come(n)) return 0;
      if (idle_since < 0) idle_since = now_seconds();
      if (now_seconds() - idle_since > opt_.round_wait_seconds) {
        fmt::print(stderr,
                   "dkws worker {}: no new TPE round in {:.0f} s (is the sweep's coordinator "
                   "running?); exiting with {} of {} trials in the sweep\n",
                   id_, opt_.round_wait_seconds, n.total(), planned_trials());
        return 0;
      }
    } else {
      idle_since = -1;
    }
    for (int i = 0; i < 5 && !g_stop; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return 130;
}

}  // namespace

int run_worker(const WorkerOptions& opt) {
  if (!(opt.round_wait_seconds >= 0)) throw Error("--round-wait: must be >= 0 seconds");
  struct sigaction sa {};
  sa.sa_handler = on_stop;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  Worker w(opt);
  return w.run();
}

}  // namespace dkws::sweep
