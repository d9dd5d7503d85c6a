// The editor application end to end: `vkflow-editor` driven by --script under xvfb-run on the Vulkan
// device (lavapipe here), as a user would — real mouse/key events for the palette and link drags — and
// checked on what it writes: the saved graph, the image a run made, and the screenshot's pixels.
// Skipped (with the reason) when the editor is not built or no X display can be made.
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <optional>
#include <regex>
#include <set>

#include "engine/graph/workflow.h"
#include "engine/io/png.h"
#include "tests/support/cli_runner.h"
#include "tests/support/temp_dir.h"

#include "tests/editor/editor_harness.h"

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

using namespace vkf::test::editor_harness;

// Mean over channels of the per-channel standard deviation (0..1) and the number of distinct colours.
std::pair<double, size_t> image_spread(const fs::path& p) {
  auto img = vkf::io::load_image(p);
  double sd = 0;
  size_t n = size_t(img.width) * img.height;
  for (int c = 0; c < 3; ++c) {
    double s = 0, s2 = 0;
    for (size_t i = 0; i < n; ++i) s += img.rgba[i * 4 + c], s2 += double(img.rgba[i * 4 + c]) * img.rgba[i * 4 + c];
    double m = s / double(n);
    sd += std::sqrt(std::max(0.0, s2 / double(n) - m * m)) / 3;
  }
  std::set<uint32_t> colours;
  for (size_t i = 0; i < n && colours.size() < 100000; i += 7) {
    uint32_t c = 0;
    for (int k = 0; k < 3; ++k) c = c * 256 + uint32_t(std::lround(img.rgba[i * 4 + k] * 255));
    colours.insert(c);
  }
  return {sd, colours.size()};
}

}  // namespace

TEST_CASE("editor app: opens a graph and renders a screenshot that is not blank", "[editor_app]") {
  SKIP_IF_NO_EDITOR();
  vkf::test::TempDir t("editor_shot");
  fs::path shot = t.path() / "shot.png";
  auto args = common(t);
  args.insert(args.begin(), (kSrc / "graphs" / "txt2img.json").string());
  args.insert(args.end(), {"--screenshot", shot.string()});
  auto r = editor(args);
  INFO(r.err);
  REQUIRE(r.code == 0);
  REQUIRE(fs::exists(shot));
  auto img = vkf::io::load_image(shot);
  CHECK(img.width == 1280);
  CHECK(img.height == 720);
  auto [sd, colours] = image_spread(shot);
  CHECK(sd > 0.05);       // nodes, links and text on the dark canvas, not one flat colour
  CHECK(colours > 50);    // type-coloured sockets and links, text antialiasing
}

