#include "engine/cli/plugin_args.h"

#include "engine/cli/command.h"
#include "engine/plugin/plugin_host.h"

namespace vkf::cli {

void load_plugins_from_args(std::vector<std::string>& args) {
  std::vector<std::string> files, rest;
  std::string dir, models_dir = "models";
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
    // --models-dir stays for the command; the default plugin folder sits beside it
    if (a == "--models-dir" && i + 1 < args.size()) models_dir = args[i + 1];
    else if (a.rfind("--models-dir=", 0) == 0) models_dir = a.substr(13);
    rest.push_back(a);
  }
  args = std::move(rest);
  plugin::load_plugins(dir, files, models_dir);
}

}  // namespace vkf::cli
