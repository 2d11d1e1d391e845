// Shared pieces of the storage back ends.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "dkws/sweep_storage.hpp"

struct sqlite3;

namespace dkws::sweep {

std::unique_ptr<Storage> open_sqlite(const std::string& path, int busy_ms);
std::unique_ptr<Storage> open_postgres(const std::string& url);
// A one-line dkws::Error for the connection's last error, naming the file.
[[noreturn]] void throw_sqlite(sqlite3* db, const std::string& path);

// The tables and index, the same in both back ends but for the dialect's names of a 64-bit trial
// id column and a double column.
std::string schema_sql(const char* id_type, const char* real_type);

// A fresh random lease token (128 bits, hex).
std::string new_token();
// add_trials refuses trials whose config_id is not above every stored one (a round added twice).
void check_new_configs(const std::vector<TrialSpec>& trials, int64_t max_stored_config,
                       const std::string& where);
// The trials renumbered max_stored_id + 1, + 2, ... in order.
std::vector<TrialSpec> numbered_after(std::vector<TrialSpec> trials, int64_t max_stored_id);
void set_count(Counts& c, const std::string& status, size_t n);

}  // namespace dkws::sweep
