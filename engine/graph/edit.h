// Undoable editing of a graph: the model the editor is a view over. Every user action is one undo step
// (a multi-node paste or a delete that also cuts links undoes at once); steps record the node entries
// before and after, so undo/redo restore exactly and never touch anything outside the graph (previews,
// cached outputs). Node positions and sizes live in each entry's `_meta` ("pos": [x, y], "size": [w, h]),
// which the executor ignores, so `vkflow run` runs an editor-saved graph unchanged.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/graph/graph.h"
#include "engine/graph/registry.h"

namespace vkf::graph {

// Whether a link may be made, and if not why (shown to the user).
struct LinkCheck {
  bool ok = false;
  std::string reason;
  explicit operator bool() const { return ok; }
};

// True when an output of type `out` may feed an input of type `in` ("*" matches anything; a widget input
// accepts a link of its own literal type, and a COMBO input a link of type COMBO or STRING).
bool types_compatible(const std::string& out, const std::string& in);

class GraphEditor {
 public:
  explicit GraphEditor(Graph g = {}, const Registry& reg = Registry::instance());

  const Graph& graph() const { return g_; }
  const Registry& registry() const { return reg_; }
  // Editor-only state (groups as UI-format frames: {"title", "bounding": [x, y, w, h], "color"}).
  const nlohmann::json& groups() const { return groups_; }

  // --- edits: each is one undo step (or part of the open transaction) ---------------------------------
  // Adds a node of `class_type` with every widget input at its default; returns the new id.
  std::string add_node(const std::string& class_type, float x, float y);
  // Removes the nodes and every link into them from the remaining nodes.
  void remove_nodes(const std::vector<std::string>& ids);
  LinkCheck can_connect(const std::string& from, int output, const std::string& to, const std::string& input) const;
  // Links from.output -> to.input, replacing any link already on that input. Refused links change nothing.
  LinkCheck connect(const std::string& from, int output, const std::string& to, const std::string& input);
  // Removes the link on to.input; a widget input returns to its default.
  void disconnect(const std::string& to, const std::string& input);
  // Sets a literal input (the caller has the widget's type; validation reports range errors before a run).
  void set_input(const std::string& id, const std::string& input, nlohmann::json value);
  void set_title(const std::string& id, const std::string& title);
  void move_nodes(const std::vector<std::string>& ids, float dx, float dy);
  void set_size(const std::string& id, float w, float h);
  void set_groups(nlohmann::json groups);

  // Copy: the nodes as an API-format map (links to nodes outside the selection are kept as they are).
  nlohmann::json copy(const std::vector<std::string>& ids) const;
  // Paste: fresh ids, links between pasted nodes remapped, links to nodes outside kept when those still
  // exist; positions offset by (dx, dy). One undo step. Returns the new ids.
  std::vector<std::string> paste(const nlohmann::json& clip, float dx, float dy);

  // Groups several edits into one undo step (nesting allowed; the outermost commit closes the step).
  void begin(const std::string& label);
  void commit();

  bool can_undo() const { return done_ > 0; }
  bool can_redo() const { return done_ < steps_.size(); }
  bool undo();
  bool redo();
  std::string undo_label() const;  // the step undo() would revert, "" if none

  bool dirty() const { return done_ != saved_; }
  void mark_saved() { saved_ = done_; }
  uint64_t revision() const { return revision_; }  // bumps on every change (views cache on it)

  // Node position/size from _meta (defaults when absent).
  static std::pair<float, float> pos(const Node& n);
  static std::pair<float, float> size(const Node& n);

 private:
  struct Change {
    std::string id;  // "" for the groups list
    nlohmann::json before, after;  // null: absent
  };
  struct Step {
    std::string label;
    std::vector<Change> changes;
  };
  void record(const std::string& label, const std::string& id, nlohmann::json before, nlohmann::json after);
  void apply(const Change& c, bool forward);
  nlohmann::json entry_of(const std::string& id) const;  // null when absent
  std::string fresh_id() const;

  Graph g_;
  const Registry& reg_;
  nlohmann::json groups_ = nlohmann::json::array();
  std::vector<Step> steps_;
  size_t done_ = 0, saved_ = 0;
  std::optional<Step> open_;
  int depth_ = 0;
  uint64_t revision_ = 0;
};

}  // namespace vkf::graph
