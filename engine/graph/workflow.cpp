#include "engine/graph/workflow.h"

#include <cerrno>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "engine/io/json_limits.h"
#include "engine/io/png_text.h"

namespace vkf::graph {
namespace {

using nlohmann::json;

struct WfLink {
  std::string from;
  int slot = 0;
  std::string type;
};

std::string id_text(const json& v) {
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  if (v.is_string()) return v.get<std::string>();
  throw ParseError("workflow: node id must be a number or string, got " + v.dump());
}

bool is_control_value(const json& v) {
  static const std::set<std::string> kControl = {"fixed", "increment", "decrement", "randomize"};
  return v.is_string() && kControl.count(v.get<std::string>()) > 0;
}

bool frontend_only(const std::string& type) {
  return type == "Note" || type == "MarkdownNote" || type == "Reroute" || type == "PrimitiveNode";
}

// [w, h] or the older {"0": w, "1": h}.
json pair_of(const json& v) {
  if (v.is_array() && v.size() >= 2 && v[0].is_number() && v[1].is_number()) return {v[0], v[1]};
  if (v.is_object() && v.contains("0") && v.contains("1") && v["0"].is_number() && v["1"].is_number())
    return {v["0"], v["1"]};
  return nullptr;
}

class Converter {
 public:
  Converter(const json& wf, const Registry& reg) : wf_(wf), reg_(reg) {
    for (auto& n : wf.at("nodes")) {
      if (!n.is_object() || !n.contains("id")) throw ParseError("workflow: every node needs an object with an \"id\"");
      nodes_[id_text(n["id"])] = &n;
    }
    for (auto& l : wf.at("links")) {
      json id, from, slot, to, type;
      if (l.is_array() && l.size() >= 5) id = l[0], from = l[1], slot = l[2], to = l[3], type = l.size() > 5 ? l[5] : json();
      else if (l.is_object()) id = l.value("id", json()), from = l.value("origin_id", json()), slot = l.value("origin_slot", json()),
                               type = l.value("type", json());
      else throw ParseError("workflow: malformed link " + l.dump());
      if (!id.is_number_integer() || !slot.is_number_integer())
        throw ParseError("workflow: link " + l.dump() + " needs integer id and origin slot");
      links_[id.get<int64_t>()] = {id_text(from), int(slot.get<int64_t>()), type.is_string() ? type.get<std::string>() : ""};
    }
  }

  json prompt() {
    json p = json::object();
    for (auto& [id, n] : nodes_) {
      std::string type = n->value("type", "");
      int mode = n->value("mode", 0);
      if (type.empty()) throw ParseError("workflow: node " + id + " has no \"type\"");
      if (frontend_only(type) || mode == 2 || mode == 4) continue;
      p[id] = convert(id, *n, type);
    }
    return p;
  }

 private:
  // The input slot's link id of node n, or -1.
  static int64_t input_link(const json& n, size_t slot) {
    auto ins = n.find("inputs");
    if (ins == n.end() || !ins->is_array() || slot >= ins->size()) return -1;
    const json l = (*ins)[slot].is_object() ? (*ins)[slot].value("link", json()) : json();
    return l.is_number_integer() ? l.get<int64_t>() : -1;
  }

  // What feeds link `lid` once reroutes and bypassed nodes are followed: a link, a literal, or nothing.
  json resolve(int64_t lid, int depth = 0) const {
    auto it = links_.find(lid);
    if (it == links_.end() || depth > 64) return nullptr;
    const WfLink& l = it->second;
    auto nit = nodes_.find(l.from);
    if (nit == nodes_.end()) return nullptr;
    const json& src = *nit->second;
    std::string type = src.value("type", "");
    int mode = src.value("mode", 0);
    if (type == "Reroute") return resolve(input_link(src, 0), depth + 1);
    if (type == "PrimitiveNode") {
      const json wv = src.value("widgets_values", json());  // const operator[] on a missing key is UB
      return wv.is_array() && !wv.empty() ? json::object({{"literal", wv[0]}}) : json();
    }
    if (mode == 2) return nullptr;
    if (mode == 4) {  // bypass: the input of the link's type, preferring the same slot
      auto ins = src.find("inputs");
      if (ins == src.end() || !ins->is_array()) return nullptr;
      std::vector<size_t> order;
      if (size_t(l.slot) < ins->size()) order.push_back(size_t(l.slot));
      for (size_t i = 0; i < ins->size(); ++i) order.push_back(i);
      for (size_t i : order) {
        const json& in = (*ins)[i];
        if (!in.is_object()) continue;
        const json link = in.value("link", json());
        if (in.value("type", "") == l.type && link.is_number_integer()) return resolve(link.get<int64_t>(), depth + 1);
      }
      return nullptr;
    }
    return json::array({l.from, l.slot});
  }

