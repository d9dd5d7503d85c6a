// `vkflow validate GRAPH.json`: reports every problem of a graph without running it.
#include <iostream>
#include <stdexcept>

#include "engine/cli/command.h"
#include "engine/cli/graph_args.h"
#include "engine/graph/validate.h"

namespace vkf::cli {
namespace {

const char* kUsage =
    "usage: vkflow validate GRAPH.json [--set ID.INPUT=VALUE]... [--models-dir DIR] [--input-dir DIR] [--json]\n\n"
    "Checks a ComfyUI API-format graph against the known node classes and prints every problem\n"
    "(missing inputs, type mismatches, out-of-range values, unknown classes, cycles, no outputs,\n"
    "checkpoints / VAEs / input images that are not in their folders).\n\n"
    "options:\n"
    "  --set ID.INPUT=VALUE  override an input first, as `vkflow run` does\n"
    "  --models-dir DIR      where checkpoint and VAE names are looked up (default: models)\n"
    "  --input-dir DIR       where LoadImage names are looked up (default: input)\n"
    "  --json                print ComfyUI's error body ({\"error\", \"node_errors\"}) on stdout\n\n"
    "exit status: 0 valid, 2 invalid (or malformed JSON / bad arguments)\n";

int validate_command(std::vector<std::string> args) {
  bool json = false;
  graph::Paths paths;
  const GraphArgs ga = parse_graph_args(args, kUsage, [&](const std::vector<std::string>& as, size_t& i) {
    if (auto v = option_value(as, i, "--models-dir")) paths.models_dir = *v;
    else if (auto v = option_value(as, i, "--input-dir")) paths.input_dir = *v;
    else if (as[i] == "--json") json = true;
    else return false;
    return true;
  });
  if (ga.help) return kExitOk;
  const std::string& file = ga.file;
  auto g = load_graph_with_sets("validate", ga);
  if (!g) return kExitUsage;
  auto r = graph::validate(*g, paths);
  if (json) {
    std::cout << (r.ok() ? nlohmann::json{{"valid", true}, {"outputs", r.outputs}} : r.to_json()).dump(2) << "\n";
  } else if (r.ok()) {
    std::cout << file << ": valid (" << g->nodes().size() << " nodes, outputs:";
    for (auto& id : r.outputs) std::cout << " " << id;
    std::cout << ")\n";
  } else {
    std::cout << file << ": " << r.errors.size() << " problem" << (r.errors.size() == 1 ? "" : "s") << ":\n";
    for (auto& e : r.errors) std::cout << "  " << e.to_string() << "\n";
  }
  return r.ok() ? kExitOk : kExitUsage;
}

Registrar reg({"validate", "check a graph and print every problem", validate_command});

}  // namespace
}  // namespace vkf::cli
