// Shared by the deploy tests: the committed models quantized on kws12, real test clips as int16,
// and running a shell command.
#pragma once
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "dkws/audio.hpp"
#include "dkws/deploy.hpp"
#include "test_util.hpp"

namespace dkws::testing {

struct DeployCase {
  deploy::QModel q;
  std::vector<std::vector<int16_t>> clips;  // the kws12 test split, 16 kHz, 1 s
  std::vector<int> labels;
};

// Quantizes tests/fixtures/deploy/<name> (calibrated on the kws12 training split) and loads up to
// max_clips test clips (0: all).
inline DeployCase deploy_case(const std::string& name, size_t max_clips) {
  DeployCase c;
  TempDir t;
  std::filesystem::copy_file(source_dir() / "tests" / "fixtures" / "deploy" / name,
                             t / "model.json");
  deploy::QuantizeRunOptions opt;
  opt.data_dir = data_dir();
  opt.cache_dir = std::filesystem::current_path() / "deploy_test_cache";
  opt.quiet = true;
  c.q = deploy::quantize_run(t.path(), opt).q;
  TaskSpec spec;
  spec.name = "kws12";
  spec.data_dir = data_dir();
  spec.front_end = c.q.front_end;
  spec.cache_dir = opt.cache_dir;
  spec.quiet = true;
  const TaskData data = load_task(spec);
  const size_t n = max_clips ? std::min(max_clips, data.test.size()) : data.test.size();
  for (size_t i = 0; i < n; ++i) {
    const auto audio = load_audio(data_dir() / data.test.paths[i], {16000, 1.0});
    c.clips.emplace_back(audio.begin(), audio.end());
    c.labels.push_back(data.test.y[i]);
  }
  return c;
}

inline CommandResult run_shell(const std::string& cmd) {
  CommandResult r{-1, {}};
  FILE* pipe = popen((cmd + " 2>&1").c_str(), "r");
  if (!pipe) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) r.output.append(buf, n);
  const int status = pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

inline bool have_tool(const std::string& tool) {
  return run_shell("command -v " + tool + " >/dev/null").exit_code == 0;
}

}  // namespace dkws::testing
