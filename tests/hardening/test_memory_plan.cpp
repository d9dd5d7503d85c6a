// The device-memory plan (engine/graph/memory_plan.h): a plan that cannot fit the device heap is refused
// before anything runs, naming the node with a suggestion; the bundled txt2img graph fits.
#include <catch2/catch.hpp>

#include "engine/graph/memory_plan.h"
#include "tests/e2e/e2e_util.h"

using namespace vkf::e2e;
namespace graph = vkf::graph;

namespace {
graph::Paths repo_paths() {
  graph::Paths p;
  p.models_dir = fs::path(VKFLOW_SOURCE_DIR) / "models";
  return p;
}
constexpr uint64_t kGiB = uint64_t(1) << 30;
}  // namespace

TEST_CASE("memory plan: EmptyLatentImage 4096x4096 batch 4 into txt2img is refused naming VAEDecode", "[hardening][cpu]") {
  auto g = graph::Graph::load(kGraphs / "txt2img.json");
  g.set_input("5", "width", 4096);
  g.set_input("5", "height", 4096);
  g.set_input("5", "batch_size", 4);
  auto plan = graph::estimate_memory(g, repo_paths());
  REQUIRE(plan.largest() != nullptr);
  CHECK(plan.largest()->node == "8");
  // 4 x 4096^2 pixels x 640 fp32 floats: 160 GiB before the image itself; far beyond any single device.
  CHECK(plan.peak() > 160 * kGiB);
  CHECK(plan.weights > 0);  // the bundled checkpoint's file size
  auto err = graph::check_memory_plan(plan, 24 * kGiB);
  REQUIRE(err);
  CHECK_THAT(*err, Catch::Contains("node 8 (VAEDecode)"));
  CHECK_THAT(*err, Catch::Contains("node 5, EmptyLatentImage 4096x4096 batch 4"));
  CHECK_THAT(*err, Catch::Contains("VAEDecodeTiled"));
  CHECK_THAT(*err, Catch::Contains("smaller batch_size"));
}

TEST_CASE("memory plan: graphs/txt2img.json and a 512x512 SD-size plan fit a 2 GiB heap", "[hardening][cpu]") {
  auto g = graph::Graph::load(kGraphs / "txt2img.json");
  auto plan = graph::estimate_memory(g, repo_paths());
  CHECK(plan.items.size() == 3);  // EmptyLatentImage, KSampler, VAEDecode
  CHECK_FALSE(graph::check_memory_plan(plan, 2 * kGiB));
  g.set_input("5", "width", 512);
  g.set_input("5", "height", 512);
  CHECK_FALSE(graph::check_memory_plan(graph::estimate_memory(g, repo_paths()), 2 * kGiB));
  CHECK_FALSE(graph::check_memory_plan(plan, 0));  // unknown heap: no check
}

TEST_CASE("memory plan: VAEDecodeTiled plans its tile, and a huge batch still fails at the sampler", "[hardening][cpu]") {
  auto g = graph::Graph::load(kGraphs / "txt2img.json");
  g.set_input("5", "width", 4096);
  g.set_input("5", "height", 4096);
  g.put_node("8", {{"class_type", "VAEDecodeTiled"},
                   {"inputs", {{"samples", {"3", 0}}, {"vae", {"4", 2}}, {"tile_size", 512}, {"overlap", 64}}}});
  auto plan = graph::estimate_memory(g, repo_paths());
  CHECK_FALSE(graph::check_memory_plan(plan, 24 * kGiB));
  g.set_input("5", "batch_size", 64);
  auto err = graph::check_memory_plan(graph::estimate_memory(g, repo_paths()), 24 * kGiB);
  REQUIRE(err);
  CHECK_THAT(*err, Catch::Contains("node 3 (KSampler)"));
  CHECK_THAT(*err, Catch::Contains("smaller batch_size"));
}

