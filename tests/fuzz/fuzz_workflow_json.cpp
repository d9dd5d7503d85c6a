// libFuzzer: ComfyUI UI-workflow text ({"nodes": [...], "links": [...]}) -> API graph -> validate, and back
// to a workflow. Errors must be vkflow's exceptions (ParseError / GraphError), never a crash.
#include <cstdint>
#include <string_view>

#include "engine/graph/graph.h"
#include "engine/graph/validate.h"
#include "engine/graph/workflow.h"
#include "engine/io/json_limits.h"
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vkf;
  static const graph::Paths paths = fuzz::scratch_paths();
  auto doc = io::parse_json_limited({reinterpret_cast<const char*>(data), size});
  if (!doc || !graph::is_workflow(*doc)) return 0;
  try {
    graph::Graph g = graph::graph_from_workflow(*doc, fuzz::registry());
    (void)graph::validate(g, fuzz::registry(), paths).to_json().dump();
    (void)graph::workflow_from_graph(g, graph::workflow_groups(g), fuzz::registry())
        .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } catch (const graph::GraphError&) {
  }
  return 0;
}