TEST_CASE("editor app: a scripted session (palette, link drags, undo/redo) saves the expected graph", "[editor_app]") {
  SKIP_IF_NO_EDITOR();
  vkf::test::TempDir t("editor_edit");
  fs::path out = t.path() / "edited.json", wf = t.path() / "edited_workflow.json", out2 = t.path() / "edited2.json";
  write(t.path() / "s.txt",
        "open " + (kSrc / "graphs" / "txt2img.json").string() + "\n"
        "view 0 0 0.5\n"
        "frames 2\n"
        // A new node from the palette, by real events: double-click empty canvas, type, Enter.
        "canvas-dblclick 40 900\n"
        "type \"Empty Latent\"\n"
        "key enter\n"
        "frames 2\n"
        "expect-nodes 8\n"
        // Drag its output onto KSampler's occupied latent_image: the link is replaced.
        "drag-link $last 0 3 latent_image\n"
        // MODEL onto a CLIP input: refused (by the same drag), and the check says why.
        "drag-link 4 0 6 clip\n"
        "expect-refused 4 0 6 clip\n"
        "set 3 steps 3\n"
        "set $last width 128\n"
        // Undo the width, redo it; undo then redo a deletion (its links come back).
        "undo\n"
        "redo\n"
        "delete 8\n"
        "expect-nodes 7\n"
        "undo\n"
        "expect-nodes 8\n"
        "drag-node 3 40 0\n"
        "save " + out.string() + " api\n"
        "save " + wf.string() + " workflow\n"
        // Drop the checkpoint's VAE output on empty canvas: the palette lists only VAE takers, and the
        // chosen node comes wired.
        "drag-out 4 2 100 400\n"
        "type \"VAE Decode\"\n"
        "key enter\n"
        "frames 2\n"
        "save " + out2.string() + " api\n"
        "quit\n");
  auto args = common(t);
  args.insert(args.end(), {"--script", (t.path() / "s.txt").string()});
  auto r = editor(args);
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);
  CHECK(r.out.find("refused: type mismatch") != std::string::npos);

  json orig = read_json(kSrc / "graphs" / "txt2img.json");
  json got = read_json(out);
  REQUIRE(got.size() == 8);
  REQUIRE(got.contains("10"));
  CHECK(got["10"]["class_type"] == "EmptyLatentImage");
  CHECK(got["10"]["inputs"]["width"] == 128);
  CHECK(got["10"]["inputs"]["height"] == 512);  // the class default
  // The expected edit: the original graph with KSampler fed by the new latent and 3 steps.
  json want = orig;
  want["3"]["inputs"]["latent_image"] = json::array({"10", 0});
  want["3"]["inputs"]["steps"] = 3;
  for (auto& [id, e] : want.items()) {
    INFO("node " << id);
    CHECK(got[id]["class_type"] == e["class_type"]);
    CHECK(got[id]["inputs"] == e["inputs"]);
  }
  // Node 3 was dragged 40 px at zoom 0.5: 80 canvas units.
  json wf_doc = read_json(wf);
  CHECK(vkf::graph::is_workflow(wf_doc));
  auto back = vkf::graph::load_graph_file(wf);
  CHECK(back.find("3")->inputs()["latent_image"] == json::array({"10", 0}));
  CHECK(back.find("8")->inputs()["vae"] == json::array({"4", 2}));
  float x_saved = got["3"]["_meta"]["pos"][0].get<float>();
  float x_wf = back.find("3")->entry["_meta"]["pos"][0].get<float>();
  CHECK(x_saved == Approx(x_wf));
  json got2 = read_json(out2);
  REQUIRE(got2.size() == 9);
  CHECK(got2["11"]["class_type"] == "VAEDecode");
  CHECK(got2["11"]["inputs"]["vae"] == json::array({"4", 2}));
}

TEST_CASE("editor app: runs txt2img with live previews and shows the output image", "[editor_app]") {
  SKIP_IF_NO_EDITOR();
  vkf::test::TempDir t("editor_run");
  fs::path shot = t.path() / "run.png";
  write(t.path() / "s.txt",
        "open " + (kSrc / "graphs" / "txt2img.json").string() + "\n"
        "set 3 steps 4\n"
        "run\n"
        "wait 300\n"
        "expect-run ok\n"
        "frames 3\n"
        "screenshot " + shot.string() + "\n"
        "quit\n");
  auto args = common(t);
  args.insert(args.end(), {"--script", (t.path() / "s.txt").string()});
  auto r = editor(args);
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);
  CHECK(r.out.find("run: Done") != std::string::npos);
  std::vector<fs::path> pngs;
  for (auto& e : fs::directory_iterator(t.path() / "out")) pngs.push_back(e.path());
  REQUIRE(pngs.size() == 1);
  auto [sd, colours] = image_spread(pngs[0]);
  CHECK(sd > 0.05);  // a generated garment on a background, not a flat image
  // The PNG carries the editor's current workflow for ComfyUI to open, besides the prompt.
  auto g = vkf::graph::load_graph_file(pngs[0], vkf::graph::PngPrefer::Workflow);
  CHECK(g.find("3")->inputs()["steps"] == 4);
  REQUIRE(fs::exists(shot));
  CHECK(image_spread(shot).first > 0.05);
}

TEST_CASE("editor app: cancel stops a run within a sampler step", "[editor_app]") {
  SKIP_IF_NO_EDITOR();
  vkf::test::TempDir t("editor_cancel");
  write(t.path() / "s.txt",
        "open " + (kSrc / "graphs" / "txt2img.json").string() + "\n"
        "set 3 steps 10000\n"  // far more than the test would wait for
        "run\n"
        "wait-step 3 300\n"
        "cancel\n"
        "wait 60\n"
        "expect-run cancelled\n"
        "quit\n");
  auto args = common(t);
  args.insert(args.end(), {"--script", (t.path() / "s.txt").string()});
  auto r = editor(args);
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);
  CHECK(r.out.find("run: Cancelled") != std::string::npos);
  CHECK_FALSE(fs::exists(t.path() / "out"));  // SaveImage never ran
}

