// Storage semantics on SQLite and PostgreSQL: claims hand out each trial once, an expired lease
// passes the trial to the next claimant, and only the current lease holder can record a result.
#include <thread>

#include "dkws/error.hpp"
#include "dkws/sweep_storage.hpp"
#include "sweep_test_util.hpp"

namespace {

using namespace dkws::sweep;
using namespace dkws::testing;
using nlohmann::json;

std::vector<TrialSpec> three_trials() {
  return make_trials({json{{"lr", 0.01}}}, {"none", "gd", "cc"}, 1);
}

void check_lease_semantics(const std::string& url) {
  auto a = open_storage(url);
  auto b = open_storage(url);
  EXPECT_TRUE(a->metadata().is_null());
  a->create({{"task", "folder"}}, three_trials());
  EXPECT_THROW(b->create({{"task", "folder"}}, three_trials()), dkws::Error);
  EXPECT_EQ(b->metadata()["task"], "folder");

  // Two claimants get different trials, lowest first.
  auto c1 = a->claim("host:1", 60, 3);
  auto c2 = b->claim("host:2", 0.05, 3);
  ASSERT_TRUE(c1 && c2);
  EXPECT_EQ(c1->spec.trial_id, 1);
  EXPECT_EQ(c2->spec.trial_id, 2);
  EXPECT_EQ(c1->spec.hparams, json({{"lr", 0.01}}));
  EXPECT_TRUE(a->heartbeat(1, c1->token, 60));
  EXPECT_FALSE(a->heartbeat(1, "not-the-token", 60));

  // Trial 2's lease runs out: the next claim takes it over (attempt 2), before trial 3.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  auto c3 = a->claim("host:3", 60, 3);
  ASSERT_TRUE(c3);
  EXPECT_EQ(c3->spec.trial_id, 2);
  EXPECT_EQ(c3->attempts, 2);
  EXPECT_FALSE(b->heartbeat(2, c2->token, 60)) << "the old holder still renews";
  EXPECT_FALSE(b->finish(2, c2->token, true, {{"val_acc", 0.1}}, "")) << "stale token recorded";
  EXPECT_TRUE(a->finish(2, c3->token, true, {{"val_acc", 0.9}}, ""));
  EXPECT_FALSE(a->finish(2, c3->token, true, {{"val_acc", 0.5}}, "")) << "recorded twice";

  // A released trial goes back to the queue without counting the attempt.
  a->release(1, c1->token);
  auto c4 = b->claim("host:4", 60, 3);
  ASSERT_TRUE(c4);
  EXPECT_EQ(c4->spec.trial_id, 1);
  EXPECT_EQ(c4->attempts, 1);
  EXPECT_TRUE(b->finish(1, c4->token, false, nullptr, "model: too many conv blocks"));

  const Counts n = a->counts();
  EXPECT_EQ(n.done, 1u);
  EXPECT_EQ(n.failed, 1u);
  EXPECT_EQ(n.queued, 1u);
  const auto rows = a->trials();
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_DOUBLE_EQ(rows[1].result["val_acc"].get<double>(), 0.9);
  EXPECT_EQ(rows[1].worker, "host:3");
  EXPECT_EQ(rows[0].status, "failed");
  EXPECT_EQ(rows[0].error, "model: too many conv blocks");
  EXPECT_TRUE(rows[0].result.is_null());

  // A trial whose workers keep dying fails after max_attempts.
  auto c5 = a->claim("host:5", 0.01, 1);
  ASSERT_TRUE(c5);
  EXPECT_EQ(c5->spec.trial_id, 3);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(a->claim("host:6", 60, 1));
  const auto last = a->trials()[2];
  EXPECT_EQ(last.status, "failed");
  EXPECT_NE(last.error.find("worker died 1 times"), std::string::npos) << last.error;
}

// add_trials (a TPE round): numbered after the largest trial_id, queued, claimable; a round added
// twice, or to an empty store, is refused and changes nothing.
void check_add_trials(const std::string& url) {
  auto a = open_storage(url);
  EXPECT_THROW(a->add_trials(three_trials()), dkws::Error) << "added to a store with no sweep";
  a->create({{"task", "folder"}}, three_trials());
  auto c = a->claim("host:1", 60, 3);
  ASSERT_TRUE(c);
  EXPECT_TRUE(a->finish(c->spec.trial_id, c->token, true, {{"val_acc", 0.5}}, ""));
  std::vector<TrialSpec> round = make_trials({json{{"lr", 0.02}}, json{{"lr", 0.03}}}, {"none"}, 2);
  for (auto& t : round) t.config_id += 1, t.trial_id = 99;  // ids are the store's to give
  a->add_trials(round);
  const auto rows = open_storage(url)->trials();
  ASSERT_EQ(rows.size(), 7u);
  for (size_t i = 0; i < rows.size(); ++i) EXPECT_EQ(rows[i].spec.trial_id, int64_t(i + 1));
  EXPECT_EQ(rows[0].status, "done") << "adding a round touched a finished trial";
  EXPECT_EQ(rows[3].spec.config_id, 2);
  EXPECT_EQ(rows[3].spec.hparams, json({{"lr", 0.02}}));
  EXPECT_EQ(rows[4].spec.seed, 2);
  EXPECT_EQ(rows[6].spec.config_id, 3);
  EXPECT_EQ(rows[6].status, "queued");
  EXPECT_EQ(a->counts().queued, 6u);
  // The same round again: refused as a whole.
  try {
    a->add_trials(round);
    ADD_FAILURE() << "a round was added twice";
  } catch (const dkws::Error& e) {
    EXPECT_NE(std::string(e.what()).find("config 2 is already stored"), std::string::npos)
        << e.what();
  }
  EXPECT_EQ(a->trials().size(), 7u);
  auto next = a->claim("host:2", 60, 3);
  ASSERT_TRUE(next);
  EXPECT_EQ(next->spec.trial_id, 2);
}

TEST(SweepStorage, SqliteAddTrials) {
  TempDir dir;
  check_add_trials((dir / "s.db").string());
}

TEST(SweepStorage, PostgresAddTrials) {
  if (PgServer::bin_dir().empty())
    GTEST_SKIP() << "PostgreSQL binaries not found under /usr/lib/postgresql/*/bin (apt-get "
                    "install postgresql)";
  PgServer pg;
  ASSERT_TRUE(pg.started()) << pg.log();
  const std::string url = pg.create_db("rounds");
  ASSERT_FALSE(url.empty());
  check_add_trials(url);
}

TEST(SweepStorage, SqliteLeasesAndExactlyOnceFinish) {
  TempDir dir;
  check_lease_semantics((dir / "s.db").string());
}

TEST(SweepStorage, PostgresLeasesAndExactlyOnceFinish) {
  if (PgServer::bin_dir().empty())
    GTEST_SKIP() << "PostgreSQL binaries not found under /usr/lib/postgresql/*/bin (apt-get "
                    "install postgresql)";
  PgServer pg;
  ASSERT_TRUE(pg.started()) << pg.log();
  const std::string url = pg.create_db("leases");
  ASSERT_FALSE(url.empty());
  check_lease_semantics(url);
}

TEST(SweepStorage, UrlForms) {
  TempDir dir;
  EXPECT_NO_THROW(open_storage("sqlite:" + (dir / "a.db").string()));
  EXPECT_NO_THROW(open_storage("sqlite://" + (dir / "b.db").string() + "?busy_timeout_ms=50"));
  EXPECT_TRUE(std::filesystem::exists(dir / "b.db"));
  EXPECT_THROW(open_storage((dir / "c.db").string() + "?timeout=5"), dkws::Error);
  EXPECT_THROW(open_storage("sqlite:"), dkws::Error);
}

// One parser decides for every caller (open_storage, the worker's output folder, `sweep status`)
// which back end a URL names and where an SQLite file is.
TEST(SweepStorage, ParsesUrls) {
  for (const char* pg : {"postgresql://u@h:5432/db", "postgres://h/db"}) {
    const StorageUrl u = parse_storage_url(pg);
    EXPECT_TRUE(u.postgres) << pg;
    EXPECT_EQ(u.sqlite_file, "") << pg;
  }
  for (const char* file : {"runs/s/sweep.db", "sqlite:runs/s/sweep.db", "sqlite://runs/s/sweep.db",
                           "sqlite:runs/s/sweep.db?busy_timeout_ms=50"}) {
    const StorageUrl u = parse_storage_url(file);
    EXPECT_FALSE(u.postgres) << file;
    EXPECT_EQ(u.sqlite_file, "runs/s/sweep.db") << file;
  }
  EXPECT_EQ(parse_storage_url("a.db").busy_timeout_ms, 10000);
  EXPECT_EQ(parse_storage_url("sqlite:a.db?busy_timeout_ms=50").busy_timeout_ms, 50);
  // A scheme that is neither back end is an error, not an SQLite file named after the URL.
  EXPECT_THROW(parse_storage_url("mysql://h/db"), dkws::Error);
  EXPECT_THROW(parse_storage_url("sqlite:?busy_timeout_ms=5"), dkws::Error);
}

}  // namespace
