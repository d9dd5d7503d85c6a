// Per-node GPU time and peak device memory in RunResult::stats (RunEnv::node_profile): the executor
// reads the context's per-submit timestamp total and the allocator's high-water mark around each node.
// On the real image nodes with the test process's GPU context; no window.
#include <catch2/catch.hpp>

#include "engine/graph/executor.h"
#include "engine/graph/services.h"
#include "engine/vk/context.h"
#include "tests/support/gpu.h"
#include "tests/support/temp_dir.h"

using namespace vkf::graph;

namespace {

const char* kInvert = R"({
  "1": {"class_type": "LoadImage", "inputs": {"image": "example.png"}},
  "2": {"class_type": "ImageInvert", "inputs": {"image": ["1", 0]}},
  "3": {"class_type": "ImageInvert", "inputs": {"image": ["2", 0]}},
  "4": {"class_type": "SaveImage", "inputs": {"images": ["3", 0], "filename_prefix": "p"}}})";

struct Restore {  // the shared context's timing flag is left as the test found it
  bool was = vkf::test::gpu().gpu_timing();
  ~Restore() { vkf::test::gpu().set_gpu_timing(was); }
};

}  // namespace

TEST_CASE("executor: per-node GPU time (per-submit timestamps) and peak device memory, off with node_profile=false",
          "[graph]") {
  Restore restore;
  vkf::test::TempDir out("node_profile");
  RunEnv env;
  env.paths.input_dir = std::filesystem::path(VKFLOW_SOURCE_DIR) / "graphs" / "input";
  env.paths.output_dir = out.path();
  env.services->set(kGpuService, std::shared_ptr<void>(std::shared_ptr<void>(), &vkf::test::gpu()));
  const Graph g = Graph::from_json(nlohmann::json::parse(kInvert));
  Executor ex;
  RunResult r = ex.run(g, env);
  INFO(r.error_node << " " << r.error_message << r.validation.to_string());
  REQUIRE(r.ok());
  REQUIRE(r.stats.size() == 4);
  const bool ts = vkf::test::gpu().info().timestamps;
  for (const char* id : {"2", "3"}) {  // ImageInvert: one dispatch each
    INFO("node " << id);
    const NodeStats& st = r.stats[id];
    REQUIRE(st.peak_bytes.has_value());
    CHECK(*st.peak_bytes >= st.bytes);  // its output was live when it finished
    CHECK(st.bytes == 64 * 64 * 3 * 4);
    if (!ts) {
      WARN("SKIPPED GPU time: the device reports no timestamp support");
      CHECK_FALSE(st.gpu_ms.has_value());
      continue;
    }
    REQUIRE(st.gpu_ms.has_value());
    CHECK(*st.gpu_ms > 0);
    CHECK(*st.gpu_ms <= st.ms + 1e-3);  // inside the node's wall time (its submits wait for the GPU)
  }
  // LoadImage uploads and dispatches nothing: measured, no GPU work.
  REQUIRE(r.stats["1"].peak_bytes.has_value());
  CHECK(*r.stats["1"].peak_bytes >= r.stats["1"].bytes);
  if (ts) CHECK(r.stats["1"].gpu_ms == 0.0);

  // Turned off: no figures, and recorders stop writing the submit timestamps.
  env.node_profile = false;
  Executor ex2;
  RunResult off = ex2.run(g, env);
  REQUIRE(off.ok());
  for (auto& [id, st] : off.stats) {
    INFO("node " << id);
    CHECK_FALSE(st.gpu_ms.has_value());
    CHECK_FALSE(st.peak_bytes.has_value());
  }
  CHECK_FALSE(vkf::test::gpu().gpu_timing());
}
