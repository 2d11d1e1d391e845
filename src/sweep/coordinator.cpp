// `dkws sweep`: records the matched trial list (or checks that an existing store holds the same
// sweep, and resumes it), warms the feature cache once, then runs N single-threaded worker
// processes (this binary, `sweep worker`) and shows progress until the queue is empty. On SIGINT or
// SIGTERM it tells the workers to stop; they put their unfinished trials back in the queue.
// With --sampler tpe the queue holds one round at a time: when a round's trials have all finished,
// the next round is proposed from the stored results, added to storage and run by fresh workers.
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <optional>
#include <thread>

#include <fmt/core.h>

#include "dkws/dataset.hpp"
#include "dkws/error.hpp"
#include "dkws/sweep_run.hpp"
#include "dkws/sweep_tpe.hpp"

namespace dkws::sweep {
namespace fs = std::filesystem;
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

volatile sig_atomic_t g_stop = 0;
void on_stop(int) {
  g_stop = 1;
}

std::string clock_text(double seconds) {
  const long s = long(seconds);
  return s >= 3600 ? fmt::format("{}:{:02d}:{:02d}", s / 3600, int(s / 60 % 60), int(s % 60))
                   : fmt::format("{:02d}:{:02d}", int(s / 60), int(s % 60));
}

// The fields that make two sweeps the same; -j, storage, lease and quiet may change on resume.
const char* kIdentity[] = {"space",   "task",      "data_dir", "arms", "seeds",
                           "sampler", "n_configs", "seed",     "tpe",  "folds"};

void check_same_sweep(const json& stored, const json& wanted, const std::string& where) {
  for (const char* k : kIdentity) {
    if (stored.value(k, json()) == wanted.value(k, json())) continue;
    std::string was = stored.value(k, json()).dump(), now = wanted.value(k, json()).dump();
    if (was.size() > 60 || now.size() > 60) was = "(stored)", now = "(this command's)";
    throw Error(
        fmt::format("{}: holds a different sweep ({} is {}, this command gives {}); rerun "
                    "with the same arguments to resume, or use another --out",
                    where, k, was, now));
  }
}

// The best val-selected trial of each arm: its test accuracy.
std::string best_per_arm(const std::vector<TrialRow>& rows, const std::vector<std::string>& arms) {
  std::map<std::string, std::pair<double, double>> best;  // arm -> (val, test)
  for (const TrialRow& r : rows) {
    if (r.status != "done" || !r.result.is_object()) continue;
    const double val = r.result.value("val_acc", 0.0), test = r.result.value("test_acc", 0.0);
    auto it = best.find(r.spec.arm);
    if (it == best.end() || val > it->second.first) best[r.spec.arm] = {val, test};
  }
  std::string s;
  for (const auto& a : arms) {
    const auto it = best.find(a);
    s += it == best.end() ? fmt::format(" {} -", a)
                          : fmt::format(" {} {:.3f}", a, it->second.second);
  }
  return s;
}

class Coordinator {
 public:
  explicit Coordinator(const SweepOptions& opt) : opt_(opt) {}
  int run();

 private:
  json make_meta(const SearchSpace& space, std::vector<TrialSpec>& trials);
  void warm_features(const SearchSpace& space, const json& meta);
  pid_t spawn(const std::string& url, const json& meta);
  std::string run_workers(Storage& store, const std::string& url, const json& meta);
  bool add_tpe_round(const SearchSpace& space, Storage& store);
  void show(const Counts& n, bool force);

