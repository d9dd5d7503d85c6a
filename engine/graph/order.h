// Graph structure: which links a node depends on, ancestors of the outputs, cycles, topological order.
#pragma once
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "engine/graph/graph.h"
#include "engine/graph/registry.h"

namespace vkf::graph {

// The well-formed links of a node to nodes that exist: its declared inputs for a known class, every
// list-shaped input for an unknown one. Pairs of (input name, link), in schema (or JSON) order.
std::vector<std::pair<std::string, Link>> node_links(const Graph& g, const Node& n, const Registry& reg);

// Ids of `roots` and every node they depend on, directly or not.
std::set<std::string> ancestors_of(const Graph& g, const std::vector<std::string>& roots, const Registry& reg);

// Every dependency cycle among `subset` (a strongly connected component with more than one node, or a
// node linked to itself), each as its node ids in id order.
std::vector<std::vector<std::string>> find_cycles(const Graph& g, const std::set<std::string>& subset,
                                                  const Registry& reg);

// `subset` with dependencies first; among ready nodes the smallest id goes first (stable, readable
// progress). Throws GraphError on a cycle.
std::vector<std::string> topo_order(const Graph& g, const std::set<std::string>& subset, const Registry& reg);

}  // namespace vkf::graph
