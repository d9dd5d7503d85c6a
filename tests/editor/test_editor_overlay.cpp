// The editor's run overlay, driven by --script under xvfb-run: before queueing each node is marked as
// "will run" or "from the cache" (Executor::plan), after a run each node shows its time and output memory
// (RunResult::stats), hovering a link names the value's type, shape and dtype; plus recent files kept in
// $XDG_CONFIG_HOME, the F1 shortcut window, --scale and idle frames skipped. Checked on the `state FILE`
// dumps and on the screenshot's pixels where the marks are drawn.
#include <catch2/catch.hpp>

#include <cmath>
#include <regex>

#include "engine/io/png.h"
#include "tests/editor/editor_harness.h"

using nlohmann::json;
namespace fs = std::filesystem;
using namespace vkf::test::editor_harness;

namespace {

using Rgb = std::array<int, 3>;

Rgb pixel(const vkf::io::DecodedImage& img, int x, int y) {
  const float* p = &img.rgba[(size_t(y) * img.width + x) * 4];
  return {int(std::lround(p[0] * 255)), int(std::lround(p[1] * 255)), int(std::lround(p[2] * 255))};
}

int distance(Rgb a, Rgb b) { return std::abs(a[0] - b[0]) + std::abs(a[1] - b[1]) + std::abs(a[2] - b[2]); }

// Where a node's plan dot is drawn (overlay.cpp: at the title's right end).
std::pair<int, int> dot_centre(const json& node, float zoom) {
  float r = std::max(3.0f, 6 * zoom);
  auto rect = node["rect"];
  return {int(std::lround(rect[2].get<float>() - 12 * zoom - r)),
          int(std::lround(rect[1].get<float>() + node["title_h"].get<float>() / 2))};
}

std::string plan_of(const json& state, const std::string& id) { return state["nodes"][id].value("plan", ""); }

}  // namespace