  SweepOptions opt_;
  std::vector<std::string> arms_;
  std::optional<TpeSettings> tpe_;
  size_t n_configs_ = 0, planned_trials_ = 0;
  bool tty_ = false;
  Clock::time_point start_ = Clock::now();
  size_t finished_at_start_ = 0;
  std::string best_;
  Clock::time_point last_line_{};
};

json Coordinator::make_meta(const SearchSpace& space, std::vector<TrialSpec>& trials) {
  arms_ = parse_arms(opt_.arms);
  if (!(opt_.lease_seconds > 0)) throw Error("--lease-seconds: must be > 0");
  if (opt_.max_attempts < 1) throw Error("--max-attempts: must be >= 1");
  if (opt_.seeds < 1) throw Error("--seeds: must be >= 1");
  if (opt_.folds < 1) throw Error("--folds: must be >= 1");
  if (opt_.sampler != "random" && opt_.sampler != "grid" && opt_.sampler != "tpe")
    throw Error(fmt::format("--sampler '{}': expected random, grid or tpe", opt_.sampler));
  if (opt_.tpe_batch < 1) throw Error("--tpe-batch: must be >= 1");
  const size_t per_config = arms_.size() * size_t(opt_.seeds);
  size_t n = opt_.configs;
  if (opt_.trials > 0) {
    if (opt_.configs > 0) throw Error("--configs and --trials: give one of them");
    if (opt_.trials % per_config != 0)
      throw Error(fmt::format("--trials {}: must be a multiple of arms x seeds = {}", opt_.trials,
                              per_config));
    n = opt_.trials / per_config;
  }
  if (n == 0 && opt_.sampler != "grid")
    throw Error(
        fmt::format("--configs N or --trials N is needed with the {} sampler", opt_.sampler));
  if (n == 0 && space.grid_size() * per_config > 100000)
    throw Error(
        fmt::format("--sampler grid: the full grid is {} configs x {} = {} trials; pass "
                    "--configs N for its first N points",
                    space.grid_size(), per_config, space.grid_size() * per_config));
  std::vector<json> configs;
  if (opt_.sampler == "tpe") {
    // Round 0 is the random sampler's first configs; the later rounds are added as they come.
    if (opt_.tpe_startup > n)
      throw Error(
          fmt::format("--tpe-startup {}: more than the sweep's {} configs", opt_.tpe_startup, n));
    TpeSettings s;
    s.startup = opt_.tpe_startup > 0 ? opt_.tpe_startup : std::min(n, std::max<size_t>(8, n / 4));
    s.batch = opt_.tpe_batch;
    tpe_ = s;
    configs = sample_configs(space, "random", s.startup, opt_.seed);
  } else {
    configs = sample_configs(space, opt_.sampler, n, opt_.seed);
    n = configs.size();
  }
  trials = make_trials(configs, arms_, opt_.seeds);
  n_configs_ = n;
  planned_trials_ = n * per_config;
  fs::path data = opt_.data_dir.empty() ? default_data_dir() : opt_.data_dir;
  if (data.empty()) throw Error("no data: pass --data DIR or set DKWS_DATA (see README, 'Data')");
  std::error_code ec;
  const fs::path abs = fs::weakly_canonical(fs::absolute(data), ec);
  json seeds = json::array();
  for (int s = 1; s <= opt_.seeds; ++s) seeds.push_back(s);
  json meta = {{"format", "dkws-sweep"},
               {"version", 1},
               {"space", space.source},
               {"space_file", opt_.space_path.string()},
               {"task", opt_.task},
               {"data_dir", (ec ? data : abs).string()},
               {"arms", arms_},
               {"seeds", seeds},
               {"sampler", opt_.sampler},
               {"n_configs", n_configs_},
               {"n_trials", planned_trials_},
               {"seed", opt_.seed}};
  if (tpe_) meta["tpe"] = tpe_->to_json();
  if (opt_.folds > 1) meta["folds"] = opt_.folds;  // absent otherwise: older sweeps still resume
  return meta;
}

// One load here computes and caches the features, so the workers only read the cache.
void Coordinator::warm_features(const SearchSpace& space, const json& meta) {
  TaskSpec spec;
  spec.name = meta.at("task");
  spec.data_dir = meta.at("data_dir").get<std::string>();
  const RunConfig base = parse_run_config(space.base, "base");
  spec.front_end = base.front_end;
  spec.augment = base.augment;
  spec.cache_dir = opt_.cache_dir;
  spec.seed = 1;
  spec.quiet = opt_.quiet;
  const TaskData d = load_task(spec);
  if (!opt_.quiet)
    fmt::print(stderr, "task {}: {} classes, {} train / {} val / {} test\n", d.name,
               d.classes.size(), d.train.size(), d.val.size(), d.test.size());
  // Unusable folds (too many for the speakers, or augmentation variants) fail here, once, rather
  // than in every worker.
  if (const int k = meta.value("folds", 1); k > 1) make_folds(d, k);
}

pid_t Coordinator::spawn(const std::string& url, const json& meta) {
  std::vector<std::string> args = {"dkws",
                                   "sweep",
                                   "worker",
                                   "--storage",
                                   url,
                                   "--out",
                                   opt_.out_dir.string(),
                                   "--data",
                                   meta.at("data_dir").get<std::string>(),
                                   "--cache",
                                   opt_.cache_dir.string(),
                                   "--lease-seconds",
                                   fmt::format("{}", opt_.lease_seconds),
                                   "--max-attempts",
                                   std::to_string(opt_.max_attempts),
                                   "--round-wait",
                                   "0",
                                   "-q"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  // The binary's real path rather than /proc/self/exe, so `ps` shows workers as dkws, not exe;
  // but once the file has been replaced (a rebuild during the sweep), only /proc/self/exe still
  // reaches the running binary.
  char self[4096] = {};
  const ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
  std::string exe = len > 0 ? std::string(self, size_t(len)) : "";
  if (exe.empty() || exe.ends_with(" (deleted)") || access(exe.c_str(), X_OK) != 0)
    exe = "/proc/self/exe";
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) throw Error("sweep: cannot start a worker process (fork failed)");
  if (pid == 0) {
    // A worker outlives no coordinator: if it dies, the worker stops and requeues its trial.
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(130);
    execv(exe.c_str(), argv.data());
    _exit(127);
  }
  return pid;
}

// Starts the workers and waits until they have all exited (the queue is empty, or a stop signal);
// returns the last worker error, or "".
std::string Coordinator::run_workers(Storage& store, const std::string& url, const json& meta) {
  std::map<pid_t, bool> workers;
  Counts n = store.counts();
  const int cores = int(std::max(1u, std::thread::hardware_concurrency()));
  const size_t jobs = std::min(size_t(opt_.jobs > 0 ? opt_.jobs : cores), n.queued + n.running);
  for (size_t i = 0; i < jobs && !g_stop; ++i) workers[spawn(url, meta)] = true;
  // Workers killed from outside are replaced while work remains, a bounded number of times.
  size_t respawns_left = 2 * workers.size() + 8;
  bool stopping = false;
  size_t last_finished = n.done + n.failed;
  std::string worker_error;  // the last worker that exited with an error
  while (!workers.empty()) {
    if (g_stop && !stopping) {
      stopping = true;
      for (auto& [pid, _] : workers) kill(pid, SIGTERM);
    }
    int status = 0;
    const pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid > 0 && workers.erase(pid)) {
      const bool killed = WIFSIGNALED(status);
      const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      if (code != 0 && code != 130 && !killed)
        worker_error = fmt::format("worker {} exited with status {}", pid, code);
      n = store.counts();
      if (killed && !stopping && n.queued + n.running > 0 && respawns_left > 0) {
        --respawns_left;
        workers[spawn(url, meta)] = true;
      }
      continue;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    n = store.counts();
    if (n.done + n.failed != last_finished) {
      last_finished = n.done + n.failed;
      write_trials_json(store, opt_.out_dir);  // after each finished trial
      best_ = best_per_arm(store.trials(), arms_);
    }
    show(n, false);
  }
  return worker_error;
}

// Proposes the next TPE round from every finished trial (all earlier rounds are complete) and
// adds its trials; false when the sweep already holds all its configs.
bool Coordinator::add_tpe_round(const SearchSpace& space, Storage& store) {
  const std::vector<TrialRow> rows = store.trials();
  std::map<int, json> configs;
  for (const TrialRow& r : rows) configs.emplace(r.spec.config_id, r.spec.hparams);
  const size_t have = configs.empty() ? 0 : size_t(configs.rbegin()->first);
  if (have >= n_configs_) return false;
  std::vector<json> existing;
  for (auto& [id, h] : configs) existing.push_back(h);
  const int round = tpe_round_of(int(have) + 1, *tpe_);
  const std::vector<TpeObservation> obs = tpe_observations(rows);
  const std::vector<json> proposed = tpe_propose(
      space, obs, existing, std::min(tpe_->batch, n_configs_ - have), opt_.seed, round, *tpe_);
  std::vector<TrialSpec> trials = make_trials(proposed, arms_, opt_.seeds);
  for (TrialSpec& t : trials) t.config_id += int(have);
  store.add_trials(trials);
  if (!opt_.quiet)
    fmt::print(stderr, "{}tpe round {}: {} proposed from {} finished configs\n",
               tty_ ? "\r\033[K" : "", round,
               proposed.size() == 1
                   ? fmt::format("config {}", have + 1)
                   : fmt::format("configs {}-{}", have + 1, have + proposed.size()),
               obs.size());
  return true;
}

void Coordinator::show(const Counts& n, bool force) {
  if (!tty_) return;
  const auto now = Clock::now();
  if (!force && now - last_line_ < std::chrono::milliseconds(500)) return;
  last_line_ = now;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const size_t finished = n.done + n.failed;
  const size_t here = finished - std::min(finished, finished_at_start_);
  // TPE rounds not yet proposed count as remaining work too.
  const size_t total = std::max(n.total(), planned_trials_);
  const std::string eta =
      here ? clock_text(elapsed / double(here) * double(total - finished)) : "--:--";
  fmt::print(stderr, "\r\033[Ksweep {}/{} done, {} running, {} failed  {} ETA {}  best test@val:{}",
             n.done, total, n.running, n.failed, clock_text(elapsed), eta, best_);
  std::fflush(stderr);
}

int Coordinator::run() {
  tty_ = !opt_.quiet && isatty(fileno(stderr));
  const SearchSpace space = load_space(opt_.space_path);
  std::vector<TrialSpec> trials;
  const json meta = make_meta(space, trials);

  fs::create_directories(opt_.out_dir / "trials");
  const std::string url =
      opt_.storage.empty() ? (opt_.out_dir / "sweep.db").string() : opt_.storage;
  auto store = open_storage(url);
  const json stored = store->metadata();
  if (stored.is_null()) {
    store->create(meta, trials);
  } else {
    check_same_sweep(stored, meta, store->describe());
  }
  Counts n = store->counts();
  finished_at_start_ = n.done + n.failed;
  if (!opt_.quiet)
    fmt::print(
        stderr, "sweep {}: {} configs x {} arms x {} seeds = {} trials{}{}\n", store->describe(),
        n_configs_, arms_.size(), opt_.seeds, planned_trials_,
        tpe_ ? fmt::format(" (tpe: {} random configs, then rounds of {})", tpe_->startup,
                           tpe_->batch)
             : "",
        finished_at_start_ ? fmt::format(" (resuming: {} finished)", finished_at_start_) : "");
  write_trials_json(*store, opt_.out_dir);

  struct sigaction sa {};
  sa.sa_handler = on_stop;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  // One pass per TPE round (a single pass for random and grid).
  bool warmed = false;
  std::string worker_error;
  for (;;) {
    n = store->counts();
    if (n.queued + n.running > 0 && !g_stop) {
      if (!warmed) warm_features(space, meta), warmed = true;
      const std::string e = run_workers(*store, url, meta);
      if (!e.empty()) worker_error = e;
    }
    n = store->counts();
    if (g_stop || n.queued + n.running > 0 || !tpe_ || !add_tpe_round(space, *store)) break;
  }
  n = store->counts();
  write_trials_json(*store, opt_.out_dir);
  best_ = best_per_arm(store->trials(), arms_);
  if (tty_) {
    show(n, true);
    fmt::print(stderr, "\n");
  }
  const double elapsed = std::chrono::duration<double>(Clock::now() - start_).count();
  if (g_stop) {
    fmt::print(stderr,
               "dkws: sweep stopped: {} of {} trials finished, the rest are queued; run the same "
               "command again to resume\n",
               n.done + n.failed, std::max(n.total(), planned_trials_));
    return 130;
  }
  if (n.queued + n.running > 0)
    throw Error(
        fmt::format("sweep: workers ended with {} trials unfinished ({}); run the same "
                    "command again to resume",
                    n.queued + n.running, worker_error.empty() ? "see above" : worker_error));
  fmt::print("sweep: {} trials, {} done, {} failed, {} this run; best test@val per arm:{}\n",
             n.total(), n.done, n.failed, clock_text(elapsed), best_);
  fmt::print("wrote {}\n", (opt_.out_dir / "trials.json").string());
  return 0;
}

}  // namespace

int run_sweep(const SweepOptions& opt) {
  Coordinator c(opt);
  return c.run();
}

}  // namespace dkws::sweep
