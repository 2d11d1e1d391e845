// Picks the storage back end from a URL, and the helpers both back ends share.
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <random>

#include <fmt/core.h>

#include "dkws/error.hpp"
#include "sweep/storage_internal.hpp"

namespace dkws::sweep {

double now_seconds() {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

std::string new_token() {
  std::random_device rd;  // /dev/urandom: tokens from different hosts must not collide
  return fmt::format("{:08x}{:08x}{:08x}{:08x}", rd(), rd(), rd(), rd());
}

void set_count(Counts& c, const std::string& status, size_t n) {
  if (status == "queued") c.queued = n;
  if (status == "running") c.running = n;
  if (status == "done") c.done = n;
  if (status == "failed") c.failed = n;
}

void check_new_configs(const std::vector<TrialSpec>& trials, int64_t max_stored_config,
                       const std::string& where) {
  for (const TrialSpec& t : trials)
    if (t.config_id <= max_stored_config)
      throw Error(fmt::format("{}: config {} is already stored (up to {}); not adding it again",
                              where, t.config_id, max_stored_config));
}

std::vector<TrialSpec> numbered_after(std::vector<TrialSpec> trials, int64_t max_stored_id) {
  for (auto& t : trials) t.trial_id = ++max_stored_id;
  return trials;
}

std::string schema_sql(const char* id_type, const char* real_type) {
  return fmt::format(R"sql(
CREATE TABLE IF NOT EXISTS sweep (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  meta TEXT NOT NULL,
  created {real} NOT NULL);
CREATE TABLE IF NOT EXISTS trials (
  trial_id {id} PRIMARY KEY,
  config_id INTEGER NOT NULL,
  arm TEXT NOT NULL,
  seed INTEGER NOT NULL,
  hparams TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('queued','running','done','failed')),
  worker TEXT NOT NULL DEFAULT '',
  lease_token TEXT NOT NULL DEFAULT '',
  lease_expiry {real} NOT NULL DEFAULT 0,
  heartbeat {real} NOT NULL DEFAULT 0,
  attempts INTEGER NOT NULL DEFAULT 0,
  result TEXT,
  error TEXT NOT NULL DEFAULT '',
  created {real} NOT NULL,
  started {real} NOT NULL DEFAULT 0,
  finished {real} NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS trials_status ON trials (status, trial_id);
)sql",
                     fmt::arg("id", id_type), fmt::arg("real", real_type));
}

StorageUrl parse_storage_url(const std::string& url) {
  StorageUrl u;
  if (url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0) {
    u.postgres = true;
    return u;
  }
  std::string path = url.rfind("sqlite:", 0) == 0 ? url.substr(7) : url;
  if (path.rfind("//", 0) == 0)
    path = path.substr(2);  // sqlite://PATH
  else if (path.find("://") != std::string::npos)
    throw Error(fmt::format(
        "--storage '{}': unknown scheme (expected postgresql://, sqlite: or a file)", url));
  const auto q = path.find('?');
  if (q != std::string::npos) {
    const std::string query = path.substr(q + 1);
    path = path.substr(0, q);
    const std::string key = "busy_timeout_ms=";
    if (query.rfind(key, 0) != 0)
      throw Error(fmt::format("{}: unknown option '{}' (expected busy_timeout_ms=N)", url, query));
    u.busy_timeout_ms = std::atoi(query.c_str() + key.size());
  }
  if (path.empty()) throw Error(fmt::format("--storage '{}': no database file given", url));
  u.sqlite_file = path;
  return u;
}

std::unique_ptr<Storage> open_storage(const std::string& url) {
  const StorageUrl u = parse_storage_url(url);
  return u.postgres ? open_postgres(url) : open_sqlite(u.sqlite_file, u.busy_timeout_ms);
}

}  // namespace dkws::sweep
