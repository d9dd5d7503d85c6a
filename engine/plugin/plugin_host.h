// Loading of sampler plugins (plugins/include/vkflow_plugin.h): dlopen, the ABI handshake, init through
// the host table, and registration of the plugin's samplers in the open sampler registry. A plugin that
// fails any step is reported and skipped; the engine keeps working. CPU-only: no Vulkan device is needed
// to load (GLSL kernels are compiled to SPIR-V here, pipelines are built at first dispatch).
#pragma once
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace vkf::plugin {

struct PluginInfo {
  std::string path;
  bool loaded = false;
  std::string error;                  // why it failed (when !loaded)
  std::string abi;                    // "1.1" as the plugin declared it ("" when unknown)
  std::string id, name, version;      // the plugin's own
  std::vector<std::string> samplers;  // registered sampler names
};

// Loads one plugin file; never throws for a bad plugin (the reason is in the result). Loading the same
// canonical path twice reports the second as failed ("already loaded").
PluginInfo load_plugin(const std::filesystem::path& file);

// Where plugins are looked for: `dir` when given (--plugins-dir), else `plugins/` beside the models folder
// (<models_dir>/../plugins: ./plugins for the default `models`) and $XDG_DATA_HOME/vkflow/plugins
// (~/.local/share when unset). Missing folders are skipped.
std::vector<std::filesystem::path> plugin_dirs(const std::string& dir, const std::string& models_dir = "models");
// The shared libraries (*.so, *.dylib, *.dll) directly in `dirs`, sorted per folder.
std::vector<std::filesystem::path> plugin_files(const std::vector<std::filesystem::path>& dirs);

// What every front end (CLI, editor, server) loads at start: each file of plugin_dirs(dir, models_dir), then
// each of `files`. Failures are printed on stderr (with the reason) and skipped; returns this call's reports.
std::vector<PluginInfo> load_plugins(const std::string& dir, const std::vector<std::string>& files,
                                     const std::string& models_dir = "models");

// Every load attempt of this process, in order (what `vkflow plugins` prints).
std::vector<PluginInfo> plugin_reports();

// The ABI version this host implements ("1.1").
std::string host_abi_version();

}  // namespace vkf::plugin
