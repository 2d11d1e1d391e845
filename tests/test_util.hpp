// Helpers shared by the test binaries: where the shared data lives, temp folders, running the CLI.
#pragma once
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

namespace dkws::testing {

inline std::filesystem::path shared_dir() {
  if (const char* env = std::getenv("DKWS_SHARED")) return env;
  return DKWS_SHARED_DIR;
}
inline std::filesystem::path source_dir() {
  return DKWS_SOURCE_DIR;
}
inline std::filesystem::path data_dir() {
  return shared_dir() / "data";
}
// A feature cache kept between test runs, under the build folder (never in the source tree);
// `name` keeps caches of different front ends apart.
inline std::filesystem::path test_cache_dir(const std::string& name) {
  return std::filesystem::path(DKWS_TEST_CACHE_DIR) / name;
}
inline bool have_data() {
  return std::filesystem::exists(data_dir() / "speech_commands_v2_test" / "splits.tsv");
}

// A fresh folder under the system temp dir, removed when the object dies.
class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() / ("dkws_test_" + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& s) const { return path_ / s; }

 private:
  std::filesystem::path path_;
};

struct CommandResult {
  int exit_code;
  std::string output;  // stdout and stderr together
};

// Runs a shell command line; stdout and stderr together.
inline CommandResult run_shell(const std::string& cmd) {
  CommandResult r{-1, {}};
  FILE* pipe = popen((cmd + " 2>&1").c_str(), "r");
  if (!pipe) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) r.output.append(buf.data(), n);
  const int status = pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// Runs the dkws CLI with the given argument string (already shell-quoted by the caller).
inline CommandResult run_cli(const std::string& args) {
  return run_shell(std::string("\"") + DKWS_CLI_PATH + "\" " + args);
}

inline bool have_tool(const std::string& tool) {
  return run_shell("command -v " + tool + " >/dev/null").exit_code == 0;
}

inline void write_file(const std::filesystem::path& p, const std::string& content) {
  std::ofstream(p, std::ios::binary) << content;
}

}  // namespace dkws::testing
