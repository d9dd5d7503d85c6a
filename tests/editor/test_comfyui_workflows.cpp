// ComfyUI's own UI workflows (tests/editor/data, copied from its frontend's browser tests) through the
// workflow importer: widgets_values mapped in declaration order, the seed's control slot skipped, groups.
#include <catch2/catch.hpp>

#include "engine/graph/validate.h"
#include "engine/graph/workflow.h"

using namespace vkf::graph;
using nlohmann::json;

namespace {
const std::filesystem::path kData = std::filesystem::path(VKFLOW_SOURCE_DIR) / "tests" / "editor" / "data";
}

TEST_CASE("workflow: ComfyUI's default workflow maps its widgets_values", "[editor][cpu]") {
  Graph g = load_graph_file(kData / "comfyui_default.json");
  const Node* ks = g.find("3");
  REQUIRE(ks);
  CHECK(ks->class_type == "KSampler");
  // [156680208700286, true, 20, 8, "euler", "normal", 1]: `true` is the old control_after_generate slot.
  CHECK(ks->inputs()["seed"] == 156680208700286);
  CHECK(ks->inputs()["steps"] == 20);
  CHECK(ks->inputs()["cfg"] == 8);
  CHECK(ks->inputs()["sampler_name"] == "euler");
  CHECK(ks->inputs()["scheduler"] == "normal");
  CHECK(ks->inputs()["denoise"] == 1);
  CHECK(ks->inputs()["model"] == json::array({"4", 0}));
  CHECK(ks->inputs()["latent_image"] == json::array({"5", 0}));
  CHECK(g.find("6")->inputs()["clip"] == json::array({"4", 1}));
  CHECK(g.find("7")->inputs()["text"] == "text, watermark");
  CHECK(g.find("5")->inputs()["width"] == 512);
  CHECK(g.find("8")->inputs()["vae"] == json::array({"4", 2}));
  CHECK(g.find("9")->inputs()["images"] == json::array({"8", 0}));
  CHECK(g.find("9")->inputs()["filename_prefix"] == "ComfyUI");  // no widgets_values: the widget's default
  CHECK(g.nodes().size() == 7);
  // Positions come along in _meta, so the editor shows the layout the author made.
  CHECK(ks->entry["_meta"]["pos"] == json::array({863, 186}));
  // Valid apart from the checkpoint file, which is not here.
  Paths p;
  p.models_dir = std::filesystem::path(VKFLOW_SOURCE_DIR) / "models";
  auto v = validate(g, p);
  REQUIRE(v.errors.size() == 1);
  CHECK(v.errors[0].node_id == "4");
  CHECK(v.errors[0].type == "value_not_in_list");
}

TEST_CASE("workflow: ComfyUI's groups survive an import/export round trip", "[editor][cpu]") {
  Graph g = load_graph_file(kData / "comfyui_two_groups.json");
  json groups = workflow_groups(g);
  REQUIRE(groups.size() == 2);
  CHECK(groups[1]["title"] == "Right-Click Menu Group");
  CHECK(groups[1]["bounding"] == json::array({500, 150, 320, 200}));
  json wf = workflow_from_graph(g, groups);
  CHECK(wf["groups"] == groups);
  CHECK(wf["nodes"].empty());
}
