// PostgreSQL storage through libpq, for workers on many machines. Lease times come from the
// server's clock, so hosts with skewed clocks still agree on when a lease has expired. A claim
// picks its row with FOR UPDATE SKIP LOCKED: concurrent claimers never wait on, or take, the same
// trial. One database holds one sweep.
#include <libpq-fe.h>

#include <fmt/core.h>

#include "dkws/error.hpp"
#include "sweep/storage_internal.hpp"

namespace dkws::sweep {
namespace {

using nlohmann::json;

#define NOW_E "extract(epoch from clock_timestamp())::double precision"

// postgresql://user:secret@host/db -> postgresql://user:***@host/db
std::string mask_password(const std::string& url) {
  const auto scheme = url.find("://");
  const auto at = url.find('@');
  if (scheme == std::string::npos || at == std::string::npos) return url;
  const auto colon = url.find(':', scheme + 3);
  if (colon == std::string::npos || colon > at) return url;
  return url.substr(0, colon + 1) + "***" + url.substr(at);
}

std::string first_line(const char* msg) {
  std::string s = msg ? msg : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  for (auto& c : s)
    if (c == '\n') c = ' ';
  return s;
}

// Owns a PGresult; holds the statement's parameters as text.
class Result {
 public:
  explicit Result(PGresult* r) : r_(r) {}
  ~Result() { PQclear(r_); }
  Result(const Result&) = delete;
  int rows() const { return PQntuples(r_); }
  std::string text(int row, int col) const { return PQgetvalue(r_, row, col); }
  bool null(int row, int col) const { return PQgetisnull(r_, row, col); }
  double real(int row, int col) const { return std::stod(text(row, col)); }
  int64_t integer(int row, int col) const { return std::stoll(text(row, col)); }
  long affected() const { return std::atol(PQcmdTuples(r_)); }

 private:
  PGresult* r_;
};

class PgStorage final : public Storage {
 public:
  explicit PgStorage(const std::string& url) : where_(mask_password(url)) {
    // A URL's own connect_timeout wins over this default (later keywords override earlier).
    const char* keys[] = {"connect_timeout", "application_name", "dbname", nullptr};
    const char* values[] = {"5", "dkws-sweep", url.c_str(), nullptr};
    conn_ = PQconnectdbParams(keys, values, 1);
    // A constructor that throws runs no destructor: the connection (made even when it failed)
    // is finished here, or every failed attempt leaks it.
    try {
      if (PQstatus(conn_) != CONNECTION_OK)
        throw Error(fmt::format("{}: cannot connect to PostgreSQL: {}", where_,
                                first_line(PQerrorMessage(conn_))));
      exec("SET client_min_messages = warning");
      // Two workers creating the schema at once would collide in the catalog: serialise them.
      exec("BEGIN");
      exec("SELECT pg_advisory_xact_lock(726349001)");
      exec(schema_sql("BIGINT", "DOUBLE PRECISION").c_str());
      exec("COMMIT");
    } catch (...) {
      PQfinish(conn_);
      throw;
    }
  }
  ~PgStorage() override { PQfinish(conn_); }

  std::string describe() const override { return where_; }

  json metadata() override {
    Result r = query("SELECT meta FROM sweep WHERE id = 1", {});
    return r.rows() ? json::parse(r.text(0, 0)) : json();
  }

  void create(const json& meta, const std::vector<TrialSpec>& trials) override {
    exec("BEGIN");
    try {
      if (query("SELECT 1 FROM sweep", {}).rows())
        throw Error(fmt::format("{}: already holds a sweep", where_));
      query("INSERT INTO sweep (id, meta, created) VALUES (1, $1, " NOW_E ")", {meta.dump()});
      insert_trials(trials);
      exec("COMMIT");
    } catch (...) {
      PQclear(PQexec(conn_, "ROLLBACK"));
      throw;
    }
  }