TEST_CASE("editor app: errors are shown on the failing node, before and during a run", "[editor_app]") {
  SKIP_IF_NO_EDITOR();
  vkf::test::TempDir t("editor_err");
  write(t.path() / "s.txt",
        "open " + (kSrc / "graphs" / "txt2img.json").string() + "\n"
        "set 3 steps 0\n"  // below KSampler's minimum: validation refuses before anything runs
        "run\n"
        "wait 120\n"
        "expect-run failed\n"
        "expect-error 3\n"
        "set 3 steps 2\n"
        "set 4 ckpt_name missing.safetensors\n"
        "run\n"
        "wait 120\n"
        "expect-run failed\n"
        "expect-error 4\n"
        "quit\n");
  auto args = common(t);
  args.insert(args.end(), {"--script", (t.path() / "s.txt").string()});
  auto r = editor(args);
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);
  CHECK(r.out.find("error on 3:") != std::string::npos);
  CHECK(r.out.find("error on 4:") != std::string::npos);
}

TEST_CASE("editor app: ComfyUI's default UI workflow opens, runs and saves as a workflow", "[editor_app]") {
  SKIP_IF_NO_EDITOR();
  vkf::test::TempDir t("editor_comfy");
  fs::path wf = t.path() / "saved.json";
  write(t.path() / "s.txt",
        "open " + (kSrc / "tests" / "editor" / "data" / "comfyui_default.json").string() + "\n"
        "set 4 ckpt_name vkflow-fashion.safetensors\n"
        "set 5 width 64\n"
        "set 5 height 64\n"
        "set 3 steps 2\n"
        "set 6 text \"a photo of a sneaker\"\n"
        "run\n"
        "wait 300\n"
        "expect-run ok\n"
        "save " + wf.string() + "\n"  // opened as a workflow: saves as one
        "quit\n");
  auto args = common(t);
  args.insert(args.end(), {"--script", (t.path() / "s.txt").string()});
  auto r = editor(args);
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);
  json doc = read_json(wf);
  REQUIRE(vkf::graph::is_workflow(doc));
  auto g = vkf::graph::load_graph_file(wf);
  CHECK(g.find("3")->inputs()["steps"] == 2);
  CHECK(g.find("3")->inputs()["seed"] == 156680208700286);
  CHECK(g.find("3")->entry["_meta"]["pos"] == json::array({863, 186}));
  size_t files = 0;
  for (auto& e : fs::directory_iterator(t.path() / "out")) files += e.path().extension() == ".png";
  CHECK(files == 1);
}

TEST_CASE("editor app: --bench prints frame-time figures", "[editor_app]") {
  SKIP_IF_NO_EDITOR();
  vkf::test::TempDir t("editor_bench");
  auto args = common(t);
  args.insert(args.end(), {"--bench", "300", "--frames", "60"});
  auto r = editor(args);
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);
  std::smatch m;
  REQUIRE(std::regex_search(r.out, m, std::regex(R"(frame time over 60 frames: mean ([0-9.]+) ms, median ([0-9.]+) ms, p95 ([0-9.]+) ms)")));
  double mean = std::stod(m[1]), p95 = std::stod(m[3]);
  CHECK(mean > 0);
  CHECK(p95 >= std::stod(m[2]));
  CHECK(r.out.find("bench: 300 nodes") != std::string::npos);
  WARN(r.out);  // the figures, in the test log
}

TEST_CASE("editor app: a malformed graph or script is refused with exit status 2, naming the file", "[editor_app]") {
  SKIP_IF_NO_EDITOR();
  vkf::test::TempDir t("editor_bad");
  write(t.path() / "bad.json", "{\"3\": {\"class_type\": \"KSampler\", \"inputs\": ");
  auto r = editor({(t.path() / "bad.json").string()});
  CHECK(r.code == 2);
  CHECK(r.err.find("bad.json") != std::string::npos);
  CHECK_FALSE(r.crashed());
  r = editor({"--script", (t.path() / "missing.txt").string()});
  CHECK(r.code == 2);
  CHECK(r.err.find("missing.txt") != std::string::npos);
  // A script command that fails ends the run with status 1 and names the line.
  write(t.path() / "s.txt", "frames 1\nconnect 1 0 2 nope\nquit\n");
  r = editor({"--script", (t.path() / "s.txt").string()});
  CHECK(r.code == 1);
  CHECK(r.err.find("script line 2") != std::string::npos);
}