TEST_CASE("run: a plan beyond the device heap exits 2 at once naming the node, nothing written", "[hardening][cpu]") {
  TempDir d("memplan");
  fs::create_directories(d / "o");
  auto r = vkflow({"run", (kGraphs / "txt2img.json").string(), "--quiet", "--output-dir", (d / "o").string(),
                   "--models-dir", (fs::path(VKFLOW_SOURCE_DIR) / "models").string(), "--set", "5.width=4096", "--set", "5.height=4096", "--set", "5.batch_size=4"});
  INFO(r.err);
  CHECK_FALSE(r.crashed());
  CHECK(r.code == 2);
  CHECK(contains(r.err, "planned device memory does not fit"));
  CHECK(contains(r.err, "node 8 (VAEDecode)"));
  CHECK(contains(r.err, "VAEDecodeTiled"));
  CHECK(files_under(d / "o").empty());
}

namespace {
const graph::MemoryPlanItem* item_of(const graph::MemoryPlan& p, const std::string& node) {
  for (auto& i : p.items)
    if (i.node == node) return &i;
  return nullptr;
}
// A PNG whose header (IHDR) claims w x h RGB and that holds no pixel data: enough for the plan, which reads
// the header only (stb_image does not check chunk CRCs).
void write_png_header(const fs::path& p, uint32_t w, uint32_t h) {
  std::string s = "\x89PNG\r\n\x1a\n";
  s += std::string("\0\0\0\x0d", 4) + "IHDR";
  for (uint32_t v : {w, h})
    for (int k = 3; k >= 0; --k) s += char((v >> (8 * k)) & 0xff);
  s += std::string("\x08\x02\0\0\0", 5) + std::string(4, '\0');
  write_file(p, s);
}
}  // namespace

TEST_CASE("memory plan: img2img sizes flow from LoadImage's header through ImageScale and VAEEncode", "[hardening][cpu]") {
  TempDir d("planimg");
  auto g = graph::Graph::load(kGraphs / "img2img.json");
  graph::Paths paths = repo_paths();
  paths.input_dir = kGraphs / "input";
  auto plan = graph::estimate_memory(g, paths);
  // LoadImage (example.png is 64x64), ImageScale, VAEEncode, KSampler, VAEDecode
  REQUIRE(plan.items.size() == 5);
  REQUIRE(item_of(plan, "10"));
  CHECK_THAT(item_of(plan, "10")->what, Catch::Contains("at 64x64 batch 1 (from node 10, LoadImage 64x64 batch 1)"));
  // ImageScale to 2048x1024 (crop) -> every later node works at that size; the sampler at its latent.
  g.set_input("11", "width", 2048);
  g.set_input("11", "height", 1024);
  plan = graph::estimate_memory(g, paths);
  for (const char* id : {"12", "3", "8"}) {
    INFO("node " << id);
    REQUIRE(item_of(plan, id));
    CHECK_THAT(item_of(plan, id)->what, Catch::Contains("at 2048x1024 batch 1 (from node 11, ImageScale 2048x1024 batch 1)"));
  }
  // 256x128 latent positions, doubled for CFG, 6400 f32 values each, plus 4 latent-sized buffers
  CHECK(item_of(plan, "3")->bytes == uint64_t(256 * 128) * 2 * 6400 * 4 + uint64_t(256 * 128) * 4 * 16);
  CHECK(item_of(plan, "12")->bytes == uint64_t(2048 * 1024) * (640 * 4 + 12));
  // A zero side keeps the aspect ratio; a LoadImage of a huge image, unscaled, fails at VAEEncode.
  write_png_header(d / "huge.png", 8000, 8000);
  g.set_input("10", "image", (d / "huge.png").string());
  g.set_input("11", "width", 0);
  g.set_input("11", "height", 0);
  auto err = graph::check_memory_plan(graph::estimate_memory(g, paths), 24 * kGiB);
  REQUIRE(err);
  CHECK_THAT(*err, Catch::Contains("node 12 (VAEEncode)"));
  CHECK_THAT(*err, Catch::Contains("from node 10, LoadImage 8000x8000 batch 1"));
  CHECK_THAT(*err, Catch::Contains("VAEEncodeTiled"));
  g.set_input("11", "width", 1000);
  plan = graph::estimate_memory(g, paths);
  CHECK_THAT(item_of(plan, "12")->what, Catch::Contains("ImageScale 1000x1000 batch 1"));
}

