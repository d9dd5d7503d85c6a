// ComfyUI's UI "workflow" format (what people share, and what its PNGs carry as the "workflow" chunk):
// {"nodes": [{"id", "type", "pos", "size", "mode", "inputs": [{name, type, link}], "outputs": [...],
// "widgets_values": [...]}], "links": [[id, from, from_slot, to, to_slot, type]], "groups": [...]}.
// widgets_values map to the class's widget inputs in declaration order; the "control_after_generate"
// value the frontend stores after a seed ("fixed", "randomize", ...) is skipped. Muted nodes (mode 2) are
// left out, bypassed nodes (mode 4) pass their input of the same type through, Reroute nodes are followed,
// PrimitiveNode values become literals, and Note/MarkdownNote are dropped, as the frontend's graphToPrompt.
#pragma once
#include <filesystem>

#include <nlohmann/json.hpp>

#include "engine/graph/graph.h"
#include "engine/graph/registry.h"

namespace vkf::graph {

// A UI-format document: an object with "nodes" and "links" lists.
bool is_workflow(const nlohmann::json& doc);

// The API-format graph of a workflow, wrapped with the workflow as extra_data.extra_pnginfo.workflow (so
// SaveImage embeds it again). Positions, sizes and titles go to each node's _meta. Throws ParseError
// naming the node or link that is malformed.
Graph graph_from_workflow(const nlohmann::json& wf, const Registry& reg = Registry::instance());

// The UI-format workflow of a graph: positions/sizes from _meta (a simple column layout where absent),
// widgets_values in declaration order (seeds followed by "fixed"), `groups` as given.
nlohmann::json workflow_from_graph(const Graph& g, const nlohmann::json& groups = nlohmann::json::array(),
                                   const Registry& reg = Registry::instance());

// The groups of the workflow a graph was loaded from (extra_pnginfo.workflow.groups), or [].
nlohmann::json workflow_groups(const Graph& g);

// Which chunk of a PNG to read first: the API "prompt" (what ran; `vkflow run`) or the UI "workflow"
// (positions and groups; the editor). The other is the fallback.
enum class PngPrefer { Prompt, Workflow };

// A graph file of any kind: API-format JSON (flat or /prompt wrapper), UI-format JSON, or a vkflow/ComfyUI
// PNG. Throws ParseError naming the file (line and column for bad JSON).
Graph load_graph_file(const std::filesystem::path& file, PngPrefer prefer = PngPrefer::Prompt,
                      const Registry& reg = Registry::instance());

}  // namespace vkf::graph
