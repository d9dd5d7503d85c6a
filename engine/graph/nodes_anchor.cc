// Keeps the vkflow_nodes object library non-empty while a build has no node files (CMake refuses an
// OBJECT library without sources). Not part of vkflow_engine (.cc is outside its *.cpp glob).
namespace vkf::graph {
void nodes_anchor() {}
}  // namespace vkf::graph