TEST_CASE("memory plan: CFG doubling, linked sizes, weights counted once at the device dtype", "[hardening][cpu]") {
  auto g = graph::Graph::load(kGraphs / "txt2img.json");
  const auto paths = repo_paths();
  g.set_input("5", "width", 1024);
  g.set_input("5", "height", 1024);
  const uint64_t cfg8 = item_of(graph::estimate_memory(g, paths), "3")->bytes;
  g.set_input("3", "cfg", 1.0);  // no negative batch (ComfyUI skips it at cfg 1)
  auto plan = graph::estimate_memory(g, paths);
  CHECK_THAT(item_of(plan, "3")->what, !Catch::Contains("doubled"));
  CHECK(item_of(plan, "3")->bytes < cfg8 * 6 / 10);
  // A width linked from a PrimitiveInt (a widget converted to an input) is followed.
  g.put_node("20", {{"class_type", "PrimitiveInt"}, {"inputs", {{"value", 2048}}}});
  g.set_input("5", "width", nlohmann::json::array({"20", 0}));
  plan = graph::estimate_memory(g, paths);
  CHECK_THAT(item_of(plan, "8")->what, Catch::Contains("at 2048x1024 batch 1"));
  // The empty and the sampled latent and the decoded image are held besides the working set (SaveImage
  // passes nothing on).
  CHECK(plan.values == 2 * uint64_t(256 * 128) * 16 + uint64_t(2048 * 1024) * 12);
  CHECK(plan.peak() == plan.weights + plan.values + plan.largest()->bytes);
  // A second loader of the same file adds nothing; f16 compute halves the (f32 or f16 file's) weights.
  const uint64_t w32 = plan.weights;
  g.put_node("21", {{"class_type", "CheckpointLoaderSimple"}, {"inputs", {{"ckpt_name", "vkflow-fashion.safetensors"}}}});
  CHECK(graph::estimate_memory(g, paths).weights == w32);
  auto plan16 = graph::estimate_memory(g, paths, {2});
  CHECK(plan16.weights * 2 >= w32 - 1024);  // integer tensors (if any) keep their size
  CHECK(plan16.weights < w32);
  CHECK(item_of(plan16, "8")->bytes < item_of(plan, "8")->bytes);
}

TEST_CASE("memory plan: a cycle or dangling links plan nothing instead of failing", "[hardening][cpu]") {
  auto g = graph::Graph::from_json(nlohmann::json::parse(R"({
    "1": {"class_type": "VAEDecode", "inputs": {"samples": ["2", 0]}},
    "2": {"class_type": "KSampler", "inputs": {"latent_image": ["1", 0]}},
    "3": {"class_type": "VAEDecode", "inputs": {"samples": ["99", 0], "vae": [1]}}})"));
  auto plan = graph::estimate_memory(g, repo_paths());
  CHECK(plan.items.empty());
  CHECK(plan.peak() == 0);
}

TEST_CASE("run: img2img of a 16000x16000 PNG is refused by the plan at VAEEncode before decoding", "[hardening][cpu]") {
  // The size comes from the file's header alone (the file holds no pixels: decoding it would fail).
  TempDir d("memplanimg");
  fs::create_directories(d / "o");
  fs::create_directories(d / "in");
  write_png_header(d / "in" / "huge.png", 16000, 16000);
  auto r = vkflow({"run", (kGraphs / "img2img.json").string(), "--quiet", "--output-dir", (d / "o").string(),
                   "--input-dir", (d / "in").string(), "--models-dir", (fs::path(VKFLOW_SOURCE_DIR) / "models").string(),
                   "--set", "10.image=huge.png", "--set", "11.width=0", "--set", "11.height=0"});
  INFO(r.err);
  CHECK_FALSE(r.crashed());
  CHECK(r.code == 2);
  CHECK(contains(r.err, "planned device memory does not fit"));
  CHECK(contains(r.err, "node 12 (VAEEncode)"));
  CHECK(contains(r.err, "from node 10, LoadImage 16000x16000 batch 1"));
  CHECK(files_under(d / "o").empty());
}
