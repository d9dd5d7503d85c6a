// `vkflow validate GRAPH.json`: reports every problem of a graph without running it.
#include <iostream>
#include <stdexcept>

#include "engine/cli/command.h"
#include "engine/cli/graph_args.h"
#include "engine/graph/validate.h"

namespace vkf::cli {
namespace {

const char* kUsage =
    "usage: vkflow validate GRAPH.json [--set ID.INPUT=VALUE]... [--json]\n\n"
    "Checks a ComfyUI API-format graph against the known node classes and prints every problem\n"
    "(missing inputs, type mismatches, out-of-range values, unknown classes, cycles, no outputs).\n\n"
    "options:\n"
    "  --set ID.INPUT=VALUE  override an input first, as `vkflow run` does\n"
    "  --json                print ComfyUI's error body ({\"error\", \"node_errors\"}) on stdout\n\n"
    "exit status: 0 valid, 2 invalid (or malformed JSON / bad arguments)\n";

int validate_command(std::vector<std::string> args) {
  bool json = false;
  const GraphArgs ga = parse_graph_args(args, kUsage, [&](const std::vector<std::string>& as, size_t& i) {
    if (as[i] != "--json") return false;
    json = true;
    return true;
  });
  if (ga.help) return kExitOk;
  const std::string& file = ga.file;
  auto g = load_graph_with_sets("validate", ga);
  if (!g) return kExitUsage;
  auto r = graph::validate(*g);
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
