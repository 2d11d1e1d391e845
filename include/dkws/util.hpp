// Small shared utilities: atomic file writes, base64, progress display.
#pragma once
#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace dkws {

// Writes to "<path>.tmp.<pid>" then renames over path, so readers never see a half-written file.
// Throws dkws::Error naming the file when the write fails (e.g. a full disk).
void write_file_atomic(const std::filesystem::path& path, std::string_view content);
std::string read_file(const std::filesystem::path& path);

// Escapes &, <, >, " and ' for XML/SVG/HTML text and attributes.
std::string xml_escape(std::string_view text);

// A file compiled into the library as text (cmake/embed_files.cmake): its name and contents.
struct EmbeddedFile {
  const char* name;
  const char* text;
};

std::string base64_encode(const void* data, size_t bytes);
std::vector<unsigned char> base64_decode(std::string_view text);

// A one-line progress bar with ETA on stderr. Silent when quiet or when stderr is not a TTY.
class Progress {
 public:
  Progress(std::string label, size_t total, bool quiet);
  ~Progress();
  void update(size_t done, const std::string& status = {});
  void finish(const std::string& status = {});
  bool enabled() const { return enabled_; }

 private:
  std::string label_;
  size_t total_;
  bool enabled_;
  bool finished_ = false;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace dkws
