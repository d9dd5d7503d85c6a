// Graph editing commands (undo/redo, type-checked links) and ComfyUI's UI workflow format, on the real
// node registry, without a window.
#include <catch2/catch.hpp>

#include "engine/graph/edit.h"
#include "engine/graph/validate.h"
#include "engine/graph/workflow.h"

using namespace vkf::graph;
using nlohmann::json;

TEST_CASE("editor: add, connect, refuse a mismatched link, undo/redo one step per action", "[editor][cpu]") {
  GraphEditor ed;
  std::string ck = ed.add_node("CheckpointLoaderSimple", 0, 0);
  std::string enc = ed.add_node("CLIPTextEncode", 300, 0);
  CHECK(ed.graph().find(enc)->inputs()["text"] == "");
  auto bad = ed.connect(ck, 0, enc, "clip");  // MODEL -> CLIP
  CHECK_FALSE(bad.ok);
  CHECK(bad.reason.find("MODEL") != std::string::npos);
  CHECK(bad.reason.find("CLIP") != std::string::npos);
  REQUIRE(ed.connect(ck, 1, enc, "clip").ok);
  CHECK(ed.graph().find(enc)->inputs()["clip"] == json::array({ck, 1}));
  ed.set_input(enc, "text", "a boot");
  CHECK(ed.dirty());
  REQUIRE(ed.undo());  // the text
  CHECK(ed.graph().find(enc)->inputs()["text"] == "");
  REQUIRE(ed.undo());  // the link
  CHECK_FALSE(ed.graph().find(enc)->inputs().contains("clip"));
  REQUIRE(ed.redo());
  REQUIRE(ed.redo());
  CHECK(ed.graph().find(enc)->inputs()["text"] == "a boot");
  CHECK_FALSE(ed.can_redo());
  // Deleting the loader cuts the link too, and both come back with one undo.
  ed.remove_nodes({ck});
  CHECK(ed.graph().find(ck) == nullptr);
  CHECK_FALSE(ed.graph().find(enc)->inputs().contains("clip"));
  REQUIRE(ed.undo());
  CHECK(ed.graph().find(enc)->inputs()["clip"] == json::array({ck, 1}));
  // A cycle is refused.
  std::string a = ed.add_node("LatentInterpolate", 0, 0), b = ed.add_node("LatentInterpolate", 0, 0);
  REQUIRE(ed.connect(a, 0, b, "samples1").ok);
  CHECK(ed.can_connect(b, 0, a, "samples1").reason.find("cycle") != std::string::npos);
}

TEST_CASE("editor: a multi-node paste is one undo step with internal links remapped", "[editor][cpu]") {
  GraphEditor ed;
  std::string ck = ed.add_node("CheckpointLoaderSimple", 0, 0);
  std::string enc = ed.add_node("CLIPTextEncode", 300, 0);
  REQUIRE(ed.connect(ck, 1, enc, "clip").ok);
  auto made = ed.paste(ed.copy({ck, enc}), 50, 60);
  REQUIRE(made.size() == 2);
  CHECK(ed.graph().nodes().size() == 4);
  const Node* pe = ed.graph().find(made[1]);
  REQUIRE(pe);
  CHECK(pe->inputs()["clip"] == json::array({made[0], 1}));
  CHECK(GraphEditor::pos(*pe) == std::pair<float, float>{350.f, 60.f});
  REQUIRE(ed.undo());
  CHECK(ed.graph().nodes().size() == 2);
}

