// --plugin FILE (repeatable) and --plugins-dir DIR, taken out of every command's arguments before the
// command parses them: the plugins' samplers are registered before any command looks at the registry.
#pragma once
#include <string>
#include <vector>

namespace vkf::cli {

// Removes the plugin options from `args` and loads: every file of the plugin folders (--plugins-dir, else
// plugins/ beside --models-dir and $XDG_DATA_HOME/vkflow/plugins), then each --plugin.
// A plugin that fails is reported on stderr and skipped (`vkflow plugins` shows why); never throws for
// a bad plugin, only for a missing option value (UsageError).
void load_plugins_from_args(std::vector<std::string>& args);

}  // namespace vkf::cli
