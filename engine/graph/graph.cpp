#include "engine/graph/graph.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

#include "engine/io/json_limits.h"

namespace vkf::graph {

bool is_link(const nlohmann::json& v) { return v.is_array(); }

std::optional<Link> parse_link(const nlohmann::json& v, std::string* why) {
  auto fail = [&](const std::string& w) -> std::optional<Link> {
    if (why) *why = w;
    return std::nullopt;
  };
  if (!v.is_array() || v.size() != 2) return fail("must be a length-2 list of [node_id, slot_index], got " + v.dump());
  Link l;
  if (v[0].is_string()) l.node = v[0].get<std::string>();
  else if (v[0].is_number_integer()) l.node = std::to_string(v[0].get<int64_t>());  // some tools write ids as numbers
  else return fail("node id must be a string, got " + v[0].dump());
  if (!v[1].is_number_integer() || v[1].get<int64_t>() < 0 || v[1].get<int64_t>() > 1 << 20)
    return fail("slot index must be a non-negative integer, got " + v[1].dump());
  l.output = static_cast<int>(v[1].get<int64_t>());
  return l;
}

const nlohmann::json& Node::inputs() const {
  static const nlohmann::json empty = nlohmann::json::object();
  auto it = entry.find("inputs");
  return it != entry.end() && it->is_object() ? *it : empty;
}

std::string Node::title() const {
  auto m = entry.find("_meta");
  if (m == entry.end() || !m->is_object()) return "";
  auto t = m->find("title");
  return t != m->end() && t->is_string() ? t->get<std::string>() : "";
}

bool id_less(const std::string& a, const std::string& b) {
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (std::isdigit((unsigned char)a[i]) && std::isdigit((unsigned char)b[j])) {
      size_t i2 = i, j2 = j;
      while (i2 < a.size() && std::isdigit((unsigned char)a[i2])) ++i2;
      while (j2 < b.size() && std::isdigit((unsigned char)b[j2])) ++j2;
      auto na = a.substr(i, i2 - i), nb = b.substr(j, j2 - j);
      na.erase(0, std::min(na.find_first_not_of('0'), na.size()));
      nb.erase(0, std::min(nb.find_first_not_of('0'), nb.size()));
      if (na.size() != nb.size()) return na.size() < nb.size();
      if (na != nb) return na < nb;
      i = i2, j = j2;
    } else {
      if (a[i] != b[j]) return a[i] < b[j];
      ++i, ++j;
    }
  }
  if (a.size() - i != b.size() - j) return a.size() - i < b.size() - j;
  return a < b;  // "01" vs "1": any strict order
}

namespace {
// A node entry is an object naming a class or holding inputs; anything else is an extra key to keep.
bool looks_like_node(const nlohmann::json& v) { return v.is_object() && (v.contains("class_type") || v.contains("inputs")); }
}  // namespace

Graph Graph::from_json(nlohmann::json doc) {
  if (!doc.is_object()) throw ParseError("a graph must be a JSON object of nodes, got " + std::string(doc.type_name()));
  Graph g;
  g.doc_ = std::move(doc);
  auto p = g.doc_.find("prompt");
  g.wrapped_ = p != g.doc_.end() && p->is_object() && !looks_like_node(*p);
  const nlohmann::json& map = g.wrapped_ ? *p : g.doc_;
  for (auto& [id, v] : map.items()) {
    if (!looks_like_node(v)) continue;
    Node n;
    n.id = id;
    auto ct = v.find("class_type");
    if (ct != v.end() && ct->is_string()) n.class_type = ct->get<std::string>();
    n.entry = v;
    g.nodes_.push_back(std::move(n));
  }
  std::sort(g.nodes_.begin(), g.nodes_.end(), [](const Node& a, const Node& b) { return id_less(a.id, b.id); });
  return g;
}

