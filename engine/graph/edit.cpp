#include "engine/graph/edit.h"

#include <algorithm>
#include <map>
#include <set>

namespace vkf::graph {

bool types_compatible(const std::string& out, const std::string& in) {
  if (out == kAny || in == kAny) return true;
  if (out == in) return true;
  if (in == kCombo && out == kString) return true;
  // ComfyUI joins alternatives with a comma ("IMAGE,MASK"): any shared member matches.
  auto split = [](const std::string& s) {
    std::set<std::string> r;
    size_t b = 0;
    for (size_t e; (e = s.find(',', b)) != std::string::npos; b = e + 1) r.insert(s.substr(b, e - b));
    r.insert(s.substr(b));
    return r;
  };
  auto a = split(out), b = split(in);
  return std::any_of(a.begin(), a.end(), [&](const std::string& t) { return b.count(t) > 0; });
}

GraphEditor::GraphEditor(Graph g, const Registry& reg) : g_(std::move(g)), reg_(reg) {}

nlohmann::json GraphEditor::entry_of(const std::string& id) const {
  const Node* n = g_.find(id);
  return n ? n->entry : nlohmann::json();
}

std::string GraphEditor::fresh_id() const {
  long best = 0;
  for (auto& n : g_.nodes()) {
    char* end = nullptr;
    long v = std::strtol(n.id.c_str(), &end, 10);
    if (end && *end == '\0') best = std::max(best, v);
  }
  return std::to_string(best + 1);
}

void GraphEditor::apply(const Change& c, bool forward) {
  const nlohmann::json& v = forward ? c.after : c.before;
  if (c.id.empty()) groups_ = v.is_null() ? nlohmann::json::array() : v;
  else if (v.is_null()) g_.remove_node(c.id);
  else g_.put_node(c.id, v);
  ++revision_;
}

void GraphEditor::record(const std::string& label, const std::string& id, nlohmann::json before, nlohmann::json after) {
  if (before == after) return;
  Change c{id, std::move(before), std::move(after)};
  apply(c, true);
  begin(label);
  // Several changes to one target inside a step collapse into one (first before, last after).
  auto it = std::find_if(open_->changes.begin(), open_->changes.end(), [&](const Change& x) { return x.id == id; });
  if (it != open_->changes.end()) it->after = std::move(c.after);
  else open_->changes.push_back(std::move(c));
  commit();
}

void GraphEditor::begin(const std::string& label) {
  if (depth_++ == 0) open_ = Step{label, {}};
}

void GraphEditor::commit() {
  if (depth_ == 0 || --depth_ > 0) return;
  Step s = std::move(*open_);
  open_.reset();
  if (s.changes.empty()) return;
  steps_.resize(done_);  // a new action drops the redo branch
  if (saved_ > done_) saved_ = SIZE_MAX;  // the saved state is gone for good
  steps_.push_back(std::move(s));
  done_ = steps_.size();
}

bool GraphEditor::undo() {
  if (!can_undo() || depth_ > 0) return false;
  const Step& s = steps_[--done_];
  for (auto it = s.changes.rbegin(); it != s.changes.rend(); ++it) apply(*it, false);
  return true;
}

bool GraphEditor::redo() {
  if (!can_redo() || depth_ > 0) return false;
  const Step& s = steps_[done_++];
  for (auto& c : s.changes) apply(c, true);
  return true;
}

std::string GraphEditor::undo_label() const { return can_undo() ? steps_[done_ - 1].label : ""; }

std::pair<float, float> GraphEditor::pos(const Node& n) {
  auto m = n.entry.find("_meta");
  if (m != n.entry.end() && m->is_object()) {
    auto p = m->find("pos");
    if (p != m->end() && p->is_array() && p->size() == 2 && (*p)[0].is_number() && (*p)[1].is_number())
      return {(*p)[0].get<float>(), (*p)[1].get<float>()};
  }
  return {0.f, 0.f};
}

std::pair<float, float> GraphEditor::size(const Node& n) {
  auto m = n.entry.find("_meta");
  if (m != n.entry.end() && m->is_object()) {
    auto p = m->find("size");
    if (p != m->end() && p->is_array() && p->size() == 2 && (*p)[0].is_number() && (*p)[1].is_number())
      return {(*p)[0].get<float>(), (*p)[1].get<float>()};
  }
  return {0.f, 0.f};  // 0: the view sizes the node from its contents
}

std::string GraphEditor::add_node(const std::string& class_type, float x, float y) {
  const NodeDef& def = reg_.get(class_type);  // throws GraphError for an unknown class
  nlohmann::json inputs = nlohmann::json::object();
  for (auto& in : def.inputs()) {
    if (!in.is_widget()) continue;
    if (!in.default_value.is_null()) inputs[in.name] = in.default_value;
    else if (in.type == kCombo) {
      auto opts = in.combo_options({});
      if (!opts.empty()) inputs[in.name] = opts.front();
    }
  }
  std::string id = fresh_id();
  nlohmann::json e = {{"class_type", class_type},
                      {"inputs", inputs},
                      {"_meta", {{"title", def.display_name()}, {"pos", {x, y}}}}};
  record("Add " + def.display_name(), id, nullptr, std::move(e));
  return id;
}

void GraphEditor::remove_nodes(const std::vector<std::string>& ids) {
  std::set<std::string> gone(ids.begin(), ids.end());
  begin(ids.size() == 1 ? "Delete node" : "Delete " + std::to_string(ids.size()) + " nodes");
  for (auto& n : g_.nodes()) {  // cut links from the deleted nodes first
    if (gone.count(n.id)) continue;
    nlohmann::json e = n.entry;
    bool changed = false;
    if (e.contains("inputs") && e["inputs"].is_object()) {
      auto& ins = e["inputs"];
      for (auto it = ins.begin(); it != ins.end();) {
        auto l = parse_link(*it);
        if (l && gone.count(l->node)) {
          it = ins.erase(it), changed = true;
        } else {
          ++it;
        }
      }
    }
    if (changed) {
      // Widget inputs fall back to their default, as a fresh node has.
      if (const NodeDef* def = reg_.find(n.class_type))
        for (auto& in : def->inputs())
          if (in.is_widget() && !e["inputs"].contains(in.name) && !in.default_value.is_null())
            e["inputs"][in.name] = in.default_value;
      record("", n.id, n.entry, std::move(e));
    }
  }
  for (auto& id : ids) record("", id, entry_of(id), nullptr);
  commit();
}

LinkCheck GraphEditor::can_connect(const std::string& from, int output, const std::string& to,
                                   const std::string& input) const {
  const Node* src = g_.find(from);
  const Node* dst = g_.find(to);
  if (!src || !dst) return {false, "no node '" + (src ? to : from) + "'"};
  if (from == to) return {false, "a node cannot feed itself"};
  const NodeDef* sd = reg_.find(src->class_type);
  const NodeDef* dd = reg_.find(dst->class_type);
  if (!sd || !dd) return {false, "unknown node class '" + (sd ? dst->class_type : src->class_type) + "'"};
  if (output < 0 || size_t(output) >= sd->outputs().size())
    return {false, src->class_type + " has no output " + std::to_string(output)};
  const InputSpec* in = dd->find_input(input);
  if (!in) return {false, dst->class_type + " has no input '" + input + "'"};
  const std::string& ot = sd->outputs()[size_t(output)].type;
  if (!types_compatible(ot, in->type))
    return {false, "type mismatch: output " + sd->outputs()[size_t(output)].name + " is " + ot + ", input '" + input +
                       "' takes " + in->type};
  // A link from a descendant of `to` would close a cycle.
  std::vector<std::string> stack{from};
  std::set<std::string> seen;
  while (!stack.empty()) {
    std::string id = stack.back();
    stack.pop_back();
    if (id == to) return {false, "the link would create a cycle"};
    if (!seen.insert(id).second) continue;
    if (const Node* n = g_.find(id))
      for (auto& [k, v] : n->inputs().items())
        if (auto l = parse_link(v)) stack.push_back(l->node);
  }
  return {true, ""};
}

LinkCheck GraphEditor::connect(const std::string& from, int output, const std::string& to, const std::string& input) {
  LinkCheck c = can_connect(from, output, to, input);
  if (!c) return c;
  nlohmann::json e = entry_of(to);
  if (!e.contains("inputs") || !e["inputs"].is_object()) e["inputs"] = nlohmann::json::object();
  e["inputs"][input] = nlohmann::json::array({from, output});
  record("Connect " + input, to, entry_of(to), std::move(e));
  return c;
}

void GraphEditor::disconnect(const std::string& to, const std::string& input) {
  const Node* n = g_.find(to);
  if (!n || !n->inputs().contains(input) || !is_link(n->inputs()[input])) return;
  nlohmann::json e = n->entry;
  e["inputs"].erase(input);
  if (const NodeDef* def = reg_.find(n->class_type))
    if (const InputSpec* in = def->find_input(input); in && in->is_widget() && !in->default_value.is_null())
      e["inputs"][input] = in->default_value;
  record("Disconnect " + input, to, n->entry, std::move(e));
}

void GraphEditor::set_input(const std::string& id, const std::string& input, nlohmann::json value) {
  nlohmann::json e = entry_of(id);
  if (e.is_null()) throw GraphError("no node with id '" + id + "' in the graph");
  if (!e.contains("inputs") || !e["inputs"].is_object()) e["inputs"] = nlohmann::json::object();
  e["inputs"][input] = std::move(value);
  record("Set " + input, id, entry_of(id), std::move(e));
}

void GraphEditor::set_title(const std::string& id, const std::string& title) {
  nlohmann::json e = entry_of(id);
  if (e.is_null()) return;
  e["_meta"]["title"] = title;
  record("Rename", id, entry_of(id), std::move(e));
}

void GraphEditor::move_nodes(const std::vector<std::string>& ids, float dx, float dy) {
  begin("Move");
  for (auto& id : ids)
    if (const Node* n = g_.find(id)) {
      auto [x, y] = pos(*n);
      nlohmann::json e = n->entry;
      e["_meta"]["pos"] = {x + dx, y + dy};
      record("", id, n->entry, std::move(e));
    }
  commit();
}

void GraphEditor::set_size(const std::string& id, float w, float h) {
  nlohmann::json e = entry_of(id);
  if (e.is_null()) return;
  e["_meta"]["size"] = {w, h};
  record("Resize", id, entry_of(id), std::move(e));
}

void GraphEditor::set_groups(nlohmann::json groups) { record("Edit groups", "", groups_, std::move(groups)); }

nlohmann::json GraphEditor::copy(const std::vector<std::string>& ids) const {
  nlohmann::json out = nlohmann::json::object();
  for (auto& id : ids)
    if (const Node* n = g_.find(id)) out[id] = n->entry;
  return out;
}

std::vector<std::string> GraphEditor::paste(const nlohmann::json& clip, float dx, float dy) {
  std::vector<std::string> made;
  if (!clip.is_object() || clip.empty()) return made;
  std::map<std::string, std::string> remap;
  long next = std::stol(fresh_id());
  for (auto& [id, e] : clip.items()) remap[id] = std::to_string(next++);
  begin(clip.size() == 1 ? "Paste node" : "Paste " + std::to_string(clip.size()) + " nodes");
  for (auto& [id, e0] : clip.items()) {
    if (!e0.is_object() || !e0.contains("class_type")) continue;
    nlohmann::json e = e0;
    if (e.contains("inputs") && e["inputs"].is_object())
      for (auto it = e["inputs"].begin(); it != e["inputs"].end();) {
        auto l = parse_link(*it);
        if (!l) { ++it; continue; }
        if (auto r = remap.find(l->node); r != remap.end()) (*it)[0] = r->second, ++it;
        else if (g_.find(l->node)) ++it;  // a link into the rest of the graph stays
        else it = e["inputs"].erase(it);
      }
    float x = 0, y = 0;
    if (auto p = e.find("_meta"); p != e.end() && p->is_object() && p->contains("pos") && (*p)["pos"].is_array() &&
                                  (*p)["pos"].size() == 2)
      x = (*p)["pos"][0].get<float>(), y = (*p)["pos"][1].get<float>();
    e["_meta"]["pos"] = {x + dx, y + dy};
    record("", remap[id], nullptr, std::move(e));
    made.push_back(remap[id]);
  }
  commit();
  return made;
}

}  // namespace vkf::graph
