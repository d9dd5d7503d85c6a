// `vkflow <command> ...`: each command lives in its own engine/cli/cmd_<name>.cpp and registers itself
// with a static Registrar (the CLI sources are linked straight into the executable, so none is dropped).
#pragma once
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace vkf::cli {

// Exit codes shared by every command.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // failure while running
inline constexpr int kExitUsage = 2;    // invalid graph / arguments

struct Command {
  std::string name;
  std::string summary;                             // one line for `vkflow --help`
  std::function<int(std::vector<std::string>)> run;  // arguments after the command name
};

std::map<std::string, Command>& commands();

struct Registrar {
  explicit Registrar(Command c) { commands().emplace(c.name, std::move(c)); }
};

// Thrown for bad command-line arguments; main prints it with the command's usage hint, exit 2.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace vkf::cli
