// `vkflow plugins`: one line per plugin file tried (--plugin, --plugins-dir, the default folders): path,
// loaded or failed with the reason, the ABI version it was built for, its samplers. Exit 0 even when some
// failed (a failed plugin is skipped, not fatal). --json: the same as an array.
#include <iostream>

#include <nlohmann/json.hpp>

#include "engine/cli/command.h"
#include "engine/plugin/plugin_host.h"

namespace vkf::cli {
namespace {

const char* kUsage =
    "usage: vkflow plugins [--json] [--plugin FILE]... [--plugins-dir DIR] [--models-dir DIR]\n\n"
    "Lists the sampler plugins found and whether they loaded (this vkflow implements plugin ABI ";
const char* kFolders =
    "Folders searched: --plugins-dir, else plugins/ beside --models-dir (default models, so ./plugins) and\n"
    "$XDG_DATA_HOME/vkflow/plugins (~/.local/share/vkflow/plugins when unset); then each --plugin.\n";

int plugins_command(std::vector<std::string> args) {
  bool json = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--models-dir" && i + 1 < args.size()) {  // used by the plugin loader (the default folder)
      ++i;
      continue;
    }
    if (a.rfind("--models-dir=", 0) == 0) continue;
    if (a == "--help" || a == "-h") {
      std::cout << kUsage << plugin::host_abi_version() << ").\n" << kFolders;
      return kExitOk;
    }
    if (a == "--json") json = true;
    else throw UsageError("unknown argument '" + a + "'");
  }
  const auto reports = plugin::plugin_reports();
  if (json) {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& r : reports)
      j.push_back({{"path", r.path}, {"loaded", r.loaded}, {"error", r.error}, {"abi", r.abi}, {"id", r.id},
                   {"version", r.version}, {"samplers", r.samplers}});
    std::cout << j.dump(2) << "\n";
    return kExitOk;
  }
  for (const auto& r : reports) {
    std::cout << r.path << "  " << (r.loaded ? "loaded" : "failed: " + r.error) << "  abi "
              << (r.abi.empty() ? "?" : r.abi);
    if (r.loaded) {
      std::cout << "  samplers:";
      for (const auto& s : r.samplers) std::cout << " " << s;
    }
    std::cout << "\n";
  }
  if (reports.empty()) std::cout << "no plugins found (host ABI " << plugin::host_abi_version() << ")\n";
  return kExitOk;
}

Registrar reg({"plugins", "list sampler plugins and whether they loaded", plugins_command});

}  // namespace
}  // namespace vkf::cli