TEST_CASE("editor overlay: run/cached marks before queueing, per-node stats, link inspection", "[editor_app]") {
  SKIP_IF_NO_EDITOR();
  vkf::test::TempDir t("editor_overlay");
  fs::path p = t.path();
  write(p / "s.txt",
        "open " + (kSrc / "graphs" / "txt2img.json").string() + "\n"
        "set 3 steps 2\n"
        "frames 2\n"
        "state " + (p / "before.json").string() + "\n"
        "run\n"
        "wait 300\n"
        "expect-run ok\n"
        "frames 2\n"
        "state " + (p / "after.json").string() + "\n"
        "set 3 seed 7\n"
        "frames 2\n"
        "hover-link 8 samples\n"
        "wait-link\n"
        "frames 2\n"
        "state " + (p / "edited.json").string() + "\n"
        "screenshot " + (p / "shot.png").string() + "\n"
        "hover-link 9 images\n"
        "wait-link\n"
        "frames 2\n"
        "state " + (p / "image_link.json").string() + "\n"
        "quit\n");
  auto args = common(t);
  args.insert(args.end(), {"--script", (p / "s.txt").string()});
  auto r = editor(args);
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);

  json before = read_json(p / "before.json"), after = read_json(p / "after.json"), edited = read_json(p / "edited.json");
  const std::vector<std::string> all = {"3", "4", "5", "6", "7", "8", "9"};
  for (auto& id : all) CHECK(plan_of(before, id) == "run");  // nothing cached yet
  CHECK(before["plan_error"] == "");
  for (auto& id : all) CHECK(plan_of(after, id) == "cached");  // the same graph again: all from the cache
  // A new seed re-runs the sampler and what is downstream of it; the loader and encoders stay cached.
  for (auto& id : {"3", "8", "9"}) CHECK(plan_of(edited, id) == "run");
  for (auto& id : {"4", "5", "6", "7"}) CHECK(plan_of(edited, id) == "cached");

  // Per-node figures of the run: every node executed once; the output sizes follow from the shapes
  // (64x64 image, 8x8 latent with 4 channels, f32).
  for (auto& id : all) {
    INFO("node " << id);
    REQUIRE(after["nodes"][id].contains("stats"));
    CHECK_FALSE(after["nodes"][id]["stats"]["cached"].get<bool>());
    CHECK(after["nodes"][id]["stats"]["ms"].get<double>() >= 0);
  }
  CHECK(after["nodes"]["5"]["stats"]["outputs"] == json::array({"samples [1,4,8,8] f32"}));
  CHECK(after["nodes"]["5"]["stats"]["bytes"] == 1 * 4 * 8 * 8 * 4);
  CHECK(after["nodes"]["3"]["stats"]["outputs"] == json::array({"samples [1,4,8,8] f32"}));
  CHECK(after["nodes"]["8"]["stats"]["outputs"] == json::array({"pixels [1,64,64,3] f32"}));
  CHECK(after["nodes"]["8"]["stats"]["bytes"] == 1 * 64 * 64 * 3 * 4);
  CHECK(after["nodes"]["9"]["stats"]["bytes"] == 0);  // SaveImage has no outputs
  // The engine's per-node profile: GPU time of the decoder's submits (lavapipe has timestamps) and the
  // device pool's high-water mark while it ran, at least its output.
  for (auto& id : {"3", "8"}) {
    INFO("node " << id);
    const json& st = after["nodes"][id]["stats"];
    REQUIRE(st.contains("gpu_ms"));
    CHECK(st["gpu_ms"].get<double>() > 0);
    CHECK(st["gpu_ms"].get<double>() <= st["ms"].get<double>() + 1e-3);
    REQUIRE(st.contains("peak_bytes"));
    CHECK(st["peak_bytes"].get<double>() >= st["bytes"].get<double>());
  }
  CHECK(after["nodes"]["4"]["stats"]["bytes"].get<double>() > 1e6);  // the checkpoint's weights

  // Hovering the sampler -> decoder link names what is on it.
  std::string tip = edited["link_tooltip"];
  CHECK(tip.rfind("LATENT: samples [1,4,8,8] f32", 0) == 0);
  CHECK(tip.find("node 3 output 0 -> node 8 samples") != std::string::npos);
  CHECK(edited["link_thumbnail"] == "8x8 batch item 0, latent to RGB");  // the latent's own, once inspected
  json image_link = read_json(p / "image_link.json");
  CHECK(image_link["link_tooltip"].get<std::string>().rfind("IMAGE: pixels [1,64,64,3] f32\nnode 8 output 0 -> node 9 images", 0) == 0);
  CHECK(image_link["link_thumbnail"] == "64x64 batch item 0");  // from the IMAGE's own GPU buffer
  // Its figures against the PNG SaveImage wrote from it: SaveImage truncates 255*x, so each byte b stands
  // for a value in [b/255, (b+1)/255).
  fs::path png;
  for (auto& e : fs::directory_iterator(p / "out"))
    if (e.path().extension() == ".png") png = e.path();
  REQUIRE_FALSE(png.empty());
  auto saved = vkf::io::load_image(png);
  double lo = 1, hi = 0, sum = 0;
  size_t n = 0;
  for (size_t i = 0; i < saved.rgba.size(); i += 4)
    for (size_t c = 0; c < 3; ++c) {
      double b = std::lround(saved.rgba[i + c] * 255);
      lo = std::min(lo, b), hi = std::max(hi, b), sum += b, ++n;
    }
  const json& ls = image_link["link_stats"];
  INFO(ls.dump());
  REQUIRE(ls.value("status", "") == "ready");
  CHECK(ls["finite"] == 64 * 64 * 3);
  CHECK(ls["nan"] == 0);
  CHECK(ls["inf"] == 0);
  CHECK(ls["min"].get<double>() >= lo / 255 - 1e-6);
  CHECK(ls["min"].get<double>() < (lo + 1) / 255);
  CHECK(ls["max"].get<double>() >= hi / 255 - 1e-6);
  CHECK(ls["max"].get<double>() < (hi + 1) / 255);
  CHECK(ls["mean"].get<double>() >= sum / double(n) / 255 - 1e-6);
  CHECK(ls["mean"].get<double>() < (sum / double(n) + 1) / 255);

  // The screenshot shows the marks: orange dots on nodes that will run, teal on cached ones, and the
  // hovered link drawn white under the mouse.
  auto img = vkf::io::load_image(p / "shot.png");
  float zoom = edited["zoom"];
  const Rgb orange{0xFF, 0x98, 0x30}, teal{0x30, 0xC8, 0xC8};
  for (auto& id : all) {
    auto [x, y] = dot_centre(edited["nodes"][id], zoom);
    INFO("node " << id << " dot at " << x << "," << y);
    REQUIRE(x > 0);
    REQUIRE(y > 0);
    Rgb c = pixel(img, x, y);
    CHECK(distance(c, plan_of(edited, id) == "run" ? orange : teal) < 30);
  }
  int mx = int(edited["mouse"][0].get<float>()), my = int(edited["mouse"][1].get<float>());
  int brightest = 0;
  for (int dy = -1; dy <= 1; ++dy)
    for (int dx = -1; dx <= 1; ++dx) {
      Rgb c = pixel(img, mx + dx, my + dy);
      brightest = std::max(brightest, std::min({c[0], c[1], c[2]}));
    }
  CHECK(brightest > 220);  // the LATENT link is pink (FF 9C F9); highlighted it is white
}

