// Durable sweep storage: one sweep's metadata and its trial queue. SQLite (a file beside the
// results; WAL, busy timeout) or PostgreSQL (workers on many machines). Every state change is one
// transaction: a claim takes a queued trial or one whose lease expired and hands out a fresh lease
// token; a finish writes the result only while the worker still holds that token, so a trial is
// recorded exactly once even when a stalled worker comes back after its lease was taken over.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dkws/sweep.hpp"

namespace dkws::sweep {

struct TrialRow {
  TrialSpec spec;
  std::string status;  // "queued" | "running" | "done" | "failed"
  std::string worker;  // "host:pid" of the last claimant
  std::string lease_token;
  double lease_expiry = 0;  // seconds since the epoch
  double heartbeat = 0;
  int attempts = 0;
  nlohmann::json result;  // null unless done
  std::string error;      // failed: one line
  double created = 0, started = 0, finished = 0;
};

struct Claim {
  TrialSpec spec;
  std::string token;
  int attempts = 0;
};

struct Counts {
  size_t queued = 0, running = 0, done = 0, failed = 0;
  size_t total() const { return queued + running + done + failed; }
};

class Storage {
 public:
  virtual ~Storage() = default;
  virtual std::string describe() const = 0;  // for messages, password masked
  // The sweep's metadata, or null when the store holds no sweep yet.
  virtual nlohmann::json metadata() = 0;
  // Writes metadata and every trial (status queued) in one transaction. Throws if one exists.
  virtual void create(const nlohmann::json& meta, const std::vector<TrialSpec>& trials) = 0;
  // Appends trials (status queued) to the existing sweep in one transaction, numbered after the
  // largest stored trial_id in the given order (their own trial_id is ignored). Throws when no
  // sweep exists or one of their config_ids is already stored (a round added twice).
  virtual void add_trials(const std::vector<TrialSpec>& trials) = 0;
  // Takes the lowest queued trial, or a running one whose lease expired. Trials whose workers
  // died `max_attempts` times are marked failed instead.
  virtual std::optional<Claim> claim(const std::string& worker, double lease_seconds,
                                     int max_attempts) = 0;
  // Extends the lease; false when the token no longer holds it.
  virtual bool heartbeat(int64_t trial_id, const std::string& token, double lease_seconds) = 0;
  // Records done (result) or failed (error) if the token still holds the lease.
  virtual bool finish(int64_t trial_id, const std::string& token, bool ok,
                      const nlohmann::json& result, const std::string& error) = 0;
  // Puts an interrupted trial back in the queue (attempt not counted).
  virtual void release(int64_t trial_id, const std::string& token) = 0;
  virtual Counts counts() = 0;
  virtual std::vector<TrialRow> trials() = 0;
};

// A storage URL taken apart. Forms: "postgresql://..." or "postgres://..." (PostgreSQL; libpq takes
// the URL as it is); "sqlite:PATH", "sqlite://PATH" or a plain PATH (SQLite), with an optional
// "?busy_timeout_ms=N" (default 10000). Any other "scheme://" is an error, as is an empty path.
struct StorageUrl {
  bool postgres = false;
  std::string sqlite_file;      // SQLite: the database file
  int busy_timeout_ms = 10000;  // SQLite: how long a statement waits for a lock
};
StorageUrl parse_storage_url(const std::string& url);

// Opens the store a URL (parse_storage_url) names. Throws a one-line dkws::Error for a corrupt,
// locked or unreachable store.
std::unique_ptr<Storage> open_storage(const std::string& url);

// Seconds since the epoch (wall clock; leases compare against it).
double now_seconds();

}  // namespace dkws::sweep
