// `vkflow nodes [--json]`: the known node classes, as a list or as ComfyUI's /object_info JSON. File-list
// inputs (checkpoints, VAEs, input images) list the files under --models-dir / --input-dir.
#include <iostream>
#include <map>
#include <stdexcept>

#include "engine/cli/command.h"
#include "engine/cli/graph_args.h"
#include "engine/graph/registry.h"

namespace vkf::cli {
namespace {

const char* kUsage =
    "usage: vkflow nodes [--json] [--models-dir DIR] [--input-dir DIR] [CLASS]...\n\n"
    "Lists the node classes by category with their inputs and outputs.\n\n"
    "options:\n"
    "  --json             print ComfyUI's /object_info JSON (every class, or the named ones)\n"
    "  --models-dir DIR   where the checkpoint / VAE lists come from (default: models)\n"
    "  --input-dir DIR    where the LoadImage list comes from (default: input)\n";

std::string input_text(const graph::InputSpec& s, const graph::Paths& paths) {
  std::string t = s.name + ":" + s.type;
  if (s.type == graph::kCombo) {
    std::vector<std::string> opts;
    try {
      opts = s.combo_options(paths);
    } catch (const std::exception&) {
    }
    if (s.files)
      t += "(" + std::to_string(opts.size()) + " file" + (opts.size() == 1 ? "" : "s") + " in " +
           s.files->dir(paths).string() + ")";
    else
      t += "(" + std::to_string(opts.size()) + " options)";
  } else if (!s.default_value.is_null()) {
    t += "=" + s.default_value.dump();
  }
  return s.optional ? "[" + t + "]" : t;
}

int nodes_command(std::vector<std::string> args) {
  bool json = false;
  graph::Paths paths;
  std::vector<std::string> only;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") {
      std::cout << kUsage;
      return kExitOk;
    }
    if (auto v = option_value(args, i, "--models-dir")) paths.models_dir = *v;
    else if (auto v = option_value(args, i, "--input-dir")) paths.input_dir = *v;
    else if (a == "--json") json = true;
    else if (a.rfind("-", 0) == 0) throw UsageError("unknown option " + a);
    else only.push_back(a);
  }
  const auto& reg = graph::Registry::instance();
  for (auto& c : only)
    if (!reg.find(c)) throw UsageError("unknown node class '" + c + "'");
  auto names = only.empty() ? reg.names() : only;
  if (json) {
    nlohmann::json j = nlohmann::json::object();
    for (auto& n : names) j[n] = reg.get(n).object_info(paths);
    std::cout << j.dump(2) << "\n";
    return kExitOk;
  }
  std::map<std::string, std::vector<const graph::NodeDef*>> by_cat;
  for (auto& n : names) by_cat[reg.get(n).category_name()].push_back(&reg.get(n));
  for (auto& [cat, defs] : by_cat) {
    std::cout << cat << "\n";
    for (auto* d : defs) {
      std::cout << "  " << d->class_type();
      if (d->display_name() != d->class_type()) std::cout << " (" << d->display_name() << ")";
      if (d->is_output_node()) std::cout << " [output]";
      std::cout << "\n     ";
      for (auto& s : d->inputs()) std::cout << " " << input_text(s, paths);
      std::cout << " ->";
      for (auto& o : d->outputs()) std::cout << " " << o.type;
      if (d->outputs().empty()) std::cout << " (nothing)";
      std::cout << "\n";
    }
  }
  std::cout << reg.size() << " node classes\n";
  return kExitOk;
}

Registrar reg({"nodes", "list node classes (--json: ComfyUI object_info)", nodes_command});

}  // namespace
}  // namespace vkf::cli