Graph Graph::parse(std::string_view text, const std::string& source) {
  nlohmann::json doc;
  if (size_t at = io::json_depth_violation(text); at != std::string_view::npos) {
    auto [line, col] = io::line_col(text, at);
    throw ParseError(source + ": JSON nested deeper than " + std::to_string(io::kMaxJsonDepth) + " levels at line " +
                         std::to_string(line) + ", column " + std::to_string(col),
                     line, col);
  }
  try {
    doc = nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::parse_error& e) {
    // Recompute line/column from the byte offset: the message's own position format varies by version.
    auto [line, col] = io::line_col(text, e.byte ? e.byte - 1 : 0);
    std::string what = e.what();
    auto colon = what.find(": ", what.find("parse error"));
    std::string detail = colon == std::string::npos ? what : what.substr(colon + 2);
    throw ParseError(source + ": invalid JSON at line " + std::to_string(line) + ", column " + std::to_string(col) +
                         ": " + detail,
                     line, col);
  } catch (const nlohmann::json::exception& e) {  // out_of_range.406: a number beyond double ("1e309")
    std::string what = e.what();
    auto sp = what.find("] ");
    throw ParseError(source + ": invalid JSON: " + (sp == std::string::npos ? what : what.substr(sp + 2)));
  }
  try {
    return from_json(std::move(doc));
  } catch (const ParseError& e) {
    throw ParseError(source + ": " + e.what());
  }
}

Graph Graph::load(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw ParseError("cannot read graph file " + file.string());
  std::stringstream ss;
  ss << in.rdbuf();
  return parse(ss.str(), file.string());
}

// nodes_ is sorted by id_less (a strict total order), so lookups are binary searches: the executor and
// validation look nodes up per link, and a linear scan made 10^5-node graphs quadratic.
const Node* Graph::find(const std::string& id) const {
  auto it = std::lower_bound(nodes_.begin(), nodes_.end(), id, [](const Node& a, const std::string& b) { return id_less(a.id, b); });
  return it != nodes_.end() && it->id == id ? &*it : nullptr;
}

void Graph::set_input(const std::string& id, const std::string& input, nlohmann::json value) {
  Node* n = const_cast<Node*>(find(id));
  if (!n) throw GraphError("no node with id '" + id + "' in the graph");
  if (!n->entry.contains("inputs") || !n->entry["inputs"].is_object()) n->entry["inputs"] = nlohmann::json::object();
  n->entry["inputs"][input] = std::move(value);
}

void Graph::put_node(const std::string& id, nlohmann::json entry) {
  Node n;
  n.id = id;
  auto ct = entry.find("class_type");
  if (ct != entry.end() && ct->is_string()) n.class_type = ct->get<std::string>();
  n.entry = std::move(entry);
  auto it = std::lower_bound(nodes_.begin(), nodes_.end(), id, [](const Node& a, const std::string& b) { return id_less(a.id, b); });
  if (it != nodes_.end() && it->id == id) *it = std::move(n);
  else nodes_.insert(it, std::move(n));
}

bool Graph::remove_node(const std::string& id) {
  const Node* n = find(id);
  if (!n) return false;
  nodes_.erase(nodes_.begin() + (n - nodes_.data()));
  return true;
}

nlohmann::json Graph::prompt() const {
  nlohmann::json p = wrapped_ ? doc_.at("prompt") : doc_;
  if (!p.is_object()) p = nlohmann::json::object();
  for (auto it = p.begin(); it != p.end();) {  // node entries come from nodes_ (some may have been removed)
    if (looks_like_node(*it)) it = p.erase(it);
    else ++it;
  }
  for (auto& n : nodes_) p[n.id] = n.entry;
  return p;
}

nlohmann::json Graph::document() const {
  if (!wrapped_) return prompt();
  nlohmann::json d = doc_;
  d["prompt"] = prompt();
  return d;
}

nlohmann::json Graph::extra_pnginfo() const {
  if (!wrapped_) return nullptr;
  auto e = doc_.find("extra_data");
  if (e == doc_.end() || !e->is_object()) return nullptr;
  auto p = e->find("extra_pnginfo");
  return p == e->end() ? nlohmann::json() : *p;
}

}  // namespace vkf::graph
