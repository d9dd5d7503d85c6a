#include "engine/graph/order.h"

#include <algorithm>
#include <map>

namespace vkf::graph {

std::vector<std::pair<std::string, Link>> node_links(const Graph& g, const Node& n, const Registry& reg) {
  std::vector<std::pair<std::string, Link>> out;
  auto add = [&](const std::string& name, const nlohmann::json& v) {
    if (!is_link(v)) return;
    auto l = parse_link(v);
    if (l && g.find(l->node)) out.emplace_back(name, *l);
  };
  const auto& in = n.inputs();
  if (const NodeDef* def = reg.find(n.class_type)) {
    for (auto& s : def->inputs())
      if (auto it = in.find(s.name); it != in.end()) add(s.name, *it);
  } else {
    for (auto& [k, v] : in.items()) add(k, v);
  }
  return out;
}

std::set<std::string> ancestors_of(const Graph& g, const std::vector<std::string>& roots, const Registry& reg) {
  std::set<std::string> seen;
  std::vector<std::string> stack(roots.begin(), roots.end());
  while (!stack.empty()) {
    std::string id = stack.back();
    stack.pop_back();
    const Node* n = g.find(id);
    if (!n || !seen.insert(id).second) continue;
    for (auto& [_, l] : node_links(g, *n, reg)) stack.push_back(l.node);
  }
  return seen;
}

std::vector<std::vector<std::string>> find_cycles(const Graph& g, const std::set<std::string>& subset,
                                                  const Registry& reg) {
  // Tarjan's strongly connected components with an explicit stack: a chain of 10^5 nodes would overflow
  // the call stack if recursive.
  std::map<std::string, int> index, low;
  std::set<std::string> on_stack;
  std::vector<std::string> stack;
  std::vector<std::vector<std::string>> cycles;
  int counter = 0;
  struct Frame {
    std::string v;
    std::vector<std::string> next;  // linked nodes inside the subset
    size_t pos = 0;
    bool self_loop = false;
  };
  auto open = [&](const std::string& v) {
    index[v] = low[v] = counter++;
    stack.push_back(v);
    on_stack.insert(v);
    Frame f{v, {}, 0, false};
    for (auto& [_, l] : node_links(g, *g.find(v), reg)) {
      if (!subset.count(l.node)) continue;
      if (l.node == v) f.self_loop = true;
      f.next.push_back(l.node);
    }
    return f;
  };
  std::vector<Frame> frames;
  for (auto& n : g.nodes()) {
    if (!subset.count(n.id) || index.count(n.id)) continue;
    frames.push_back(open(n.id));
    while (!frames.empty()) {
      Frame& f = frames.back();
      if (f.pos < f.next.size()) {
        const std::string w = f.next[f.pos++];
        if (!index.count(w)) frames.push_back(open(w));
        else if (on_stack.count(w)) low[f.v] = std::min(low[f.v], index[w]);
        continue;
      }
      const std::string v = f.v;
      const bool self_loop = f.self_loop;
      frames.pop_back();
      if (!frames.empty()) low[frames.back().v] = std::min(low[frames.back().v], low[v]);
      if (low[v] != index[v]) continue;
      std::vector<std::string> comp;
      std::string w;
      do {
        w = stack.back();
        stack.pop_back();
        on_stack.erase(w);
        comp.push_back(w);
      } while (w != v);
      if (comp.size() > 1 || self_loop) {
        std::sort(comp.begin(), comp.end(), id_less);
        cycles.push_back(std::move(comp));
      }
    }
  }
  return cycles;
}

std::vector<std::string> topo_order(const Graph& g, const std::set<std::string>& subset, const Registry& reg) {
  // Kahn's algorithm; `ready` ordered by id so the order is deterministic.
  std::map<std::string, int> pending;
  std::map<std::string, std::vector<std::string>> consumers;
  for (auto& id : subset) {
    pending[id] = 0;
    std::set<std::string> deps;
    for (auto& [_, l] : node_links(g, *g.find(id), reg))
      if (subset.count(l.node)) deps.insert(l.node);
    for (auto& d : deps) {
      ++pending[id];
      consumers[d].push_back(id);
    }
  }
  auto cmp = [](const std::string& a, const std::string& b) { return id_less(a, b); };
  std::set<std::string, decltype(cmp)> ready(cmp);
  for (auto& [id, n] : pending)
    if (n == 0) ready.insert(id);
  std::vector<std::string> order;
  while (!ready.empty()) {
    std::string id = *ready.begin();
    ready.erase(ready.begin());
    order.push_back(id);
    for (auto& c : consumers[id])
      if (--pending[c] == 0) ready.insert(c);
  }
  if (order.size() != subset.size()) throw GraphError("dependency cycle detected");
  return order;
}

}  // namespace vkf::graph