  json convert(const std::string& id, const json& n, const std::string& type) {
    json inputs = json::object();
    const NodeDef* def = reg_.find(type);
    const json& wv = n.contains("widgets_values") ? n["widgets_values"] : json();
    if (def && wv.is_array()) {
      size_t k = 0;
      for (auto& in : def->inputs()) {
        if (!in.is_widget()) continue;
        if (k >= wv.size()) break;
        inputs[in.name] = wv[k++];
        // control_after_generate; early frontends stored it as a boolean after the seed (ComfyUI's own
        // default workflow still has `156680208700286, true, 20, ...`).
        if (in.type == kInt && k < wv.size() &&
            (is_control_value(wv[k]) || (wv[k].is_boolean() && (in.name == "seed" || in.name == "noise_seed"))))
          ++k;
      }
    } else if (wv.is_object()) {
      for (auto& [k, v] : wv.items()) inputs[k] = v;
    }
    if (auto ins = n.find("inputs"); ins != n.end() && ins->is_array()) {
      for (size_t i = 0; i < ins->size(); ++i) {
        const json& in = (*ins)[i];
        if (!in.is_object() || !in.contains("name") || !in["name"].is_string())
          throw ParseError("workflow: node " + id + " (" + type + ") has a malformed input " + in.dump());
        int64_t lid = input_link(n, i);
        if (lid < 0) continue;
        json src = resolve(lid);
        std::string name = in["name"].get<std::string>();
        if (in.contains("widget") && in["widget"].is_object() && in["widget"].contains("name"))
          name = in["widget"]["name"].get<std::string>();
        if (src.is_array()) inputs[name] = src;
        else if (src.is_object()) inputs[name] = src["literal"];
      }
    }
    // A widget the workflow stores no value for shows its default in the frontend, and that is what it
    // queues (ComfyUI's default workflow has a SaveImage without widgets_values).
    if (def)
      for (auto& in : def->inputs())
        if (in.is_widget() && !inputs.contains(in.name) && !in.default_value.is_null()) inputs[in.name] = in.default_value;
    json meta = json::object();
    meta["title"] = n.contains("title") && n["title"].is_string() ? n["title"].get<std::string>()
                                                                    : (def ? def->display_name() : type);
    if (json p = pair_of(n.value("pos", json())); !p.is_null()) meta["pos"] = p;
    if (json s = pair_of(n.value("size", json())); !s.is_null()) meta["size"] = s;
    return {{"class_type", type}, {"inputs", inputs}, {"_meta", meta}};
  }