TEST_CASE("editor: recent files persist in $XDG_CONFIG_HOME/vkflow/recent.json", "[editor_app]") {
  SKIP_IF_NO_EDITOR();
  vkf::test::TempDir t("editor_recent");
  fs::path p = t.path(), cfg = p / "cfg", saved = p / "saved.json";
  std::string graph = (kSrc / "graphs" / "txt2img.json").string();
  write(p / "a.txt", "open " + graph + "\nsave " + saved.string() + "\nquit\n");
  auto args = common(t);
  args.insert(args.end(), {"--script", (p / "a.txt").string()});
  auto r = editor(args, {"XDG_CONFIG_HOME=" + cfg.string()});
  REQUIRE(r.code == 0);
  json stored = read_json(cfg / "vkflow" / "recent.json");
  CHECK(stored["recent"] == json::array({fs::absolute(saved).lexically_normal().string(),
                                         fs::path(graph).lexically_normal().string()}));

  // A second session starts with that list.
  write(p / "b.txt", "state " + (p / "b.json").string() + "\nquit\n");
  args = common(t);
  args.insert(args.end(), {"--script", (p / "b.txt").string()});
  REQUIRE(editor(args, {"XDG_CONFIG_HOME=" + cfg.string()}).code == 0);
  CHECK(read_json(p / "b.json")["recent"] == stored["recent"]);

  // A corrupt list is ignored (empty), not a failure; the next open writes a good one.
  write(cfg / "vkflow" / "recent.json", "{not json");
  write(p / "c.txt", "state " + (p / "c.json").string() + "\nopen " + graph + "\nquit\n");
  args = common(t);
  args.insert(args.end(), {"--script", (p / "c.txt").string()});
  REQUIRE(editor(args, {"XDG_CONFIG_HOME=" + cfg.string()}).code == 0);
  CHECK(read_json(p / "c.json")["recent"] == json::array());
  CHECK(read_json(cfg / "vkflow" / "recent.json")["recent"] == json::array({fs::path(graph).lexically_normal().string()}));
}

TEST_CASE("editor: F1 opens the shortcut window, --scale enlarges the UI", "[editor_app]") {
  SKIP_IF_NO_EDITOR();
  vkf::test::TempDir t("editor_help");
  fs::path p = t.path();
  write(p / "s.txt",
        "state " + (p / "closed.json").string() + "\n"
        "screenshot " + (p / "closed.png").string() + "\n"
        "key f1\nframes 2\n"
        "state " + (p / "open.json").string() + "\n"
        "screenshot " + (p / "open.png").string() + "\n"
        "quit\n");
  auto args = common(t);
  args.insert(args.end(), {"--script", (p / "s.txt").string()});
  REQUIRE(editor(args).code == 0);
  CHECK_FALSE(read_json(p / "closed.json")["help_open"].get<bool>());
  CHECK(read_json(p / "open.json")["help_open"].get<bool>());
  // The window's text changes pixels on the empty canvas.
  auto a = vkf::io::load_image(p / "closed.png"), b = vkf::io::load_image(p / "open.png");
  REQUIRE(a.rgba.size() == b.rgba.size());
  size_t changed = 0;
  for (size_t i = 0; i < a.rgba.size(); i += 4) changed += std::abs(a.rgba[i] - b.rgba[i]) > 0.1f;
  CHECK(changed > 2000);

  write(p / "z.txt", "state " + (p / "scaled.json").string() + "\nquit\n");
  args = common(t);
  args.insert(args.end(), {"--script", (p / "z.txt").string(), "--scale", "2"});
  REQUIRE(editor(args).code == 0);
  json scaled = read_json(p / "scaled.json"), plain = read_json(p / "closed.json");
  CHECK(scaled["font_scale"] == 2.0);
  CHECK(scaled["zoom"] == 2.0);  // the canvas starts at the UI scale too (nodes, sockets and their text)
  CHECK(plain["zoom"] == 1.0);
  CHECK(scaled["frame_height"].get<double>() == Approx(2 * plain["frame_height"].get<double>()).epsilon(0.05));
  CHECK(editor({"--scale", "9"}).code == 2);  // out of range: refused
}

TEST_CASE("editor: an idle window draws only the 2 Hz tick, not a frame per vblank", "[editor_app]") {
  SKIP_IF_NO_EDITOR();
  vkf::test::TempDir t("editor_idle");
  auto args = common(t);
  args.insert(args.begin(), (kSrc / "graphs" / "txt2img.json").string());
  args.insert(args.end(), {"--stats", "--quit-after", "3"});
  auto r = editor(args);
  REQUIRE(r.code == 0);
  std::smatch m;
  REQUIRE(std::regex_search(r.out, m, std::regex(R"(frames drawn: (\d+) in ([0-9.]+) s)")));
  int frames = std::stoi(m[1]);
  double seconds = std::stod(m[2]);
  INFO(frames << " frames in " << seconds << " s");
  CHECK(seconds >= 3.0);
  CHECK(frames >= 3);                          // the first frames (layout, fit) and the tick
  CHECK(frames <= int(seconds * 2) + 6);       // no input: at most the first few plus 2 per second
}
