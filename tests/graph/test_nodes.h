// Test-only node classes for the graph tests, in a registry of their own (the process-wide one stays as
// the executables see it). Every class counts its executions; sinks record the order they ran in.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "engine/graph/graph.h"
#include "engine/graph/registry.h"

namespace vkf::test {

const graph::Registry& test_registry();

// Executions per class_type + node id ("TestAdd#3"), and every executed node id in order.
std::map<std::string, int>& exec_counts();
std::vector<std::string>& exec_order();
void reset_counts();
int count_of(const std::string& class_type);  // sum over nodes of that class

// Value the TestChanged node's is_changed() hook reports (stands for a file's mtime).
std::string& changed_token();

// A graph from JSON text (test graphs are literals).
graph::Graph graph_of(const std::string& json);

}  // namespace vkf::test
