// Hovering a link inspects the value on it: min/max/mean and NaN/Inf counts read from the tensor's GPU
// buffer (ops::tensor_stats) and an IMAGE or LATENT thumbnail, computed once per value. Driven by
// --script under xvfb-run; the expected figures come from the test's own pixels or from the same graph
// run here in-process with a CPU latent-to-RGB reference, not from the editor.
#include <catch2/catch.hpp>

#include <algorithm>

#include "engine/graph/executor.h"
#include "engine/graph/graph.h"
#include "engine/graph/services.h"
#include "engine/io/png.h"
#include "engine/sampling/latent_preview.h"
#include "nodes/value_types.h"
#include "tests/editor/editor_harness.h"
#include "tests/support/gpu.h"

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

TEST_CASE("editor: a hovered LATENT link shows the latent as RGB through the run's model's map", "[editor_app]") {
  SKIP_IF_NO_EDITOR();
  vkf::test::TempDir t("editor_latent_thumb");
  const fs::path p = t.path(), models = p / "models", ck = models / "checkpoints";
  fs::create_directories(ck);
  // The bundled checkpoint with its sidecar given distinctive preview factors (not SD1.x's), so the
  // thumbnail shows which map was used.
  const fs::path bundled = kSrc / "models" / "checkpoints";
  for (const char* f : {"vkflow-fashion.safetensors", "vkflow-fashion.vocab.json", "vkflow-fashion.merges.txt"})
    fs::create_symlink(bundled / f, ck / f);
  json side = read_json(bundled / "vkflow-fashion.json");
  const std::vector<std::array<float, 3>> rows = {{0.9f, -0.2f, 0.1f}, {-0.4f, 0.7f, 0.3f}, {0.2f, 0.1f, -0.8f}, {0.05f, 0.3f, 0.6f}};
  const std::array<float, 3> bias = {0.12f, -0.3f, 0.45f};
  side["latent_rgb_factors"] = rows;
  side["latent_rgb_factors_bias"] = bias;
  write(ck / "vkflow-fashion.json", side.dump());

  const json g = {{"1", {{"class_type", "CheckpointLoaderSimple"}, {"inputs", {{"ckpt_name", "vkflow-fashion.safetensors"}}}}},
                  {"2", {{"class_type", "LoadImage"}, {"inputs", {{"image", "example.png"}}}}},
                  {"3", {{"class_type", "VAEEncode"}, {"inputs", {{"pixels", {"2", 0}}, {"vae", {"1", 2}}}}}},
                  {"4", {{"class_type", "VAEDecode"}, {"inputs", {{"samples", {"3", 0}}, {"vae", {"1", 2}}}}}},
                  {"5", {{"class_type", "PreviewImage"}, {"inputs", {{"images", {"4", 0}}}}}},
                  {"6", {{"class_type", "EmptyLatentImage"}, {"inputs", {{"width", 40}, {"height", 24}, {"batch_size", 2}}}}},
                  {"7", {{"class_type", "VAEDecode"}, {"inputs", {{"samples", {"6", 0}}, {"vae", {"1", 2}}}}}},
                  {"8", {{"class_type", "PreviewImage"}, {"inputs", {{"images", {"7", 0}}}}}}};
  write(p / "g.json", g.dump());
  write(p / "s.txt", "open " + (p / "g.json").string() + "\nrun\nwait 300\nexpect-run ok\n"
                     "hover-link 4 samples\nwait-link\nframes 1\nstate " + (p / "a.json").string() + "\nlink-thumb " + (p / "a.png").string() + "\n"
                     "hover-link 7 samples\nwait-link\nframes 1\nstate " + (p / "b.json").string() + "\nlink-thumb " + (p / "b.png").string() + "\n"
                     "quit\n");
  auto args = common(t);
  args.insert(args.end(), {"--models-dir", models.string(), "--script", (p / "s.txt").string(), "--no-profile"});
  auto r = editor(args);
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);

  // The same graph here, every output kept: VAEEncode's latent, batch item 0, through the CPU reference.
  using namespace vkf::graph;
  RunEnv env;
  env.paths.models_dir = models;
  env.paths.output_dir = p / "out_ref";
  env.paths.temp_dir = p / "tmp_ref";
  env.paths.input_dir = kSrc / "graphs" / "input";
  env.services->set(kGpuService, std::shared_ptr<void>(std::shared_ptr<void>(), &vkf::test::gpu()));
  Executor ex;
  ex.keep_outputs(true);
  RunResult run = ex.run(Graph::parse(g.dump()), env);
  REQUIRE(run.ok());
  const vkf::Tensor& z = run.outputs.at("3").at(0).get_shared<vkf::nodes::Latent>()->samples;
  REQUIRE(z.rank() == 4);
  const int64_t C = z.dim(1), H = z.dim(2), W = z.dim(3);
  REQUIRE(C == 4);
  const auto z0 = vkf::to_host(vkf::test::gpu(), z.slice0(0, 1));
  vkf::sampling::LatentRgbFactors f{rows, bias};
  const auto want = vkf::sampling::latent_preview_ref(z0, C, H, W, f);

  json a = read_json(p / "a.json");
  INFO(a["link_stats"].dump() << " " << a["link_thumbnail"]);
  CHECK(a["link_stats"].value("status", "") == "ready");
  CHECK(a["link_thumbnail"] == std::to_string(W) + "x" + std::to_string(H) + " batch item 0, latent to RGB");
  auto shot = vkf::io::load_image(p / "a.png");
  REQUIRE(shot.width == W);
  REQUIRE(shot.height == H);
  // The GPU map sums in its own order (and may fuse): allow one step of 255 where a value lands on an edge.
  int worst = 0;
  for (int64_t i = 0; i < H * W * 3; ++i) {
    const int got = int(std::lround(shot.rgba[size_t(i / 3 * 4 + i % 3)] * 255.0f));
    worst = std::max(worst, std::abs(got - int(want.rgb[size_t(i)])));
  }
  CHECK(worst <= 1);
  // SD1.x's factors would give another picture: the sidecar's map was the one used.
  const auto sd15 = vkf::sampling::latent_preview_ref(z0, C, H, W, vkf::sampling::sd15_latent_rgb());
  int far = 0;
  for (size_t i = 0; i < sd15.rgb.size(); ++i) far = std::max(far, std::abs(int(sd15.rgb[i]) - int(want.rgb[i])));
  CHECK(far > 8);

  // EmptyLatentImage: zeros, so every pixel is the bias, (b + 1) / 2 in bytes; 40x24 pixels -> W/8 x H/8.
  json b = read_json(p / "b.json");
  CHECK(b["link_thumbnail"] == "5x3 batch item 0, latent to RGB");
  CHECK(b["link_stats"]["finite"] == 2 * 4 * 3 * 5);
  auto empty = vkf::io::load_image(p / "b.png");
  REQUIRE(empty.width == 5);
  REQUIRE(empty.height == 3);
  for (int k = 0; k < 3; ++k) {
    const int byte = int(std::clamp((bias[size_t(k)] + 1.0f) * 0.5f, 0.0f, 1.0f) * 255.0f);
    for (int i = 0; i < 15; ++i) CHECK(std::abs(int(std::lround(empty.rgba[size_t(i * 4 + k)] * 255.0f)) - byte) <= 1);
  }
}
