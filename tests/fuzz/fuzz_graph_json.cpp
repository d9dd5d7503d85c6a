// libFuzzer: API-format graph text (flat or the /prompt wrapper) -> parse -> validate -> re-emit, and the
// UI workflow made from it. Errors must be vkflow's exceptions (ParseError / GraphError), never a crash.
#include <cstdint>
#include <string_view>

#include "engine/graph/graph.h"
#include "engine/graph/validate.h"
#include "engine/graph/workflow.h"
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vkf;
  static const graph::Paths paths = fuzz::scratch_paths();
  std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    graph::Graph g = graph::Graph::parse(text, "fuzz.json");
    auto v = graph::validate(g, fuzz::registry(), paths);
    (void)v.to_string();
    (void)v.to_json().dump();
    (void)g.prompt().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    (void)g.document().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    (void)g.extra_pnginfo();
    (void)graph::workflow_from_graph(g, graph::workflow_groups(g), fuzz::registry())
        .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } catch (const graph::GraphError&) {
  }
  return 0;
}