// A trimmed copy of ComfyUI's default workflow (frontend defaultGraph) in its UI format: KSampler's seed is
// followed by its control_after_generate value; a Note and a Reroute are frontend-only.
static const char* kDefaultWorkflow = R"({
 "last_node_id": 10, "last_link_id": 10,
 "nodes": [
  {"id": 3, "type": "KSampler", "pos": [863, 186], "size": [315, 262], "flags": {}, "order": 5, "mode": 0,
   "inputs": [{"name": "model", "type": "MODEL", "link": 1}, {"name": "positive", "type": "CONDITIONING", "link": 4},
              {"name": "negative", "type": "CONDITIONING", "link": 6}, {"name": "latent_image", "type": "LATENT", "link": 2}],
   "outputs": [{"name": "LATENT", "type": "LATENT", "links": [7], "slot_index": 0}],
   "properties": {}, "widgets_values": [156680208700286, "randomize", 20, 8, "euler", "normal", 1]},
  {"id": 4, "type": "CheckpointLoaderSimple", "pos": [26, 474], "size": [315, 98], "flags": {}, "order": 0, "mode": 0,
   "outputs": [{"name": "MODEL", "type": "MODEL", "links": [1], "slot_index": 0},
               {"name": "CLIP", "type": "CLIP", "links": [3, 5], "slot_index": 1},
               {"name": "VAE", "type": "VAE", "links": [10], "slot_index": 2}],
   "properties": {}, "widgets_values": ["v1-5-pruned-emaonly.safetensors"]},
  {"id": 5, "type": "EmptyLatentImage", "pos": [473, 609], "size": [315, 106], "flags": {}, "order": 1, "mode": 0,
   "outputs": [{"name": "LATENT", "type": "LATENT", "links": [2], "slot_index": 0}],
   "properties": {}, "widgets_values": [512, 512, 1]},
  {"id": 6, "type": "CLIPTextEncode", "pos": [415, 186], "size": {"0": 422, "1": 164}, "flags": {}, "order": 2, "mode": 0,
   "inputs": [{"name": "clip", "type": "CLIP", "link": 3}],
   "outputs": [{"name": "CONDITIONING", "type": "CONDITIONING", "links": [4], "slot_index": 0}],
   "properties": {}, "widgets_values": ["beautiful scenery nature glass bottle landscape, , purple galaxy bottle,"]},
  {"id": 7, "type": "CLIPTextEncode", "pos": [413, 389], "size": [425, 180], "flags": {}, "order": 3, "mode": 0,
   "inputs": [{"name": "clip", "type": "CLIP", "link": 5}],
   "outputs": [{"name": "CONDITIONING", "type": "CONDITIONING", "links": [6], "slot_index": 0}],
   "properties": {}, "widgets_values": ["text, watermark"]},
  {"id": 8, "type": "VAEDecode", "pos": [1209, 188], "size": [210, 46], "flags": {}, "order": 6, "mode": 0,
   "inputs": [{"name": "samples", "type": "LATENT", "link": 7}, {"name": "vae", "type": "VAE", "link": 9}],
   "outputs": [{"name": "IMAGE", "type": "IMAGE", "links": [8], "slot_index": 0}], "properties": {}},
  {"id": 10, "type": "Reroute", "pos": [1000, 500], "size": [75, 26], "flags": {}, "order": 4, "mode": 0,
   "inputs": [{"name": "", "type": "*", "link": 10}], "outputs": [{"name": "", "type": "VAE", "links": [9]}]},
  {"id": 9, "type": "SaveImage", "pos": [1451, 189], "size": [210, 58], "flags": {}, "order": 7, "mode": 0,
   "inputs": [{"name": "images", "type": "IMAGE", "link": 8}], "properties": {}, "widgets_values": ["ComfyUI"]},
  {"id": 11, "type": "Note", "pos": [0, 0], "size": [100, 50], "mode": 0, "widgets_values": ["a note"]}
 ],
 "links": [[1, 4, 0, 3, 0, "MODEL"], [2, 5, 0, 3, 3, "LATENT"], [3, 4, 1, 6, 0, "CLIP"], [4, 6, 0, 3, 1, "CONDITIONING"],
           [5, 4, 1, 7, 0, "CLIP"], [6, 7, 0, 3, 2, "CONDITIONING"], [7, 3, 0, 8, 0, "LATENT"], [8, 8, 0, 9, 0, "IMAGE"],
           [9, 10, 0, 8, 1, "VAE"], [10, 4, 2, 10, 0, "VAE"]],
 "groups": [{"title": "Sampling", "bounding": [840, 100, 360, 380], "color": "#3f789e"}],
 "config": {}, "extra": {}, "version": 0.4})";