  void add_trials(const std::vector<TrialSpec>& trials) override {
    exec("BEGIN");
    try {
      // The sweep row is locked, so a second coordinator adding the same round waits, then fails
      // the config check instead of inserting it twice.
      if (!query("SELECT 1 FROM sweep WHERE id = 1 FOR UPDATE", {}).rows())
        throw Error(fmt::format("{}: holds no sweep to add trials to", where_));
      Result top =
          query("SELECT COALESCE(MAX(trial_id), 0), COALESCE(MAX(config_id), 0) FROM trials", {});
      check_new_configs(trials, top.integer(0, 1), where_);
      insert_trials(numbered_after(trials, top.integer(0, 0)));
      exec("COMMIT");
    } catch (...) {
      PQclear(PQexec(conn_, "ROLLBACK"));
      throw;
    }
  }

  std::optional<Claim> claim(const std::string& worker, double lease, int max_attempts) override {
    exec("BEGIN");
    try {
      query("UPDATE trials SET status = 'failed', finished = " NOW_E
            ", error = 'worker died ' || attempts || ' times while running it (last: ' || worker "
            "|| ')' WHERE status = 'running' AND lease_expiry < " NOW_E " AND attempts >= $1::int",
            {std::to_string(max_attempts)});
      const std::string token = new_token();
      Result r = query(
          "UPDATE trials SET status = 'running', worker = $1, lease_token = $2, "
          "lease_expiry = " NOW_E " + $3::double precision, heartbeat = " NOW_E
          ", attempts = attempts + 1, started = " NOW_E
          " WHERE trial_id = (SELECT trial_id FROM trials WHERE status = 'queued' OR "
          "(status = 'running' AND lease_expiry < " NOW_E
          ") ORDER BY trial_id LIMIT 1 FOR UPDATE SKIP LOCKED) "
          "RETURNING trial_id, config_id, arm, seed, hparams, attempts",
          {worker, token, fmt::format("{}", lease)});
      exec("COMMIT");
      if (r.rows() == 0) return std::nullopt;
      Claim c;
      c.spec = {r.integer(0, 0), int(r.integer(0, 1)), r.text(0, 2), int(r.integer(0, 3)),
                json::parse(r.text(0, 4))};
      c.attempts = int(r.integer(0, 5));
      c.token = token;
      return c;
    } catch (...) {
      PQclear(PQexec(conn_, "ROLLBACK"));
      throw;
    }
  }

  bool heartbeat(int64_t id, const std::string& token, double lease) override {
    Result r = query("UPDATE trials SET lease_expiry = " NOW_E
                     " + $1::double precision, "
                     "heartbeat = " NOW_E
                     " WHERE trial_id = $2::bigint AND lease_token = $3 AND status = 'running'",
                     {fmt::format("{}", lease), std::to_string(id), token});
    return r.affected() == 1;
  }

  bool finish(int64_t id, const std::string& token, bool ok, const json& result,
              const std::string& error) override {
    // A single UPDATE is its own transaction: the result appears whole or not at all.
    Result r =
        query_nullable("UPDATE trials SET status = $1, result = $2, error = $3, finished = " NOW_E
                       ", lease_expiry = 0 WHERE trial_id = $4::bigint AND lease_token = $5 AND "
                       "status = 'running'",
                       {ok ? "done" : "failed", ok ? result.dump() : std::string(), error,
                        std::to_string(id), token},
                       /*null_param=*/ok ? -1 : 1);
    return r.affected() == 1;
  }

  void release(int64_t id, const std::string& token) override {
    query(
        "UPDATE trials SET status = 'queued', lease_token = '', lease_expiry = 0, "
        "attempts = attempts - 1 WHERE trial_id = $1::bigint AND lease_token = $2 AND "
        "status = 'running'",
        {std::to_string(id), token});
  }

