// `vkflow validate GRAPH.json`: reports every problem of a graph without running it.
#include <iostream>
#include <stdexcept>

#include "engine/cli/command.h"
#include "engine/cli/graph_args.h"
#include "engine/graph/memory_plan.h"
#include "engine/graph/validate.h"

namespace vkf::cli {
namespace {

const char* kUsage =
    "usage: vkflow validate GRAPH.json [--set ID.INPUT=VALUE]... [--models-dir DIR] [--input-dir DIR]\n"
    "                       [--device-memory GIB] [--weights f32|f16] [--json]\n\n"
    "Checks a ComfyUI API-format graph against the known node classes and prints every problem\n"
    "(missing inputs, type mismatches, out-of-range values, unknown classes, cycles, no outputs,\n"
    "checkpoints / VAEs / input images that are not in their folders). A valid graph's device-memory\n"
    "plan (the check `vkflow run` makes before running) is printed too.\n\n"
    "options:\n"
    "  --set ID.INPUT=VALUE  override an input first, as `vkflow run` does\n"
    "  --models-dir DIR      where checkpoint and VAE names are looked up (default: models)\n"
    "  --input-dir DIR       where LoadImage names are looked up (default: input)\n"
    "  --device-memory GIB   also check the plan against a device of GIB GiB (exit 2 with a suggestion,\n"
    "                        e.g. VAEDecodeTiled, when it does not fit)\n"
    "  --weights f32|f16     the precision the plan counts weights and activations at, as `vkflow run\n"
    "                        --weights` (default f32; a GPU that stores 16-bit runs f16)\n"
    "  --json                print ComfyUI's error body ({\"error\", \"node_errors\"}) on stdout\n\n"
    "exit status: 0 valid, 2 invalid (or malformed JSON / bad arguments)\n";

int validate_command(std::vector<std::string> args) {
  bool json = false;
  uint64_t heap_gib = 0;
  graph::PlanOptions plan_opt;
  graph::Paths paths;
  const GraphArgs ga = parse_graph_args(args, kUsage, [&](const std::vector<std::string>& as, size_t& i) {
    if (auto v = option_value(as, i, "--models-dir")) paths.models_dir = *v;
    else if (auto v = option_value(as, i, "--input-dir")) paths.input_dir = *v;
    else if (auto v = option_value(as, i, "--device-memory")) heap_gib = parse_count(*v, "--device-memory");
    else if (auto v = option_value(as, i, "--weights")) {
      if (*v != "f32" && *v != "f16") throw UsageError("--weights must be f32 or f16, got '" + *v + "'");
      plan_opt.compute_bytes = *v == "f16" ? 2 : 4;
    }
    else if (as[i] == "--json") json = true;
    else return false;
    return true;
  });
  if (ga.help) return kExitOk;
  if (heap_gib > (uint64_t(1) << 20)) throw UsageError("--device-memory: at most 1048576 GiB");
  if (heap_gib && json) throw UsageError("--device-memory prints text; leave out --json");
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
    const auto plan = graph::estimate_memory(*g, paths, plan_opt);
    std::cout << "planned device memory: " << graph::format_bytes(plan.peak()) << " = "
              << graph::format_bytes(plan.weights) << " model weights";
    if (const auto* l = plan.largest())
      std::cout << " + " << graph::format_bytes(l->bytes) << " for node " << l->node << " (" << l->class_type << ", "
                << l->what << ")";
    std::cout << "\n";
    if (auto err = graph::check_memory_plan(plan, heap_gib << 30)) {
      std::cout << file << ": does not fit a " << heap_gib << " GiB device: " << *err << "\n";
      return kExitUsage;
    }
  } else {
    std::cout << file << ": " << r.errors.size() << " problem" << (r.errors.size() == 1 ? "" : "s") << ":\n";
    for (auto& e : r.errors) std::cout << "  " << e.to_string() << "\n";
  }
  return r.ok() ? kExitOk : kExitUsage;
}

Registrar reg({"validate", "check a graph and print every problem", validate_command});

}  // namespace
}  // namespace vkf::cli