TEST_CASE("editor: ComfyUI's UI workflow converts to the API prompt (widgets, control_after_generate, reroute)",
          "[editor][cpu]") {
  json wf = json::parse(kDefaultWorkflow);
  REQUIRE(is_workflow(wf));
  Graph g = graph_from_workflow(wf);
  REQUIRE(g.nodes().size() == 7);  // Note and Reroute are frontend-only
  const json ks = g.find("3")->inputs();
  CHECK(ks["seed"] == 156680208700286);
  CHECK(ks["steps"] == 20);  // "randomize" skipped
  CHECK(ks["cfg"] == 8);
  CHECK(ks["sampler_name"] == "euler");
  CHECK(ks["scheduler"] == "normal");
  CHECK(ks["denoise"] == 1);
  CHECK(ks["model"] == json::array({"4", 0}));
  CHECK(ks["latent_image"] == json::array({"5", 0}));
  CHECK(g.find("8")->inputs()["vae"] == json::array({"4", 2}));  // through the Reroute
  CHECK(g.find("6")->entry["_meta"]["size"] == json::array({422, 164}));
  CHECK(g.extra_pnginfo()["workflow"] == wf);  // SaveImage embeds it again
  CHECK(workflow_groups(g).size() == 1);
  // Validation sees a normal API graph (only the checkpoint file is missing here).
  auto v = validate(g);
  for (auto& e : v.errors) CHECK(e.input_name == "ckpt_name");

  // Round trip: API -> UI -> API keeps every input.
  json back = workflow_from_graph(g, workflow_groups(g));
  Graph g2 = graph_from_workflow(back);
  for (auto& n : g.nodes()) CHECK(g2.find(n.id)->inputs() == n.inputs());
  CHECK(back["groups"].size() == 1);
}

TEST_CASE("editor: bypassed nodes pass their input through, muted nodes drop out", "[editor][cpu]") {
  json wf = json::parse(kDefaultWorkflow);
  wf["nodes"][5]["mode"] = 4;  // bypass VAEDecode: SaveImage.images would need an IMAGE input -> none
  wf["nodes"][4]["mode"] = 2;  // mute the negative prompt
  Graph g = graph_from_workflow(wf);
  CHECK(g.find("8") == nullptr);
  CHECK(g.find("7") == nullptr);
  CHECK_FALSE(g.find("9")->inputs().contains("images"));
  CHECK_FALSE(g.find("3")->inputs().contains("negative"));
}

#include <filesystem>
#include <fstream>

#include "engine/io/png_text.h"
#include "tests/support/cli_runner.h"
#include "tests/support/temp_dir.h"

TEST_CASE("editor: vkflow run takes a UI-format workflow and SaveImage embeds prompt and workflow",
          "[editor][e2e]") {
  namespace fs = std::filesystem;
  fs::path dir = vkf::test::process_temp_dir("editor_wf");
  Graph api = Graph::load(fs::path(VKFLOW_SOURCE_DIR) / "graphs/txt2img.json");
  json wf = workflow_from_graph(api);
  fs::path wf_file = dir / "txt2img_ui.json", out = dir / "out";
  std::ofstream(wf_file) << wf.dump();
  fs::remove_all(out);
  auto r = vkf::test::run_shell(std::string("'") + VKFLOW_BINARY + "' run '" + wf_file.string() + "' --quiet --output-dir '" +
                                out.string() + "' --models-dir '" + VKFLOW_SOURCE_DIR + "/models'");
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);
  std::vector<fs::path> pngs;
  for (auto& e : fs::directory_iterator(out)) pngs.push_back(e.path());
  REQUIRE(pngs.size() == 1);
  auto chunks = vkf::io::read_png_text(pngs[0]);
  REQUIRE(chunks.count("prompt"));
  REQUIRE(chunks.count("workflow"));
  CHECK(json::parse(chunks["workflow"]) == wf);
  CHECK(json::parse(chunks["prompt"])["3"]["inputs"] == api.find("3")->inputs());
  // The PNG opens again: the API prompt for running, the workflow for the editor; both run the same inputs.
  Graph from_png = load_graph_file(pngs[0], PngPrefer::Prompt);
  Graph from_png_wf = load_graph_file(pngs[0], PngPrefer::Workflow);
  for (auto& n : api.nodes()) {
    CHECK(from_png.find(n.id)->inputs() == n.inputs());
    CHECK(from_png_wf.find(n.id)->inputs() == n.inputs());
  }
}

