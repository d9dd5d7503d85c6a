// Runs a program in a child process with stdin from /dev/null and stdout/stderr captured: the one runner
// behind the tests that drive the built `vkflow` binary (graph, models, e2e) and helper scripts.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

namespace vkf::test {

struct CliResult {
  int code = -1;   // exit status when the process exited, -1 otherwise
  int signal = 0;  // the signal that ended it, 0 when it exited
  std::string out, err;
  bool crashed() const { return signal != 0; }
};

// Runs argv[0] (a path, no PATH search) with argv as given: no shell, so arguments pass verbatim (invalid
// UTF-8 included). `env` entries NAME=VALUE replace same-named ones of the inherited environment.
// Throws std::runtime_error when the program cannot be started.
CliResult run_captured(const std::vector<std::string>& argv, const std::vector<std::string>& env = {});

// Runs a shell command line through /bin/sh -c (as std::system does), captured the same way.
CliResult run_shell(const std::string& command);

// The whole file as bytes ("" when it cannot be read).
std::string read_file(const std::filesystem::path& p);

}  // namespace vkf::test
