// PreviewAny (ComfyUI comfy_extras/nodes_preview_any.py): an output node that shows any value as text,
// so graphs of primitives have a sink and `vkflow run` prints what they computed.
#include "engine/graph/node_context.h"
#include "engine/graph/registry.h"

namespace {
using namespace vkf::graph;

// As ComfyUI: strings as they are, numbers and booleans as Python's str(), anything else as JSON.
std::string preview_text(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::None: return "None";
    case Value::Kind::String: return v.as_string();
    case Value::Kind::Bool: return v.as_bool() ? "True" : "False";
    case Value::Kind::Object: return "<" + v.type() + ">";
    default: return v.to_json().dump();
  }
}

NodeRegistrar preview_any(NodeDef("PreviewAny").display("Preview Any").category("utils")
                              .description("Shows any value as text.")
                              .input("source", kAny).output_node()
                              .execute([](NodeContext& ctx, const Inputs& in) -> Outputs {
                                ctx.ui_append("text", preview_text(in.has("source") ? in.value("source") : Value()));
                                return {};
                              }));

}  // namespace
