#include "engine/graph/validate.h"

#include <sstream>

#include "engine/graph/literals.h"
#include "engine/graph/node_context.h"
#include "engine/graph/order.h"

namespace vkf::graph {

std::string ValidationError::to_string() const {
  std::string s;
  if (!node_id.empty()) s += "node " + node_id + (class_type.empty() ? "" : " (" + class_type + ")");
  if (!input_name.empty()) s += " input '" + input_name + "'";
  if (!s.empty()) s += ": ";
  s += type + ": " + message;
  if (!details.empty() && details != input_name) s += " [" + details + "]";
  return s;
}

std::string ValidationResult::to_string() const {
  std::string s;
  for (auto& e : errors) s += e.to_string() + "\n";
  return s;
}

nlohmann::json ValidationResult::to_json() const {
  nlohmann::json node_errors = nlohmann::json::object();
  nlohmann::json top = {{"type", "prompt_outputs_failed_validation"},
                        {"message", "Prompt outputs failed validation"},
                        {"details", ""},
                        {"extra_info", nlohmann::json::object()}};
  for (auto& e : errors) {
    nlohmann::json item = {{"type", e.type}, {"message", e.message}, {"details", e.details},
                           {"extra_info", {{"input_name", e.input_name}}}};
    if (e.node_id.empty()) {
      top = item;  // graph-level problem (no outputs) leads, as in ComfyUI
      continue;
    }
    auto& ne = node_errors[e.node_id];
    ne["class_type"] = e.class_type;
    ne["dependent_outputs"] = outputs;
    ne["errors"].push_back(item);
  }
  return {{"error", top}, {"node_errors", node_errors}};
}

namespace {

// A literal as shown in messages; bytes that are not UTF-8 (possible via --set) become U+FFFD rather than
// making dump() throw.
std::string shown(const nlohmann::json& v) { return v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

struct Checker {
  const Graph& g;
  const Registry& reg;
  const Paths& paths;
  ValidationResult& r;

  void add(const Node& n, std::string input, std::string type, std::string message, std::string details = "") {
    if (details.empty()) details = input;
    r.errors.push_back({std::move(type), std::move(message), std::move(details), n.id, n.class_type, std::move(input)});
  }

  // Checks one linked input; true when fine.
  void check_link(const Node& n, const InputSpec& s, const nlohmann::json& raw) {
    std::string why;
    auto l = parse_link(raw, &why);
    if (!l) return add(n, s.name, "bad_linked_input", "Bad linked input, " + why);
    const Node* src = g.find(l->node);
    if (!src) return add(n, s.name, "bad_linked_input", "Linked node " + l->node + " does not exist");
    const NodeDef* sdef = reg.find(src->class_type);
    if (!sdef) return;  // the unknown class is reported on its own node
    if (l->output >= (int)sdef->outputs().size())
      return add(n, s.name, "bad_linked_input",
                 "Output index " + std::to_string(l->output) + " out of range: node " + src->id + " (" +
                     src->class_type + ") has " + std::to_string(sdef->outputs().size()) + " output(s)");
    const std::string& received = sdef->outputs()[l->output].type;
    if (!types_match(received, s.type))
      add(n, s.name, "return_type_mismatch", "Return type mismatch between linked nodes",
          s.name + ", received_type(" + received + ") mismatch input_type(" + s.type + ")");
  }

  void check_node(const Node& n) {
    const NodeDef* def = reg.find(n.class_type);
    if (!def) return;
    auto it_inputs = n.entry.find("inputs");
    if (it_inputs != n.entry.end() && !it_inputs->is_object())
      return add(n, "", "invalid_prompt", "The node's \"inputs\" must be an object", it_inputs->dump());
    const auto& in = n.inputs();
    Inputs literals(n.id, n.class_type);
    bool node_ok = true;
    size_t before = r.errors.size();
    for (auto& s : def->inputs()) {
      auto it = in.find(s.name);
      if (it == in.end()) {
        if (!s.optional) add(n, s.name, "required_input_missing", "Required input is missing");
        continue;
      }
      if (is_link(*it)) {
        check_link(n, s, *it);
        continue;
      }
      if (!s.is_widget()) {
        add(n, s.name, "invalid_input_type", "Input of type " + s.type + " must be linked to a node output",
            s.name + ", " + shown(*it));
        continue;
      }
      std::string why;
      auto v = coerce_literal(s, *it, &why);
      if (!v) {
        add(n, s.name, s.type == kCombo ? "value_not_in_list" : "invalid_input_type",
            s.type == kCombo ? "Value not in list" : "Failed to convert an input value to a " + s.type + " value",
            s.name + ", " + shown(*it) + ", " + why);
        continue;
      }
      try {
        if (auto p = check_literal(s, *v, paths)) add(n, s.name, p->type, p->message, p->details);
        else literals.set(s.name, *v);
      } catch (const std::exception& e) {
        add(n, s.name, "exception_during_validation", "Exception when validating inner node", s.name + ", " + e.what());
      }
    }
    node_ok = r.errors.size() == before;
    if (def->validate_fn() && node_ok) {
      try {
        std::string problem = def->validate_fn()(literals);
        if (!problem.empty()) add(n, "", "custom_validation_failed", "Custom validation failed for node", problem);
      } catch (const std::exception& e) {
        add(n, "", "exception_during_validation", "Exception when validating node", e.what());
      }
    }
  }
};

}  // namespace

ValidationResult validate(const Graph& g, const Registry& reg, const Paths& paths) {
  ValidationResult r;
  Checker c{g, reg, paths, r};
  for (auto& n : g.nodes()) {
    if (n.class_type.empty())
      c.add(n, "", "invalid_prompt", "Cannot execute because a node is missing the class_type property.",
            "Node ID '#" + n.id + "'");
    else if (const NodeDef* def = reg.find(n.class_type); !def)
      c.add(n, "", "missing_node_type", "Node '" + n.class_type + "' not found. The node class is not known to vkflow.",
            n.class_type);
    else if (def->is_output_node())
      r.outputs.push_back(n.id);
  }
  std::set<std::string> scope;
  if (r.outputs.empty()) {
    for (auto& n : g.nodes()) scope.insert(n.id);
    bool unknown = false;  // an unknown class may be an output node: don't claim there are none
    for (auto& n : g.nodes()) unknown |= !reg.find(n.class_type);
    if (!unknown)
      r.errors.push_back({"prompt_no_outputs", "Prompt has no outputs",
                          "the graph needs at least one output node (e.g. SaveImage, PreviewAny)", "", "", ""});
  } else {
    scope = ancestors_of(g, r.outputs, reg);
  }
  for (auto& n : g.nodes())
    if (scope.count(n.id)) c.check_node(n);
  for (auto& cyc : find_cycles(g, scope, reg)) {
    std::string list;
    for (auto& id : cyc) list += (list.empty() ? "" : ", ") + id;
    const Node& first = *g.find(cyc.front());
    c.add(first, "", "dependency_cycle", "Dependency cycle detected", "nodes " + list + " depend on each other");
  }
  return r;
}

}  // namespace vkf::graph
