// Sweep fault tests on a tiny synthetic task: a worker SIGKILLed mid-trial (SQLite and
// PostgreSQL), Ctrl-C and resume, and clear one-line errors for a corrupt or locked SQLite file
// and an unreachable PostgreSQL server.
#include <sqlite3.h>

#include <set>

#include <nlohmann/json.hpp>

#include "dkws/sweep_storage.hpp"
#include "sweep_test_util.hpp"

namespace {

using namespace dkws::testing;
using dkws::sweep::open_storage;
using dkws::sweep::TrialRow;
using nlohmann::json;

class SweepFaults : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    shared_ = new TempDir;
    make_tone_dataset(*shared_ / "data");
    write_tiny_space(*shared_ / "space.json", 1000);
  }
  static void TearDownTestSuite() {
    delete shared_;
    shared_ = nullptr;
  }
  // The sweep command line: 3 configs x arms x 1 seed on the tone data.
  std::vector<std::string> sweep_args(const fs::path& out, const std::string& storage = "",
                                      const std::string& arms = "none,gd") const {
    auto a = tone_sweep_args(shared_->path(), out, arms,
                             {"--configs", "3", "-j", "2", "--lease-seconds", "4"});
    if (!storage.empty()) a.insert(a.end(), {"--storage", storage});
    return a;
  }
  static TempDir* shared_;
};
TempDir* SweepFaults::shared_ = nullptr;

// Waits until `pred(rows)` holds; false after `seconds`.
template <class Pred>
bool wait_for_rows(const std::string& url, double seconds, Pred pred) {
  return wait_until(seconds, [&] {
    try {
      auto store = open_storage(url);
      return !store->metadata().is_null() && pred(store->trials());
    } catch (const std::exception&) {
      return false;  // not created yet
    }
  });
}

// Every trial done exactly once, with a full result and a complete trial folder.
void expect_complete(const std::string& url, const fs::path& out, size_t n_trials) {
  auto store = open_storage(url);
  const auto rows = store->trials();
  ASSERT_EQ(rows.size(), n_trials);
  for (const TrialRow& r : rows) {
    EXPECT_EQ(r.status, "done") << "trial " << r.spec.trial_id << ": " << r.error;
    ASSERT_TRUE(r.result.is_object()) << "trial " << r.spec.trial_id << " has no result";
    for (const char* k : {"val_acc", "test_acc", "params", "epochs", "run_dir"})
      EXPECT_TRUE(r.result.contains(k)) << "trial " << r.spec.trial_id << " result lacks " << k;
    const fs::path dir = out / "trials" / std::to_string(r.spec.trial_id);
    for (const char* f : {"metrics.json", "history.csv", "training_graph.svg", "model.json"})
      EXPECT_TRUE(fs::exists(dir / f)) << dir / f;
    const json m = json::parse(std::ifstream(dir / "metrics.json"));
    EXPECT_EQ(m["trial"]["trial_id"], r.spec.trial_id);
    EXPECT_DOUBLE_EQ(m["test_accuracy"].get<double>(), r.result["test_acc"].get<double>())
        << "trial folder and row disagree for trial " << r.spec.trial_id;
  }
  for (const auto& e : fs::directory_iterator(out / "trials"))
    EXPECT_EQ(e.path().filename().string().rfind(".tmp", 0), std::string::npos)
        << "leftover partial folder " << e.path();
  // trials.json lists each trial once.
  const json t = json::parse(std::ifstream(out / "trials.json"));
  std::set<int64_t> ids;
  for (const auto& x : t["trials"]) EXPECT_TRUE(ids.insert(x["trial_id"].get<int64_t>()).second);
  EXPECT_EQ(ids.size(), n_trials);
}

