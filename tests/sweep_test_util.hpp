// Helpers for the sweep tests: a tiny synthetic class-folder dataset, a tiny search space, running
// the CLI in the background, and a throw-away PostgreSQL server.
#pragma once
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <thread>

#include <fmt/core.h>

#include "dkws/audio.hpp"
#include "test_util.hpp"

namespace dkws::testing {

namespace fs = std::filesystem;

// Three tone classes, 24 one-second clips each, one speaker per clip so the speaker-hash split
// spreads every class over train/val/test.
inline void make_tone_dataset(const fs::path& root) {
  const double freqs[3] = {300, 900, 2500};
  const char* names[3] = {"low", "mid", "high"};
  for (int c = 0; c < 3; ++c) {
    fs::create_directories(root / names[c]);
    for (int i = 0; i < 24; ++i) {
      std::vector<float> s(16000);
      unsigned x = unsigned(c * 1000 + i + 1);
      for (size_t k = 0; k < s.size(); ++k) {
        x = x * 1664525u + 1013904223u;
        s[k] = float(6000 * std::sin(2 * M_PI * (freqs[c] + 20 * i) * double(k) / 16000) +
                     double(x >> 22) - 512);
      }
      dkws::write_wav(root / names[c] / fmt::format("s{}x{}_nohash_0.wav", c, i), s, 16000);
    }
  }
}

// A small space whose trials take about a second each on this data.
inline void write_tiny_space(const fs::path& file, int epochs) {
  write_file(file, R"({
  // tiny: ~1k epochs of a ~1k-parameter model on 44 clips, about a second per trial; no early stop
  "base": {"model": {"family": "audio_classifier", "num_conv": 2},
           "train": {"epochs": )" +
                       std::to_string(epochs) +
                       R"(, "batch_size": 8},
           "dendrites": {"p_max_epochs": 3, "p_epochs_to_switch": 1}},
  "params": {"width": [0.25, 0.5], "lr": [0.005, 0.01], "n_epochs_to_switch": [100000],
             "dropout": {"range": [0.0, 0.2]}}
})");
}

// A CLI process in the background; its stdout+stderr go to a file.
struct BackgroundCli {
  pid_t pid = -1;
  fs::path log;
  int exit_code = -1;

  // Runs `binary` (the dkws under test unless given) with `args`.
  BackgroundCli(const std::vector<std::string>& args, fs::path log_file,
                const fs::path& binary = DKWS_CLI_PATH)
      : log(std::move(log_file)) {
    std::vector<std::string> a = {binary.string()};
    a.insert(a.end(), args.begin(), args.end());
    pid = fork();
    if (pid == 0) {
      setpgid(0, 0);  // its own group: a signal sent to it reaches only the coordinator
      const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(fd, 1);
      dup2(fd, 2);
      std::vector<char*> argv;
      for (auto& s : a) argv.push_back(s.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
  }
  ~BackgroundCli() {
    if (pid > 0 && exit_code == -1) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
  }
  // Waits up to `seconds`; false on timeout.
  bool wait(double seconds) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (std::chrono::steady_clock::now() < end) {
      int status = 0;
      if (waitpid(pid, &status, WNOHANG) == pid) {
        exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }
  std::string output() const {
    std::ifstream in(log);
    return {std::istreambuf_iterator<char>(in), {}};
  }
};

// Polls `pred` every 50 ms; false after `seconds`.
template <class Pred>
bool wait_until(double seconds, Pred pred) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

// Arguments quoted for run_cli's shell.
inline std::string shell_args(const std::vector<std::string>& args) {
  std::string s;
  for (const auto& a : args) s += " '" + a + "'";
  return s;
}

// A `dkws sweep` command line on the tone data and tiny space that make_tone_dataset and
// write_tiny_space put in `shared`: the given arms, one seed, quiet, then `extra`.
inline std::vector<std::string> tone_sweep_args(const fs::path& shared, const fs::path& out,
                                                const std::string& arms,
                                                const std::vector<std::string>& extra) {
  std::vector<std::string> a = {"sweep",
                                "--space",
                                (shared / "space.json").string(),
                                "--out",
                                out.string(),
                                "--task",
                                "folder",
                                "--data",
                                (shared / "data").string(),
                                "--cache",
                                (shared / "cache").string(),
                                "--arms",
                                arms,
                                "--seeds",
                                "1",
                                "-q"};
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

inline int free_port() {
  const int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  close(s);
  return ntohs(a.sin_port);
}

// A throw-away PostgreSQL server: initdb in a temp folder, pg_ctl on a free loopback port with
// its socket in that folder; stopped and removed by the destructor. As root, the server runs as
// the `postgres` user (PostgreSQL refuses to run as root).
class PgServer {
 public:
  static fs::path bin_dir() {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator("/usr/lib/postgresql", ec))
      if (fs::exists(e.path() / "bin" / "initdb")) return e.path() / "bin";
    return {};
  }
  PgServer() {
    bin_ = bin_dir();
    if (bin_.empty()) return;
    port_ = free_port();
    const std::string as = geteuid() == 0 ? "runuser -u postgres -- " : "";
    if (geteuid() == 0 && system(("chown -R postgres " + dir_.path().string()).c_str()) != 0)
      return;
    const std::string d = dir_.path().string();
    const std::string init = as + (bin_ / "initdb").string() + " -D " + d +
                             "/data -A trust -U dkws >" + d + "/initdb.log 2>&1";
    if (system(init.c_str()) != 0) return;
    const std::string start = as + (bin_ / "pg_ctl").string() + " -D " + d + "/data -w -t 30 -l " +
                              d + "/server.log -o \"-p " + std::to_string(port_) + " -k " + d +
                              " -c listen_addresses=127.0.0.1 -c fsync=off\" start >" + d +
                              "/pg_ctl.log 2>&1";
    started_ = system(start.c_str()) == 0;
    stop_cmd_ =
        as + (bin_ / "pg_ctl").string() + " -D " + d + "/data -m immediate stop >/dev/null 2>&1";
  }
  ~PgServer() {
    if (started_) (void)!system(stop_cmd_.c_str());
  }
  bool available() const { return !bin_.empty(); }
  bool started() const { return started_; }
  std::string log() const {
    return read_text(dir_.path() / "server.log") + read_text(dir_.path() / "initdb.log");
  }
  // A fresh database; returns its URL.
  std::string create_db(const std::string& name) {
    const std::string cmd = (bin_ / "createdb").string() + " -h 127.0.0.1 -p " +
                            std::to_string(port_) + " -U dkws " + name;
    if (system(cmd.c_str()) != 0) return {};
    return "postgresql://dkws@127.0.0.1:" + std::to_string(port_) + "/" + name;
  }

 private:
  static std::string read_text(const fs::path& p) {
    std::ifstream in(p);
    return {std::istreambuf_iterator<char>(in), {}};
  }
  TempDir dir_;
  fs::path bin_;
  int port_ = 0;
  bool started_ = false;
  std::string stop_cmd_;
};

}  // namespace dkws::testing
