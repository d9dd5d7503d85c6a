#include "engine/cli/graph_args.h"

#include <iostream>

#include "engine/cli/command.h"
#include "engine/io/json_limits.h"
#include "engine/graph/workflow.h"

namespace vkf::cli {

std::optional<std::string> option_value(const std::vector<std::string>& args, size_t& i, const std::string& name) {
  const std::string& a = args[i];
  if (a == name) {
    if (i + 1 >= args.size()) throw UsageError(name + " needs a value");
    // `--output-dir --quiet` is a forgotten value, not a folder named "--quiet" (`--output-dir=--x` is one).
    if (args[i + 1].rfind("--", 0) == 0)
      throw UsageError(name + " needs a value (got the option '" + args[i + 1] + "'; use " + name + "=VALUE for one that starts with --)");
    return args[++i];
  }
  if (a.rfind(name + "=", 0) == 0) return a.substr(name.size() + 1);
  return std::nullopt;
}

uint64_t parse_count(const std::string& text, const std::string& option) {
  if (text.empty() || text.size() > 18 || text.find_first_not_of("0123456789") != std::string::npos ||
      std::stoull(text) == 0)
    throw UsageError(option + " expects a positive integer, got '" + text + "'");
  return std::stoull(text);
}

nlohmann::json parse_set_value(const std::string& text) {
  std::string why;
  auto j = io::parse_json_limited(text, &why);
  if (j) return *j;
  if (why.find("nested") != std::string::npos) throw UsageError("--set value: " + why);
  return nlohmann::json(text);
}

void apply_sets(graph::Graph& g, const std::vector<std::string>& sets, const graph::Registry& reg) {
  for (auto& s : sets) {
    auto eq = s.find('='), dot = s.find('.');
    if (eq == std::string::npos || dot == std::string::npos || dot > eq || dot == 0 || dot + 1 == eq)
      throw UsageError("--set expects ID.INPUT=VALUE, got '" + s + "'");
    std::string id = s.substr(0, dot), input = s.substr(dot + 1, eq - dot - 1);
    const graph::Node* n = g.find(id);
    if (!n) throw UsageError("--set " + s + ": the graph has no node with id '" + id + "'");
    if (const graph::NodeDef* def = reg.find(n->class_type); def && !def->find_input(input)) {
      std::string names;
      for (auto& in : def->inputs()) names += (names.empty() ? "" : ", ") + in.name;
      throw UsageError("--set " + s + ": node " + id + " (" + n->class_type + ") has no input '" + input +
                       "' (inputs: " + names + ")");
    }
    g.set_input(id, input, parse_set_value(s.substr(eq + 1)));
  }
}

std::optional<graph::Graph> load_graph(const std::string& cmd, const std::string& path) {
  try {
    return graph::load_graph_file(path);  // API or UI-format JSON, or a vkflow/ComfyUI PNG
  } catch (const graph::ParseError& e) {
    std::cerr << "vkflow " << cmd << ": " << e.what() << "\n";
    return std::nullopt;
  }
}

GraphArgs parse_graph_args(const std::vector<std::string>& args, const char* usage, const OptionFn& own) {
  GraphArgs out;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") {
      std::cout << usage;
      out.help = true;
      return out;
    }
    if (auto v = option_value(args, i, "--set")) out.sets.push_back(*v);
    else if (own && own(args, i)) continue;
    else if (a.rfind("-", 0) == 0) throw UsageError("unknown option " + a);
    else if (out.file.empty()) out.file = a;
    else throw UsageError("more than one graph file given ('" + out.file + "', '" + a + "')");
  }
  if (out.file.empty()) throw UsageError("no graph file given");
  return out;
}

std::optional<graph::Graph> load_graph_with_sets(const std::string& cmd, const GraphArgs& a) {
  auto g = load_graph(cmd, a.file);
  if (g) apply_sets(*g, a.sets);
  return g;
}

}  // namespace vkf::cli