TEST_CASE("editor: malformed UI workflows are ParseErrors naming the problem, and vkflow run exits 2",
          "[editor][cpu]") {
  for (const char* bad : {R"({"nodes": [{"type": "KSampler"}], "links": []})",
                          R"({"nodes": [{"id": 1, "type": "KSampler", "mode": "x"}], "links": []})",
                          R"({"nodes": [{"id": 1}], "links": []})",
                          R"({"nodes": [], "links": [[1, 2]]})",
                          R"({"nodes": [{"id": 1, "type": "VAEDecode", "inputs": [7]}], "links": []})"}) {
    INFO(bad);
    CHECK_THROWS_AS(graph_from_workflow(json::parse(bad)), ParseError);
  }
  namespace fs = std::filesystem;
  fs::path f = vkf::test::process_temp_dir("editor_wf") / "bad_ui.json";
  std::ofstream(f) << R"({"nodes": [{"id": 1, "type": "KSampler", "mode": "x"}], "links": []})";
  auto r = vkf::test::run_shell(std::string("'") + VKFLOW_BINARY + "' run '" + f.string() + "'");
  CHECK(r.code == 2);
  CHECK(r.err.find("malformed workflow") != std::string::npos);
  fs::path png = vkf::test::process_temp_dir("editor_wf") / "not_a_graph.png";
  std::ofstream(png, std::ios::binary) << std::string("\x89PNG\r\n\x1a\n", 8);
  auto r2 = vkf::test::run_shell(std::string("'") + VKFLOW_BINARY + "' run '" + png.string() + "'");
  CHECK(r2.code == 2);
  CHECK(r2.err.find("no \"prompt\" or \"workflow\"") != std::string::npos);
}

TEST_CASE("editor: move/rename undo, saved state tracks undo, a new edit drops the redo branch", "[editor][cpu]") {
  GraphEditor ed;
  std::string n = ed.add_node("EmptyLatentImage", 10, 20);
  ed.mark_saved();
  CHECK_FALSE(ed.dirty());
  ed.move_nodes({n}, 5, -5);
  CHECK(GraphEditor::pos(*ed.graph().find(n)) == std::pair<float, float>{15.f, 15.f});
  CHECK(ed.dirty());
  REQUIRE(ed.undo());
  CHECK_FALSE(ed.dirty());  // back at the saved state
  CHECK(GraphEditor::pos(*ed.graph().find(n)) == std::pair<float, float>{10.f, 20.f});
  REQUIRE(ed.undo());       // before the save: the add
  CHECK(ed.graph().nodes().empty());
  CHECK(ed.dirty());
  REQUIRE(ed.redo());
  ed.set_title(n, "Canvas");  // drops the redo of the move
  CHECK_FALSE(ed.can_redo());
  CHECK(ed.graph().find(n)->title() == "Canvas");
  CHECK(ed.undo_label() == "Rename");
  ed.set_input(n, "width", 64);
  ed.set_input(n, "width", 64);  // no change: no step
  REQUIRE(ed.undo());
  CHECK(ed.undo_label() == "Rename");
  CHECK_THROWS_AS(ed.add_node("NoSuchNode", 0, 0), GraphError);
}
