// Running external tools (espeak-ng, flite, sox) without a shell: argv goes to posix_spawnp as is,
// so text to speak can never be parsed as shell syntax, and many can run at once from threads.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/core.h>

#include "data/data_internal.hpp"
#include "dkws/error.hpp"

extern char** environ;

namespace dkws::data {

ProgramResult run_program(const std::vector<std::string>& argv) {
  if (argv.empty()) throw Error("run_program: empty command");
  int fds[2];
  // O_CLOEXEC: a pipe must not leak into a child spawned by another thread at the same moment,
  // or that child would hold our write end open and our read would never see EOF.
  if (pipe2(fds, O_CLOEXEC) != 0)
    throw Error(fmt::format("{}: cannot create a pipe: {}", argv[0], std::strerror(errno)));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 2);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, argv[0].c_str(), &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    if (rc == ENOENT)
      throw Error(fmt::format("{}: program not found on PATH (install it: apt-get install {})",
                              argv[0], argv[0]));
    throw Error(fmt::format("{}: cannot start: {}", argv[0], std::strerror(rc)));
  }
  ProgramResult r;
  char buf[4096];
  for (;;) {
    const ssize_t n = read(fds[0], buf, sizeof buf);
    if (n > 0) {
      r.output.append(buf, size_t(n));
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

}  // namespace dkws::data
