// Helpers shared by the graph commands (run, validate): option parsing, loading a graph file, --set.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/graph/graph.h"
#include "engine/graph/registry.h"

namespace vkf::cli {

// Matches `--name VALUE` or `--name=VALUE` at args[i] (advancing i past VALUE); throws UsageError when
// the value is missing.
std::optional<std::string> option_value(const std::vector<std::string>& args, size_t& i, const std::string& name);

// `--set` value: JSON when it parses (42, 7.5, true, "x", ["4", 0]), else the text itself.
nlohmann::json parse_set_value(const std::string& text);

// Applies `ID.INPUT=VALUE` overrides; throws UsageError naming the node or input when it does not exist.
void apply_sets(graph::Graph& g, const std::vector<std::string>& sets,
                const graph::Registry& reg = graph::Registry::instance());

// Loads a graph; on a parse error prints `vkflow <cmd>: file:line:col: ...` and returns nullopt (exit 2).
std::optional<graph::Graph> load_graph(const std::string& cmd, const std::string& path);

}  // namespace vkf::cli
