// Hovering a link inspects the value on it: min/max/mean and NaN/Inf counts read from the tensor's GPU
// buffer (ops::tensor_stats) and an IMAGE thumbnail, computed once per value. Driven by --script under
// xvfb-run; the expected figures come from the test's own pixels, not from the editor.
#include <catch2/catch.hpp>

#include <algorithm>

#include "engine/io/png.h"
#include "tests/editor/editor_harness.h"

using nlohmann::json;
namespace fs = std::filesystem;
using namespace vkf::test::editor_harness;

TEST_CASE("editor: a hovered IMAGE link shows its GPU buffer's min/max/mean, NaN/Inf counts and a thumbnail",
          "[editor_app]") {
  SKIP_IF_NO_EDITOR();
  vkf::test::TempDir t("editor_inspect");
  fs::path p = t.path(), in = p / "in";
  fs::create_directories(in);
  // An odd-sized RGB picture of pseudo-random bytes; LoadImage turns byte v into v/255.
  const int W = 37, H = 23;
  std::vector<uint8_t> px(size_t(W) * H * 3);
  uint32_t s = 12345;
  for (auto& v : px) s = s * 1664525u + 1013904223u, v = uint8_t(s >> 24);
  px[5] = 3, px[77] = 251;  // not 0 / 255, so min and max are not the clamp limits by chance
  for (auto& v : px) v = std::clamp<uint8_t>(v, 3, 251);
  {
    auto png = vkf::io::encode_png(px, W, H, 3, {});
    std::ofstream(in / "pic.png", std::ios::binary).write(reinterpret_cast<const char*>(png.data()), std::streamsize(png.size()));
  }
  double sum = 0;
  for (auto v : px) sum += v / 255.0;
  const double want_min = 3 / 255.0, want_max = 251 / 255.0, want_mean = sum / double(px.size());

  // Two consumers of the same IMAGE value (one inspection), and the graph run twice (all from the cache:
  // still the same value, not inspected again).
  write(p / "g.json", json{{"1", {{"class_type", "LoadImage"}, {"inputs", {{"image", "pic.png"}}}}},
                           {"2", {{"class_type", "SaveImage"}, {"inputs", {{"filename_prefix", "a"}, {"images", {"1", 0}}}}}},
                           {"3", {{"class_type", "PreviewImage"}, {"inputs", {{"images", {"1", 0}}}}}}}
                          .dump());
  write(p / "s.txt",
        "open " + (p / "g.json").string() + "\n"
        "hover-link 2 images\nframes 2\n"
        "state " + (p / "before.json").string() + "\n"
        "run\nwait 120\nexpect-run ok\n"
        "hover-link 2 images\nwait-link\nframes 1\n"
        "state " + (p / "a.json").string() + "\n"
        "hover-link 3 images\nwait-link\nframes 1\n"
        "state " + (p / "b.json").string() + "\n"
        "run\nwait 120\nexpect-run ok\n"
        "hover-link 2 images\nwait-link\nframes 1\n"
        "state " + (p / "c.json").string() + "\n"
        "quit\n");
  auto args = common(t);
  args.insert(args.end(), {"--input-dir", in.string(), "--script", (p / "s.txt").string()});
  auto r = editor(args);
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);

  json before = read_json(p / "before.json");
  CHECK(before["link_stats"].is_null());  // nothing run yet: no value to inspect
  CHECK(before["link_tooltip"].get<std::string>().find("queue the graph") != std::string::npos);

  for (const char* f : {"a.json", "b.json", "c.json"}) {
    json st = read_json(p / f);
    INFO(f << ": " << st["link_stats"].dump() << "\n" << st["link_tooltip"]);
    const json& ls = st["link_stats"];
    REQUIRE(ls.value("status", "") == "ready");
    // f32 reduction over 2553 values: min/max exact to f32, the mean to a few ulps of its sum.
    CHECK(ls["min"].get<double>() == Approx(want_min).margin(1e-6));
    CHECK(ls["max"].get<double>() == Approx(want_max).margin(1e-6));
    CHECK(ls["mean"].get<double>() == Approx(want_mean).margin(1e-5));
    CHECK(ls["nan"] == 0);
    CHECK(ls["inf"] == 0);
    CHECK(ls["finite"] == W * H * 3);
    CHECK(ls["thumbnail"] == json::array({W, H}));  // under 128 a side: full size
    CHECK(st["link_thumbnail"] == "37x23 batch item 0");
    CHECK(st["inspections"] == 1);  // one value: inspected once, whichever link and run shows it
  }
}

TEST_CASE("editor: --no-profile leaves out the per-node GPU time and peak memory, --help says so", "[editor_app]") {
  SKIP_IF_NO_EDITOR();
  vkf::test::TempDir t("editor_no_profile");
  fs::path p = t.path();
  auto help = editor({"--help"});
  REQUIRE(help.code == 0);
  CHECK(help.out.find("--no-profile") != std::string::npos);
  write(p / "g.json", json{{"1", {{"class_type", "LoadImage"}, {"inputs", {{"image", "example.png"}}}}},
                           {"2", {{"class_type", "ImageInvert"}, {"inputs", {{"image", {"1", 0}}}}}},
                           {"3", {{"class_type", "PreviewImage"}, {"inputs", {{"images", {"2", 0}}}}}}}
                          .dump());
  write(p / "s.txt", "open " + (p / "g.json").string() + "\nrun\nwait 120\nexpect-run ok\nframes 1\nstate " +
                         (p / "st.json").string() + "\nquit\n");
  for (bool profile : {true, false}) {
    INFO("profile " << profile);
    auto args = common(t);
    args.insert(args.end(), {"--script", (p / "s.txt").string()});
    if (!profile) args.push_back("--no-profile");
    auto r = editor(args);
    INFO(r.out << r.err);
    REQUIRE(r.code == 0);
    json st = read_json(p / "st.json")["nodes"]["2"]["stats"];  // ImageInvert: one dispatch
    INFO(st.dump());
    REQUIRE(st.contains("ms"));
    CHECK(st.contains("gpu_ms") == profile);
    CHECK(st.contains("peak_bytes") == profile);
    if (profile) CHECK(st["gpu_ms"].get<double>() > 0);
  }
}
