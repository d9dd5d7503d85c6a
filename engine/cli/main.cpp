// vkflow command-line entry: dispatches to registered commands; turns exceptions into exit codes.
#include <cstring>
#include <iostream>
#include <stdexcept>

#include "engine/cli/command.h"
#include "engine/cli/plugin_args.h"
#include "engine/vk/context.h"

namespace vkf::cli {
std::map<std::string, Command>& commands() {
  static std::map<std::string, Command> c;
  return c;
}
}  // namespace vkf::cli

namespace {
void print_help() {
  std::cout << "vkflow — a node-graph engine for diffusion image generation on Vulkan compute\n\n"
               "usage: vkflow <command> [options]   (vkflow <command> --help for details)\n\ncommands:\n";
  for (auto& [name, c] : vkf::cli::commands()) {
    std::cout << "  " << name;
    for (size_t i = name.size(); i < 10; ++i) std::cout << ' ';
    std::cout << "  " << c.summary << "\n";
  }
  std::cout << "\nevery command takes --plugin FILE (repeatable) and --plugins-dir DIR (default: plugins/ beside\n"
               "--models-dir, i.e. ./plugins, and $XDG_DATA_HOME/vkflow/plugins); 'vkflow plugins' lists what loaded\n";
  std::cout << "\nenvironment: VKFLOW_DEVICE=N picks a device, VKFLOW_VALIDATE=1 enables validation layers\n";
}
}  // namespace

int main(int argc, char** argv) {
  using namespace vkf::cli;
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") || !std::strcmp(argv[1], "help")) {
    print_help();
    return argc < 2 ? kExitUsage : kExitOk;
  }
  auto it = commands().find(argv[1]);
  if (it == commands().end()) {
    std::cerr << "vkflow: unknown command '" << argv[1] << "' (see 'vkflow --help')\n";
    return kExitUsage;
  }
  std::vector<std::string> args(argv + 2, argv + argc);
  try {
    load_plugins_from_args(args);  // --plugin / --plugins-dir, on every command
    return it->second.run(args);
  } catch (const UsageError& e) {
    std::cerr << "vkflow " << argv[1] << ": " << e.what() << " (see 'vkflow " << argv[1] << " --help')\n";
    return kExitUsage;
  } catch (const vkf::vk::NoDeviceError& e) {
    std::cerr << "vkflow: " << e.what() << "\n";
    return kExitFailure;
  } catch (const std::exception& e) {
    std::cerr << "vkflow " << argv[1] << ": error: " << e.what() << "\n";
    return kExitFailure;
  }
}
