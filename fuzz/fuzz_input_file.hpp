// The loaders under fuzzing read files by path, so each input is written to one scratch file per
// process (named by the pid, so parallel fuzzing jobs do not share it) before the call.
#pragma once
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>

namespace dkws::fuzz {

// `suffix` is the extension the loader sees (libsndfile guesses some formats from it).
inline const std::filesystem::path& input_file(const uint8_t* data, size_t size,
                                               const std::string& suffix) {
  static const std::filesystem::path path =
      std::filesystem::temp_directory_path() / ("dkws_fuzz_" + std::to_string(getpid()) + suffix);
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char*>(data), std::streamsize(size));
  return path;
}

// An input the loader rejected, shown when DKWS_FUZZ_VERBOSE is set (to check that seed inputs
// load rather than fail early).
inline void rejected(const std::exception& e) {
  static const bool verbose = std::getenv("DKWS_FUZZ_VERBOSE") != nullptr;
  if (verbose) std::fprintf(stderr, "  rejected: %s\n", e.what());
}

}  // namespace dkws::fuzz
