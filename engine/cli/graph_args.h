// Helpers shared by the graph commands (run, validate): option parsing, loading a graph file, --set.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/graph/graph.h"
#include "engine/graph/registry.h"

namespace vkf::cli {

// Matches `--name VALUE` or `--name=VALUE` at args[i] (advancing i past VALUE); throws UsageError when
// the value is missing or, in the first form, is another option (starts with "--").
std::optional<std::string> option_value(const std::vector<std::string>& args, size_t& i, const std::string& name);

// A positive integer option value (1..2^63); throws UsageError naming the option otherwise.
uint64_t parse_count(const std::string& text, const std::string& option);

// `--set` value: JSON when it parses (42, 7.5, true, "x", ["4", 0]), else the text itself.
nlohmann::json parse_set_value(const std::string& text);

// Applies `ID.INPUT=VALUE` overrides; throws UsageError naming the node or input when it does not exist.
void apply_sets(graph::Graph& g, const std::vector<std::string>& sets,
                const graph::Registry& reg = graph::Registry::instance());

// Loads a graph; on a parse error prints `vkflow <cmd>: file:line:col: ...` and returns nullopt (exit 2).
std::optional<graph::Graph> load_graph(const std::string& cmd, const std::string& path);

// The arguments every graph command takes: one graph file and repeatable `--set ID.INPUT=VALUE`.
struct GraphArgs {
  std::string file;
  std::vector<std::string> sets;
  bool help = false;  // --help / -h seen: the usage was printed and parsing stopped there
};
// Takes the command's own option at args[i] (advancing i past its value); false when args[i] is not one.
using OptionFn = std::function<bool(const std::vector<std::string>& args, size_t& i)>;

// Parses a graph command's arguments in order: --help (prints `usage` to stdout), --set, the command's own
// options, then the file. Throws UsageError for an unknown option, a second file, or no file.
GraphArgs parse_graph_args(const std::vector<std::string>& args, const char* usage, const OptionFn& own);

// load_graph(cmd, a.file) with a.sets applied; nullopt after a parse error was printed (exit 2).
std::optional<graph::Graph> load_graph_with_sets(const std::string& cmd, const GraphArgs& a);

}  // namespace vkf::cli
