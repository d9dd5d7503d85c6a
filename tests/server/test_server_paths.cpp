// Requests name files only below the server's folders: an absolute LoadImage / checkpoint path (which the
// CLI allows: its user means it) and a SaveImage prefix leaving the output folder are refused at POST
// /prompt with ComfyUI's 400 and node_errors, and nothing is queued or written.
#include <catch2/catch.hpp>

#include <fstream>

#include "engine/io/png.h"
#include "tests/server/server_fixture.h"

using namespace vkf;
using namespace vkf::test::srv;

namespace {
std::string prompt_with(const json& graph) { return json{{"prompt", graph}, {"client_id", "c1"}}.dump(); }
}  // namespace

TEST_CASE("serve: absolute and escaping file names in a prompt are refused with 400", "[server][cpu]") {
  Server s([](AppOptions& o) { o.registry = &graph::Registry::instance(); });
  // A real PNG outside the input folder, so only the rule (not a missing file) can refuse it.
  const auto outside = s.dirs.root / "outside.png";
  {
    auto png = io::encode_png(std::vector<uint8_t>(4 * 4 * 3, 128), 4, 4, 3, {});
    std::ofstream(outside, std::ios::binary).write(reinterpret_cast<const char*>(png.data()), std::streamsize(png.size()));
  }
  const auto before = std::distance(fs::directory_iterator(s.dirs.root / "output"), fs::directory_iterator());

  const json load = {{"1", {{"class_type", "LoadImage"}, {"inputs", {{"image", outside.string()}}}}},
                     {"2", {{"class_type", "SaveImage"}, {"inputs", {{"images", {"1", 0}}, {"filename_prefix", "ok"}}}}}};
  auto r = s(req("POST", "/prompt", prompt_with(load)));
  REQUIRE(r.status == 400);
  auto e = body(r);
  REQUIRE(e["node_errors"].contains("1"));
  CHECK(e["node_errors"]["1"]["errors"][0]["type"] == "value_not_in_list");
  CHECK_THAT(e["node_errors"]["1"]["errors"][0]["details"].get<std::string>(), Catch::Contains("image"));

  json escape = load;
  escape["1"]["inputs"]["image"] = "../outside.png";
  r = s(req("POST", "/prompt", prompt_with(escape)));
  REQUIRE(r.status == 400);
  CHECK(body(r)["node_errors"]["1"]["errors"][0]["type"] == "value_not_in_list");

  const json ckpt = {{"1", {{"class_type", "CheckpointLoaderSimple"}, {"inputs", {{"ckpt_name", outside.string()}}}}},
                     {"2", {{"class_type", "PreviewAny"}, {"inputs", {{"source", {"1", 0}}}}}}};
  r = s(req("POST", "/prompt", prompt_with(ckpt)));
  REQUIRE(r.status == 400);
  CHECK(body(r)["node_errors"].contains("1"));

  // A prefix leaving the output folder: ComfyUI's words.
  fs::copy_file(outside, s.dirs.root / "input" / "in.png");
  json save = load;
  save["1"]["inputs"]["image"] = "in.png";
  save["2"]["inputs"]["filename_prefix"] = "../escaped";
  r = s(req("POST", "/prompt", prompt_with(save)));
  REQUIRE(r.status == 400);
  CHECK(body(r)["node_errors"]["2"]["errors"][0]["message"] == "Saving image outside the output folder is not allowed.");

  CHECK(body(s(req("GET", "/queue")))["queue_pending"].empty());
  CHECK(std::distance(fs::directory_iterator(s.dirs.root / "output"), fs::directory_iterator()) == before);
  CHECK_FALSE(fs::exists(s.dirs.root / "escaped_00001_.png"));
}