  const json& wf_;
  const Registry& reg_;
  std::map<std::string, const json*> nodes_;
  std::map<int64_t, WfLink> links_;
};

}  // namespace

bool is_workflow(const nlohmann::json& doc) {
  return doc.is_object() && doc.contains("nodes") && doc["nodes"].is_array() && doc.contains("links") &&
         doc["links"].is_array();
}

Graph graph_from_workflow(const nlohmann::json& wf, const Registry& reg) {
  if (!is_workflow(wf)) throw ParseError("not a ComfyUI workflow: expected an object with \"nodes\" and \"links\" lists");
  try {
    Converter c(wf, reg);
    nlohmann::json doc = {{"prompt", c.prompt()}, {"extra_data", {{"extra_pnginfo", {{"workflow", wf}}}}}};
    return Graph::from_json(std::move(doc));
  } catch (const nlohmann::json::exception& e) {  // a field of the wrong JSON type
    throw ParseError(std::string("malformed workflow: ") + e.what());
  }
}

nlohmann::json workflow_groups(const Graph& g) {
  nlohmann::json e = g.extra_pnginfo();
  if (e.is_object() && e.contains("workflow") && e["workflow"].is_object() && e["workflow"].contains("groups") &&
      e["workflow"]["groups"].is_array())
    return e["workflow"]["groups"];
  return nlohmann::json::array();
}

nlohmann::json workflow_from_graph(const Graph& g, const nlohmann::json& groups, const Registry& reg) {
  using nlohmann::json;
  // UI ids are integers: numeric ids keep theirs, others get fresh ones above the largest. Only ids up to
  // 2^53 (a JavaScript safe integer, what the frontend can hold) count as numeric, so strtoll's clamp on
  // overflow never aliases two ids and ++top cannot overflow.
  constexpr long long kMaxUiId = 1LL << 53;
  std::map<std::string, int64_t> uid;
  int64_t top = 0;
  for (auto& n : g.nodes()) {
    char* end = nullptr;
    errno = 0;
    long long v = std::strtoll(n.id.c_str(), &end, 10);
    if (!n.id.empty() && *end == '\0' && errno == 0 && v > 0 && v <= kMaxUiId)
      uid[n.id] = v, top = std::max<int64_t>(top, v);
  }
  for (auto& n : g.nodes())
    if (!uid.count(n.id)) uid[n.id] = ++top;

  json nodes = json::array(), links = json::array();
  std::map<std::string, json> outs;  // node id -> outputs list (links filled as we go)
  for (auto& n : g.nodes()) {
    json o = json::array();
    if (const NodeDef* def = reg.find(n.class_type))
      for (size_t i = 0; i < def->outputs().size(); ++i)
        o.push_back({{"name", def->outputs()[i].name}, {"type", def->outputs()[i].type}, {"links", json::array()},
                     {"slot_index", i}});
    outs[n.id] = o;
  }
  int64_t link_id = 0;
  size_t order = 0, col = 0;
  for (auto& n : g.nodes()) {
    const NodeDef* def = reg.find(n.class_type);
    json ins = json::array(), wv = json::array();
    if (def) {
      for (auto& in : def->inputs()) {
        const json* v = n.inputs().contains(in.name) ? &n.inputs()[in.name] : nullptr;
        auto l = v ? parse_link(*v) : std::nullopt;
        if (in.is_widget()) {
          json val = v && !l ? *v : in.default_value;
          wv.push_back(val);
          if (in.type == kInt && (in.name == "seed" || in.name == "noise_seed")) wv.push_back("fixed");
        }
        if (!in.is_widget() || l) {
          json entry = {{"name", in.name}, {"type", in.type}, {"link", nullptr}};
          if (in.is_widget()) entry["widget"] = {{"name", in.name}};
          if (l && outs.count(l->node) && size_t(l->output) < outs[l->node].size()) {
            ++link_id;
            entry["link"] = link_id;
            std::string t = outs[l->node][size_t(l->output)]["type"];
            links.push_back({link_id, uid[l->node], l->output, uid[n.id], ins.size(), t});
            outs[l->node][size_t(l->output)]["links"].push_back(link_id);
          }
          ins.push_back(entry);
        }
      }
    }
    json pos = nullptr, size = nullptr;
    if (auto m = n.entry.find("_meta"); m != n.entry.end() && m->is_object()) {
      pos = pair_of(m->value("pos", json()));
      size = pair_of(m->value("size", json()));
    }
    if (pos.is_null()) pos = {double(col % 4) * 340.0, double(col / 4) * 300.0}, ++col;
    if (size.is_null()) size = {300, 120};
    json node = {{"id", uid[n.id]}, {"type", n.class_type}, {"pos", pos}, {"size", size}, {"flags", json::object()},
                 {"order", order++}, {"mode", 0}, {"inputs", ins}, {"outputs", json::array()},
                 {"properties", {{"Node name for S&R", n.class_type}}}, {"widgets_values", wv}};
    if (!n.title().empty()) node["title"] = n.title();
    nodes.push_back(std::move(node));
  }
  for (auto& node : nodes) {
    for (auto& [id, u] : uid)
      if (u == node["id"].get<int64_t>()) node["outputs"] = outs[id];
  }
  return {{"last_node_id", top}, {"last_link_id", link_id}, {"nodes", nodes}, {"links", links},
          {"groups", groups.is_array() ? groups : json::array()}, {"config", json::object()},
          {"extra", json::object()}, {"version", 0.4}};
}

Graph load_graph_file(const std::filesystem::path& file, PngPrefer prefer, const Registry& reg) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw ParseError("cannot read graph file " + file.string());
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  static const char kPng[8] = {'\x89', 'P', 'N', 'G', '\r', '\n', '\x1a', '\n'};
  if (text.size() >= 8 && text.compare(0, 8, std::string(kPng, 8)) == 0) {
    std::map<std::string, std::string> chunks;
    try {
      chunks = io::read_png_text(file);
    } catch (const std::exception& e) {
      throw ParseError(e.what());
    }
    auto parse_chunk = [&](const char* key) -> nlohmann::json {
      auto it = chunks.find(key);
      if (it == chunks.end()) return nullptr;
      std::string why;
      auto j = io::parse_json_limited(it->second, &why);
      if (!j) throw ParseError(file.string() + ": the PNG's \"" + key + "\" text chunk: " + why);
      return std::move(*j);
    };
    nlohmann::json prompt = parse_chunk("prompt"), wf = parse_chunk("workflow");
    if (prefer == PngPrefer::Workflow && is_workflow(wf)) return graph_from_workflow(wf, reg);
    if (prompt.is_object()) {
      nlohmann::json doc = {{"prompt", prompt}};
      if (wf.is_object()) doc["extra_data"] = {{"extra_pnginfo", {{"workflow", wf}}}};
      return Graph::from_json(std::move(doc));
    }
    if (is_workflow(wf)) return graph_from_workflow(wf, reg);
    throw ParseError(file.string() + ": the PNG holds no \"prompt\" or \"workflow\" text chunk (not made by vkflow or ComfyUI)");
  }
  // Graph::parse reports syntax errors and too deep nesting with line and column.
  auto parsed = io::parse_json_limited(text);
  if (!parsed || !is_workflow(*parsed)) return Graph::parse(text, file.string());  // API format (or its error)
  nlohmann::json doc = std::move(*parsed);
  try {
    return graph_from_workflow(doc, reg);
  } catch (const ParseError& e) {
    throw ParseError(file.string() + ": " + e.what());
  } catch (const nlohmann::json::exception& e) {
    throw ParseError(file.string() + ": malformed workflow: " + e.what());
  }
}

}  // namespace vkf::graph
