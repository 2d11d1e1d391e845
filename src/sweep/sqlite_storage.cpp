// SQLite storage: one file beside the results, in WAL mode so the progress reader never blocks the
// workers. Writes use BEGIN IMMEDIATE, so two workers claiming at once serialise on the write lock
// (waiting up to the busy timeout) instead of failing half way.
#include <sqlite3.h>

#include <chrono>
#include <thread>

#include <fmt/core.h>

#include "dkws/error.hpp"
#include "sweep/storage_internal.hpp"

namespace dkws::sweep {
namespace {

using nlohmann::json;

class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql, const std::string& where) : db_(db), where_(where) {
    if (sqlite3_prepare_v2(db, sql, -1, &s_, nullptr) != SQLITE_OK) fail();
  }
  ~Stmt() { sqlite3_finalize(s_); }
  Stmt& bind(int i, const std::string& v) {
    sqlite3_bind_text(s_, i, v.c_str(), int(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& bind(int i, double v) {
    sqlite3_bind_double(s_, i, v);
    return *this;
  }
  Stmt& bind(int i, int64_t v) {
    sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  void reset() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  bool step() {  // true while a row is available
    const int rc = sqlite3_step(s_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    fail();
    return false;
  }
  std::string text(int i) const {
    const auto* p = sqlite3_column_text(s_, i);
    return p ? reinterpret_cast<const char*>(p) : "";
  }
  bool null(int i) const { return sqlite3_column_type(s_, i) == SQLITE_NULL; }
  double real(int i) const { return sqlite3_column_double(s_, i); }
  int64_t integer(int i) const { return sqlite3_column_int64(s_, i); }

 private:
  [[noreturn]] void fail() { throw_sqlite(db_, where_); }
  sqlite3* db_;
  sqlite3_stmt* s_ = nullptr;
  std::string where_;
};

class SqliteStorage final : public Storage {
 public:
  SqliteStorage(const std::string& path, int busy_ms) : path_(path) {
    const int rc =
        sqlite3_open_v2(path.c_str(), &db_,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    // A constructor that throws runs no destructor: the handle (returned even when the open
    // failed) is closed here, or every failed open leaks it.
    try {
      if (rc != SQLITE_OK) throw_sqlite(db_, path_);
      sqlite3_busy_timeout(db_, busy_ms);
      exec("PRAGMA journal_mode=WAL");
      exec("PRAGMA synchronous=NORMAL");
      // The schema is created (or checked) under the write lock, so a locked file fails here,
      // up front, with the busy-timeout message.
      Tx tx(*this);
      exec(schema_sql("INTEGER", "REAL").c_str());  // INTEGER PRIMARY KEY: the rowid itself
      tx.commit();
    } catch (...) {
      sqlite3_close_v2(db_);
      throw;
    }
  }
  ~SqliteStorage() override { sqlite3_close_v2(db_); }

  std::string describe() const override { return path_; }

  json metadata() override {
    Stmt s(db_, "SELECT meta FROM sweep WHERE id = 1", path_);
    if (!s.step()) return nullptr;
    return json::parse(s.text(0));
  }

  void create(const json& meta, const std::vector<TrialSpec>& trials) override {
    Tx tx(*this);
    {
      Stmt probe(db_, "SELECT COUNT(*) FROM sweep", path_);
      probe.step();
      if (probe.integer(0) != 0) throw Error(fmt::format("{}: already holds a sweep", path_));
    }
    const double now = now_seconds();
    Stmt(db_, "INSERT INTO sweep (id, meta, created) VALUES (1, ?, ?)", path_)
        .bind(1, meta.dump())
        .bind(2, now)
        .step();
    insert_trials(trials, now);
    tx.commit();
  }

  void add_trials(const std::vector<TrialSpec>& trials) override {
    Tx tx(*this);
    {
      Stmt probe(db_, "SELECT COUNT(*) FROM sweep", path_);
      probe.step();
      if (probe.integer(0) == 0)
        throw Error(fmt::format("{}: holds no sweep to add trials to", path_));
    }
    int64_t max_trial = 0, max_config = 0;
    {
      Stmt top(db_, "SELECT COALESCE(MAX(trial_id), 0), COALESCE(MAX(config_id), 0) FROM trials",
               path_);
      top.step();
      max_trial = top.integer(0), max_config = top.integer(1);
    }
    check_new_configs(trials, max_config, path_);
    insert_trials(numbered_after(trials, max_trial), now_seconds());
    tx.commit();
  }

  std::optional<Claim> claim(const std::string& worker, double lease, int max_attempts) override {
    Tx tx(*this);
    const double now = now_seconds();
    Stmt(db_,
         "UPDATE trials SET status = 'failed', finished = ?1, error = 'worker died ' || attempts "
         "|| ' times while running it (last: ' || worker || ')' "
         "WHERE status = 'running' AND lease_expiry < ?1 AND attempts >= ?2",
         path_)
        .bind(1, now)
        .bind(2, int64_t(max_attempts))
        .step();
    Stmt pick(db_,
              "SELECT trial_id, config_id, arm, seed, hparams, attempts FROM trials "
              "WHERE status = 'queued' OR (status = 'running' AND lease_expiry < ?) "
              "ORDER BY trial_id LIMIT 1",
              path_);
    pick.bind(1, now);
    if (!pick.step()) {
      tx.commit();
      return std::nullopt;
    }
    Claim c;
    c.spec = {pick.integer(0), int(pick.integer(1)), pick.text(2), int(pick.integer(3)),
              json::parse(pick.text(4))};
    c.attempts = int(pick.integer(5)) + 1;
    c.token = new_token();
    Stmt(db_,
         "UPDATE trials SET status = 'running', worker = ?, lease_token = ?, lease_expiry = ?, "
         "heartbeat = ?, attempts = attempts + 1, started = ? WHERE trial_id = ?",
         path_)
        .bind(1, worker)
        .bind(2, c.token)
        .bind(3, now + lease)
        .bind(4, now)
        .bind(5, now)
        .bind(6, c.spec.trial_id)
        .step();
    tx.commit();
    return c;
  }

  bool heartbeat(int64_t id, const std::string& token, double lease) override {
    Tx tx(*this);
    const double now = now_seconds();
    Stmt(db_,
         "UPDATE trials SET lease_expiry = ?, heartbeat = ? "
         "WHERE trial_id = ? AND lease_token = ? AND status = 'running'",
         path_)
        .bind(1, now + lease)
        .bind(2, now)
        .bind(3, id)
        .bind(4, token)
        .step();
    const bool held = sqlite3_changes(db_) == 1;
    tx.commit();
    return held;
  }

  bool finish(int64_t id, const std::string& token, bool ok, const json& result,
              const std::string& error) override {
    Tx tx(*this);
    Stmt s(db_,
           "UPDATE trials SET status = ?, result = ?, error = ?, finished = ?, lease_expiry = 0 "
           "WHERE trial_id = ? AND lease_token = ? AND status = 'running'",
           path_);
    s.bind(1, std::string(ok ? "done" : "failed")).bind(3, error).bind(4, now_seconds());
    if (ok) s.bind(2, result.dump());
    s.bind(5, id).bind(6, token).step();
    const bool held = sqlite3_changes(db_) == 1;
    tx.commit();
    return held;
  }

  void release(int64_t id, const std::string& token) override {
    Tx tx(*this);
    Stmt(db_,
         "UPDATE trials SET status = 'queued', lease_token = '', lease_expiry = 0, "
         "attempts = attempts - 1 WHERE trial_id = ? AND lease_token = ? AND status = 'running'",
         path_)
        .bind(1, id)
        .bind(2, token)
        .step();
    tx.commit();
  }

  Counts counts() override {
    Counts c;
    Stmt s(db_, "SELECT status, COUNT(*) FROM trials GROUP BY status", path_);
    while (s.step()) set_count(c, s.text(0), size_t(s.integer(1)));
    return c;
  }

  std::vector<TrialRow> trials() override {
    std::vector<TrialRow> out;
    Stmt s(db_,
           "SELECT trial_id, config_id, arm, seed, hparams, status, worker, lease_token, "
           "lease_expiry, heartbeat, attempts, result, error, created, started, finished "
           "FROM trials ORDER BY trial_id",
           path_);
    while (s.step()) {
      TrialRow r;
      r.spec = {s.integer(0), int(s.integer(1)), s.text(2), int(s.integer(3)),
                json::parse(s.text(4))};
      r.status = s.text(5);
      r.worker = s.text(6);
      r.lease_token = s.text(7);
      r.lease_expiry = s.real(8);
      r.heartbeat = s.real(9);
      r.attempts = int(s.integer(10));
      r.result = s.null(11) ? json() : json::parse(s.text(11));
      r.error = s.text(12);
      r.created = s.real(13);
      r.started = s.real(14);
      r.finished = s.real(15);
      out.push_back(std::move(r));
    }
    return out;
  }

 private:
  // BEGIN IMMEDIATE takes the write lock at once; rolled back unless committed.
  class Tx {
   public:
    explicit Tx(SqliteStorage& s) : s_(s) { s_.exec("BEGIN IMMEDIATE"); }
    ~Tx() {
      if (!done_) sqlite3_exec(s_.db_, "ROLLBACK", nullptr, nullptr, nullptr);
    }
    void commit() {
      s_.exec("COMMIT");
      done_ = true;
    }

   private:
    SqliteStorage& s_;
    bool done_ = false;
  };

  // Inside a transaction: the trials as queued rows.
  void insert_trials(const std::vector<TrialSpec>& trials, double now) {
    Stmt ins(db_,
             "INSERT INTO trials (trial_id, config_id, arm, seed, hparams, status, created) "
             "VALUES (?, ?, ?, ?, ?, 'queued', ?)",
             path_);
    for (const TrialSpec& t : trials) {
      ins.bind(1, t.trial_id).bind(2, int64_t(t.config_id)).bind(3, t.arm);
      ins.bind(4, int64_t(t.seed)).bind(5, t.hparams.dump()).bind(6, now).step();
      ins.reset();
    }
  }

  void exec(const char* sql) {
    if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK) throw_sqlite(db_, path_);
  }

  std::string path_;
  sqlite3* db_ = nullptr;
};

}  // namespace

[[noreturn]] void throw_sqlite(sqlite3* db, const std::string& path) {
  const int code = db ? sqlite3_errcode(db) : SQLITE_CANTOPEN;
  const std::string msg = db ? sqlite3_errmsg(db) : "cannot open";
  if (code == SQLITE_NOTADB || code == SQLITE_CORRUPT)
    throw Error(
        fmt::format("{}: not a usable SQLite sweep database ({}); move it away or use "
                    "another --out",
                    path, msg));
  if (code == SQLITE_BUSY || code == SQLITE_LOCKED)
    throw Error(
        fmt::format("{}: database is locked by another process ({}); is another sweep "
                    "or tool holding it?",
                    path, msg));
  throw Error(fmt::format("{}: SQLite error: {}", path, msg));
}

std::unique_ptr<Storage> open_sqlite(const std::string& path, int busy_ms) {
  return std::make_unique<SqliteStorage>(path, busy_ms);
}

}  // namespace dkws::sweep
