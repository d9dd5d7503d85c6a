#include "engine/cli/plugin_args.h"

#include <iostream>

#include "engine/cli/command.h"
#include "engine/plugin/plugin_host.h"

namespace vkf::cli {

void load_plugins_from_args(std::vector<std::string>& args) {
  std::vector<std::string> files, rest;
  std::string dir;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto take = [&](const std::string& opt, auto&& put) {
      if (a == opt) {
        if (i + 1 >= args.size()) throw UsageError("option " + opt + " needs a value");
        put(args[++i]);
        return true;
      }
      if (a.rfind(opt + "=", 0) == 0) {
        put(a.substr(opt.size() + 1));
        return true;
      }
      return false;
    };
    if (a == "--") {  // everything after belongs to the command
      rest.insert(rest.end(), args.begin() + std::ptrdiff_t(i), args.end());
      break;
    }
    if (take("--plugin", [&](std::string v) { files.push_back(std::move(v)); })) continue;
    if (take("--plugins-dir", [&](std::string v) { dir = std::move(v); })) continue;
    rest.push_back(a);
  }
  args = std::move(rest);
  for (const auto& f : plugin::plugin_files(plugin::plugin_dirs(dir))) {
    const auto r = plugin::load_plugin(f);
    if (!r.loaded && r.error != "already loaded")
      std::cerr << "vkflow: plugin " << r.path << " skipped: " << r.error << "\n";
  }
  for (const auto& f : files) {
    const auto r = plugin::load_plugin(f);
    if (!r.loaded && r.error != "already loaded")
      std::cerr << "vkflow: plugin " << r.path << " skipped: " << r.error << "\n";
  }
}

}  // namespace vkf::cli