// Kills one worker while its trial is running; the sweep must still record every trial once.
// `delete_first`, when given, is removed just before the kill (the binary the sweep runs).
void kill_one_worker_mid_trial(BackgroundCli& sweep, const std::string& url, const fs::path& out,
                               const fs::path& delete_first = {}) {
  int64_t victim = 0;
  pid_t victim_pid = 0;
  ASSERT_TRUE(wait_for_rows(url, 60,
                            [&](const std::vector<TrialRow>& rows) {
                              for (const auto& r : rows)
                                if (r.status == "running" && r.started > 0 &&
                                    dkws::sweep::now_seconds() - r.started >
                                        0.2) {  // inside training, not at the claim
                                  victim = r.spec.trial_id;
                                  victim_pid = std::stoi(r.worker.substr(r.worker.rfind(':') + 1));
                                  return true;
                                }
                              return false;
                            }))
      << "no trial started running:\n"
      << sweep.output();
  if (!delete_first.empty()) {
    ASSERT_TRUE(fs::remove(delete_first));
  }
  ASSERT_EQ(kill(victim_pid, SIGKILL), 0);
  // The trial the dead worker held: its row still says running under that worker, so the kill
  // landed mid-trial (if the chosen trial finished just before, the worker was in its next one).
  {
    auto store = open_storage(url);
    victim = 0;
    for (const auto& r : store->trials())
      if (r.status == "running" &&
          r.worker.substr(r.worker.rfind(':') + 1) == std::to_string(victim_pid))
        victim = r.spec.trial_id;
    ASSERT_NE(victim, 0) << "the killed worker held no running trial";
  }
  ASSERT_TRUE(sweep.wait(240)) << "sweep did not finish:\n" << sweep.output();
  EXPECT_EQ(sweep.exit_code, 0) << sweep.output();
  expect_complete(url, out, 6);
  auto store = open_storage(url);
  for (const auto& r : store->trials())
    EXPECT_EQ(r.attempts, r.spec.trial_id == victim ? 2 : 1) << "trial " << r.spec.trial_id;
}

TEST_F(SweepFaults, SqliteWorkerKilledMidTrialIsRerunAndRecordedOnce) {
  TempDir out;
  BackgroundCli sweep(sweep_args(out.path()), out / "log.txt");
  kill_one_worker_mid_trial(sweep, (out / "sweep.db").string(), out.path());
}

// A rebuild replaces the binary a running sweep was started from; a worker started after that
// must still run the coordinator's own binary, not fail to start.
TEST_F(SweepFaults, WorkerRestartedAfterItsBinaryWasReplaced) {
  TempDir out;
  const fs::path binary = out / "dkws-copy";
  fs::copy_file(DKWS_CLI_PATH, binary);
  fs::permissions(binary, fs::perms::owner_exec, fs::perm_options::add);
  // One worker, so the sweep finishes only if its replacement starts.
  std::vector<std::string> args = sweep_args(out.path());
  *(std::find(args.begin(), args.end(), "-j") + 1) = "1";
  BackgroundCli sweep(args, out / "log.txt", binary);
  kill_one_worker_mid_trial(sweep, (out / "sweep.db").string(), out.path(), binary);
}

TEST_F(SweepFaults, PostgresWorkerKilledMidTrialIsRerunAndRecordedOnce) {
  if (PgServer::bin_dir().empty())
    GTEST_SKIP() << "PostgreSQL binaries not found under /usr/lib/postgresql/*/bin (apt-get "
                    "install postgresql)";
  PgServer pg;
  ASSERT_TRUE(pg.started()) << pg.log();
  const std::string url = pg.create_db("fault");
  ASSERT_FALSE(url.empty());
  TempDir out;
  BackgroundCli sweep(sweep_args(out.path(), url), out / "log.txt");
  kill_one_worker_mid_trial(sweep, url, out.path());
  EXPECT_FALSE(fs::exists(out / "sweep.db")) << "the PostgreSQL sweep wrote an SQLite file";
}

