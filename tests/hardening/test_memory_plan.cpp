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
