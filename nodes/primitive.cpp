// Primitive nodes (ComfyUI comfy_extras/nodes_primitive.py): a widget whose value feeds other inputs.
#include <cstdint>

#include "engine/graph/node_context.h"
#include "engine/graph/registry.h"

namespace {
using namespace vkf::graph;

// sys.maxsize, ComfyUI's bound for PrimitiveInt/PrimitiveFloat.
constexpr int64_t kMaxSize = INT64_MAX;

Outputs pass_value(NodeContext&, const Inputs& in) { return {in.value("value")}; }

NodeRegistrar string_node(NodeDef("PrimitiveString").display("String").category("utils/primitive")
                              .input_string("value").output(kString).execute(pass_value));

NodeRegistrar string_multiline(NodeDef("PrimitiveStringMultiline").display("String (Multiline)")
                                   .category("utils/primitive").input_string("value", "", true)
                                   .output(kString).execute(pass_value));

NodeRegistrar int_node(NodeDef("PrimitiveInt").display("Int").category("utils/primitive")
                           .input_int("value", 0, -kMaxSize, kMaxSize).output(kInt).execute(pass_value));

NodeRegistrar float_node(NodeDef("PrimitiveFloat").display("Float").category("utils/primitive")
                             .input_float("value", 0.0, -double(kMaxSize), double(kMaxSize)).output(kFloat)
                             .execute(pass_value));

NodeRegistrar bool_node(NodeDef("PrimitiveBoolean").display("Boolean").category("utils/primitive")
                            .input_bool("value", false).output(kBoolean).execute(pass_value));

}  // namespace