TEST_F(SweepFaults, CtrlCStopsCleanlyAndRerunResumesWithNothingLostOrRunTwice) {
  TempDir out;
  const std::string url = (out / "sweep.db").string();
  const auto args = sweep_args(out.path(), "", "none,restart");
  std::map<int64_t, double> finished_before;  // trial -> finish time
  {
    BackgroundCli sweep(args, out / "log1.txt");
    ASSERT_TRUE(wait_for_rows(url, 60, [](const std::vector<TrialRow>& rows) {
      size_t done = 0, running = 0;
      for (const auto& r : rows) {
        done += r.status == "done";
        running += r.status == "running";
      }
      return done >= 1 && running >= 1;
    }));
    ASSERT_EQ(kill(sweep.pid, SIGINT), 0);
    ASSERT_TRUE(sweep.wait(60));
    EXPECT_NE(sweep.exit_code, 0);
    const std::string msg = sweep.output();
    EXPECT_NE(msg.find("run the same command again to resume"), std::string::npos) << msg;
    EXPECT_EQ(std::count(msg.begin(), msg.end(), '\n'), 1) << "not one line:\n" << msg;
    auto store = open_storage(url);
    size_t queued = 0;
    for (const auto& r : store->trials()) {
      EXPECT_NE(r.status, "running") << "trial " << r.spec.trial_id << " left running";
      if (r.status == "done") {
        ASSERT_TRUE(r.result.is_object());
        finished_before[r.spec.trial_id] = r.finished;
      }
      if (r.status == "queued") {
        ++queued;
        EXPECT_EQ(r.attempts, 0) << "an interrupted trial counts as no attempt";
      }
    }
    EXPECT_GT(queued, 0u) << "nothing was left to resume";
  }
  // Different arguments on the same folder are refused.
  auto two_seeds = args;
  *(std::find(two_seeds.begin(), two_seeds.end(), "--seeds") + 1) = "2";
  const auto bad = run_cli(shell_args(two_seeds));
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.output.find("holds a different sweep (seeds"), std::string::npos) << bad.output;

  BackgroundCli again(args, out / "log2.txt");
  ASSERT_TRUE(again.wait(240)) << again.output();
  EXPECT_EQ(again.exit_code, 0) << again.output();
  expect_complete(url, out.path(), 6);
  auto store = open_storage(url);
  for (const auto& r : store->trials()) {
    EXPECT_EQ(r.attempts, 1) << "trial " << r.spec.trial_id;
    if (finished_before.count(r.spec.trial_id)) {
      EXPECT_EQ(r.finished, finished_before[r.spec.trial_id])
          << "trial " << r.spec.trial_id << " ran again after the resume";
    }
  }
}

// One line, naming the culprit, non-zero exit.
void expect_one_line_error(const CommandResult& r, const std::string& must_contain) {
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output.rfind("dkws: error: ", 0), 0u) << r.output;
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << "not one line:\n" << r.output;
  EXPECT_NE(r.output.find(must_contain), std::string::npos) << r.output;
}

TEST_F(SweepFaults, CorruptSqliteFileIsAClearError) {
  TempDir out;
  std::string junk;
  for (int i = 0; i < 400; ++i) junk += "this is not an SQLite database. ";
  write_file(out / "sweep.db", junk);
  const auto r = run_cli(shell_args(sweep_args(out.path())));
  expect_one_line_error(r, "sweep.db: not a usable SQLite sweep database");
}

TEST_F(SweepFaults, LockedSqliteFileIsAClearError) {
  TempDir out;
  const std::string db = (out / "sweep.db").string();
  sqlite3* holder = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &holder), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(holder, "CREATE TABLE x (a); BEGIN EXCLUSIVE; INSERT INTO x VALUES (1);",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  const auto start = std::chrono::steady_clock::now();
  const auto r =
      run_cli(shell_args(sweep_args(out.path(), "sqlite:" + db + "?busy_timeout_ms=300")));
  const double took =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  sqlite3_exec(holder, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(holder);
  expect_one_line_error(r, "sweep.db: database is locked by another process");
  EXPECT_LT(took, 20.0) << "the busy timeout did not bound the wait";
}

TEST_F(SweepFaults, UnreachablePostgresIsAClearError) {
  TempDir out;
  const int port = free_port();  // nothing listens there
  const auto r = run_cli(shell_args(
      sweep_args(out.path(), "postgresql://dkws:secret@127.0.0.1:" + std::to_string(port) +
                                 "/nowhere?connect_timeout=3")));
  expect_one_line_error(r, "cannot connect to PostgreSQL");
  EXPECT_EQ(r.output.find("secret"), std::string::npos) << "password leaked: " << r.output;
  EXPECT_NE(r.output.find("dkws:***@127.0.0.1"), std::string::npos) << r.output;
}

}  // namespace
