// The graph model: a ComfyUI "API format" prompt, {"<id>": {"class_type", "inputs", "_meta"}}, or the
// /prompt body wrapper {"prompt": {...}, "extra_data": {...}}. Everything else in the document is kept,
// so it can be re-emitted (SaveImage embeds the prompt in its PNG).
#pragma once
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/graph/errors.h"

namespace vkf::graph {

// An input wired to output `output` of node `node` (JSON: ["<id>", <index>]).
struct Link {
  std::string node;
  int output = 0;
};

// ComfyUI treats every JSON list in "inputs" as a link. Returns the link, or the reason it is malformed.
bool is_link(const nlohmann::json& v);
std::optional<Link> parse_link(const nlohmann::json& v, std::string* why = nullptr);

struct Node {
  std::string id;
  std::string class_type;  // "" when the entry lacks it (validation reports invalid_prompt)
  nlohmann::json entry;    // the node's JSON as in the document (inputs, _meta, anything else)

  const nlohmann::json& inputs() const;  // the "inputs" object (an empty object when absent)
  std::string title() const;             // _meta.title, or "" when absent
};

class Graph {
 public:
  Graph() = default;
  static Graph from_json(nlohmann::json doc);  // throws ParseError for a non-object document
  // Throws ParseError with the parser's 1-based line and column; `source` names the file in messages.
  static Graph parse(std::string_view text, const std::string& source = "<graph>");
  static Graph load(const std::filesystem::path& file);  // ParseError also for an unreadable file

  const std::vector<Node>& nodes() const { return nodes_; }  // ids in natural order: 2 < 10 < 10a
  const Node* find(const std::string& id) const;
  // Sets (or adds) one literal or link input, as `vkflow run --set ID.INPUT=VALUE` does.
  void set_input(const std::string& id, const std::string& input, nlohmann::json value);
  // Editing (engine/graph/edit.h builds undoable commands on these): inserts or replaces the node `id`
  // with `entry` (its class_type read from it), or removes it; ids stay in natural order.
  void put_node(const std::string& id, nlohmann::json entry);
  bool remove_node(const std::string& id);

  nlohmann::json prompt() const;    // the node map with current inputs (plus a flat document's other keys)
  nlohmann::json document() const;  // the whole document as loaded, with current inputs
  // extra_data.extra_pnginfo of a wrapped document (ComfyUI writes each key as a PNG text chunk); null if none.
  nlohmann::json extra_pnginfo() const;
  bool wrapped() const { return wrapped_; }

 private:
  nlohmann::json doc_;  // as loaded; node entries are refreshed from nodes_ on output
  bool wrapped_ = false;
  std::vector<Node> nodes_;
};

// Natural ordering of node ids ("2" < "10"), used wherever nodes are listed.
bool id_less(const std::string& a, const std::string& b);

}  // namespace vkf::graph