  Counts counts() override {
    Counts c;
    Result r = query("SELECT status, COUNT(*) FROM trials GROUP BY status", {});
    for (int i = 0; i < r.rows(); ++i) set_count(c, r.text(i, 0), size_t(r.integer(i, 1)));
    return c;
  }

  std::vector<TrialRow> trials() override {
    Result r = query(
        "SELECT trial_id, config_id, arm, seed, hparams, status, worker, lease_token, "
        "lease_expiry, heartbeat, attempts, result, error, created, started, finished "
        "FROM trials ORDER BY trial_id",
        {});
    std::vector<TrialRow> out;
    for (int i = 0; i < r.rows(); ++i) {
      TrialRow t;
      t.spec = {r.integer(i, 0), int(r.integer(i, 1)), r.text(i, 2), int(r.integer(i, 3)),
                json::parse(r.text(i, 4))};
      t.status = r.text(i, 5);
      t.worker = r.text(i, 6);
      t.lease_token = r.text(i, 7);
      t.lease_expiry = r.real(i, 8);
      t.heartbeat = r.real(i, 9);
      t.attempts = int(r.integer(i, 10));
      t.result = r.null(i, 11) ? json() : json::parse(r.text(i, 11));
      t.error = r.text(i, 12);
      t.created = r.real(i, 13);
      t.started = r.real(i, 14);
      t.finished = r.real(i, 15);
      out.push_back(std::move(t));
    }
    return out;
  }

 private:
  // Inside a transaction: the trials as queued rows.
  void insert_trials(const std::vector<TrialSpec>& trials) {
    // One multi-row INSERT per chunk: a round trip per trial is slow over a network.
    for (size_t start = 0; start < trials.size(); start += 200) {
      std::string sql =
          "INSERT INTO trials (trial_id, config_id, arm, seed, hparams, status, created) VALUES ";
      std::vector<std::string> params;
      for (size_t i = start; i < std::min(trials.size(), start + 200); ++i) {
        const TrialSpec& t = trials[i];
        const size_t b = params.size();
        sql += fmt::format("{}(${}::bigint, ${}::int, ${}, ${}::int, ${}, 'queued', " NOW_E ")",
                           i == start ? "" : ",", b + 1, b + 2, b + 3, b + 4, b + 5);
        params.insert(params.end(), {std::to_string(t.trial_id), std::to_string(t.config_id), t.arm,
                                     std::to_string(t.seed), t.hparams.dump()});
      }
      query(sql, params);
    }
  }

  void exec(const char* sql) {
    PGresult* r = PQexec(conn_, sql);
    const auto st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
      const std::string msg = first_line(PQerrorMessage(conn_));
      PQclear(r);
      throw Error(fmt::format("{}: {}", where_, msg));
    }
    PQclear(r);
  }
  Result query(const std::string& sql, const std::vector<std::string>& params) {
    return query_nullable(sql, params, -1);
  }
  // Parameter `null_param` (index, or -1) is sent as SQL NULL.
  Result query_nullable(const std::string& sql, const std::vector<std::string>& params,
                        int null_param) {
    std::vector<const char*> values;
    for (size_t i = 0; i < params.size(); ++i)
      values.push_back(int(i) == null_param ? nullptr : params[i].c_str());
    PGresult* r = PQexecParams(conn_, sql.c_str(), int(values.size()), nullptr, values.data(),
                               nullptr, nullptr, 0);
    const auto st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
      const std::string msg = first_line(PQerrorMessage(conn_));
      PQclear(r);
      if (PQstatus(conn_) != CONNECTION_OK)
        throw Error(fmt::format("{}: lost the connection to PostgreSQL: {}", where_, msg));
      throw Error(fmt::format("{}: {}", where_, msg));
    }
    return Result(r);
  }

  std::string where_;
  PGconn* conn_ = nullptr;
};

}  // namespace

std::unique_ptr<Storage> open_postgres(const std::string& url) {
  return std::make_unique<PgStorage>(url);
}

}  // namespace dkws::sweep
