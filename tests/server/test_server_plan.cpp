// POST /prompt checks the planned device memory (engine/graph/memory_plan.h, the check `vkflow run` makes)
// before queueing: a plan that cannot fit is a 400 with ComfyUI's node_errors naming the node, and nothing
// is queued. In-process against a set device size (AppOptions::device_memory_bytes), and through the binary
// with --device-memory.
#include <catch2/catch.hpp>

#include "tests/server/serve_proc.h"
#include "tests/server/server_fixture.h"
#include "tests/support/temp_dir.h"

using namespace vkf;
using namespace vkf::test::srv;

namespace {
constexpr uint64_t kGiB = uint64_t(1) << 30;

// EmptyLatentImage (node 5) into PreviewAny (node 9): the plan is the latent, w/8 x h/8 x 4 f32 x batch.
json latent_graph(int w, int h, int batch) {
  return {{"5", {{"class_type", "EmptyLatentImage"}, {"inputs", {{"width", w}, {"height", h}, {"batch_size", batch}}}}},
          {"9", {{"class_type", "PreviewAny"}, {"inputs", {{"source", {"5", 0}}}}}}};
}
std::string prompt_of(const json& g) { return json{{"prompt", g}, {"client_id", "c1"}}.dump(); }
}  // namespace

TEST_CASE("serve: a prompt whose memory plan cannot fit the device is refused at POST /prompt with node_errors",
          "[server][cpu]") {
  Dirs dirs;
  Recorder sink;
  AppOptions o = dirs.options();
  o.registry = &graph::Registry::instance();
  o.device_memory_bytes = 1 * kGiB;
  App app(o, sink);  // no queue attached: what is accepted is only stored

  // 16384 x 16384, batch 64: a 4 GiB latent (64 MiB per image) on a 1 GiB device.
  auto r = app.handle(req("POST", "/prompt", prompt_of(latent_graph(16384, 16384, 64))));
  REQUIRE(r.status == 400);
  auto e = body(r);
  INFO(e.dump(2));
  CHECK(e["error"]["type"] == "prompt_outputs_failed_validation");
  CHECK(e["error"]["message"] == "Prompt outputs failed validation");
  REQUIRE(e["node_errors"].contains("5"));
  const json& ne = e["node_errors"]["5"];
  CHECK(ne["class_type"] == "EmptyLatentImage");
  CHECK(ne["dependent_outputs"] == json::array({"9"}));
  REQUIRE(ne["errors"].size() == 1);
  CHECK(ne["errors"][0]["type"] == "device_memory_exceeded");
  const std::string details = ne["errors"][0]["details"];
  CHECK(details.find("node 5 (EmptyLatentImage)") != std::string::npos);
  CHECK(details.find("1.0 GiB") != std::string::npos);          // the device it was planned against
  CHECK(details.find("smaller batch_size") != std::string::npos);  // and what to do
  CHECK(e["node_errors"].size() == 1);
  // Nothing queued, nothing sent, no number taken.
  CHECK(app.store().pending().empty());
  CHECK(sink.text.empty());

  // What fits is queued as before, and the refused prompt_id stays free.
  json ok = json::parse(prompt_of(latent_graph(512, 512, 1)));
  ok["prompt_id"] = "fits-1";
  r = app.handle(req("POST", "/prompt", ok.dump()));
  REQUIRE(r.status == 200);
  CHECK(body(r)["prompt_id"] == "fits-1");
  CHECK(app.store().pending().size() == 1);
  // Near the device's size: 8192^2 batch 64 is 1 GiB of latent (and 1 GiB kept as the node's value), over;
  // batch 8 (256 MiB in all) fits.
  CHECK(app.handle(req("POST", "/prompt", prompt_of(latent_graph(8192, 8192, 64)))).status == 400);
  CHECK(app.handle(req("POST", "/prompt", prompt_of(latent_graph(8192, 8192, 8)))).status == 200);
  // Validation comes first: an invalid graph gets its validation errors, not a plan.
  auto bad = body(app.handle(req("POST", "/prompt", prompt_of(latent_graph(16384, 16384, 5000)))));
  CHECK(bad["node_errors"]["5"]["errors"][0]["type"] == "value_bigger_than_max");
}

TEST_CASE("serve: without a device size the plan is not checked", "[server][cpu]") {
  Dirs dirs;
  Recorder sink;
  AppOptions o = dirs.options();
  o.registry = &graph::Registry::instance();
  o.device_memory_bytes = 0;  // no device found (or --skip-memory-check)
  App app(o, sink);
  CHECK(app.handle(req("POST", "/prompt", prompt_of(latent_graph(16384, 16384, 64)))).status == 200);
}

// The binary lists the Vulkan devices at start (the plan's element size), so not [cpu].
TEST_CASE("serve --device-memory: POST /prompt refuses a huge EmptyLatentImage with 400 before queueing",
          "[server]") {
  const auto dir = vkf::test::process_temp_dir("serve_plan");
  vkf::test::ServeProc s({"--data-dir", (dir / "data").string(), "--device-memory", "2"});
  REQUIRE(s.ok());
  auto r = s.request("POST", "/prompt", prompt_of(latent_graph(16384, 16384, 64)));
  REQUIRE(r.status == 400);
  auto e = r.json();
  INFO(r.body);
  CHECK(e["node_errors"]["5"]["class_type"] == "EmptyLatentImage");
  CHECK(e["node_errors"]["5"]["errors"][0]["type"] == "device_memory_exceeded");
  CHECK(e["node_errors"]["5"]["errors"][0]["details"].get<std::string>().find("2.0 GiB") != std::string::npos);
  auto q = s.request("GET", "/queue").json();
  CHECK(q["queue_pending"].empty());
  CHECK(q["queue_running"].empty());
}
