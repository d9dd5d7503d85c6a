// Inputs the libFuzzer targets (tests/fuzz/) found crashing, replayed through the same entry points, plus
// the limits those targets rely on. Each crashing input is also kept in its target's seed corpus.
#include <catch2/catch.hpp>

#include <set>
#include <variant>

#include "engine/graph/graph.h"
#include "engine/graph/workflow.h"
#include "engine/io/json_limits.h"
#include "engine/io/png.h"
#include "engine/io/png_text.h"
#include "engine/io/safetensors.h"
#include "engine/io/safe_path.h"
#include "server/request_check.h"
#include "server/safe_path.h"
#include "tests/e2e/e2e_util.h"

using namespace vkf;
using namespace vkf::e2e;

namespace {
const fs::path kCorpus = fs::path(VKFLOW_SOURCE_DIR) / "tests" / "fuzz";
}

TEST_CASE("fuzz regression: a JSON number beyond double is a parse error, not std::terminate", "[hardening][cpu]") {
  // nlohmann throws out_of_range.406 (not parse_error) for 1e309; it used to escape every parser.
  const std::string text = R"({"1": {"class_type": "EmptyLatentImage", "inputs": {"width": 1e309}}})";
  try {
    (void)graph::Graph::parse(text, "g.json");
    FAIL("parsed");
  } catch (const graph::ParseError& e) {
    CHECK(contains(e.what(), "g.json: invalid JSON"));
    CHECK(contains(e.what(), "1e309"));
  }
  std::string why;
  CHECK_FALSE(io::parse_json_limited("[1, 2e400]", &why));
  CHECK(contains(why, "number overflow"));
  // The safetensors header the fuzzer found (a shape entry 4444...e22034344517).
  CHECK_THROWS_AS(io::SafeTensors::open(kCorpus / "safetensors" / "crash_number_overflow.safetensors"),
                  io::SafeTensorsError);
}

TEST_CASE("fuzz regression: UI workflow with malformed inputs/links converts or fails cleanly", "[hardening][cpu]") {
  // Reroute / PrimitiveNode / bypassed sources without "inputs" objects, "link" or "widgets_values" keys
  // were read with const operator[] (undefined behaviour; ASan: heap-buffer-overflow).
  auto wf = load_json(kCorpus / "workflow_json" / "crash_const_index.json");
  REQUIRE(graph::is_workflow(wf));
  try {
    (void)graph::graph_from_workflow(wf);
  } catch (const graph::ParseError&) {
  }
  nlohmann::json minimal = {
      {"nodes",
       {{{"id", 1}, {"type", "Reroute"}, {"inputs", {1, nullptr}}, {"mode", 0}},
        {{"id", 2}, {"type", "PrimitiveNode"}},
        {{"id", 3}, {"type", "ImageInvert"}, {"mode", 4}, {"inputs", {"x", {{"type", "IMAGE"}}}}},
        {{"id", 4}, {"type", "SaveImage"}, {"inputs", {{{"name", "images"}, {"link", 1}}, {{"name", "x"}, {"link", 2}},
                                                      {{"name", "y"}, {"link", 3}}}},
         {"widgets_values", {"p"}}}}},
      {"links", {{1, 1, 0, 4, 0, "IMAGE"}, {2, 2, 0, 4, 1, "STRING"}, {3, 3, 0, 4, 2, "IMAGE"}}}};
  try {
    auto g = graph::graph_from_workflow(minimal);
    CHECK(g.find("4"));
  } catch (const graph::ParseError&) {
  }
}

TEST_CASE("server request checks: deep or malformed bodies are 400, never a crash", "[hardening][cpu]") {
  server::Request req;
  req.method = "POST";
  req.target = "/prompt";
  req.body = "{\"prompt\": " + std::string(100000, '[') + std::string(100000, ']') + "}";
  CHECK_FALSE(server::parse_json_body(req));  // the limit of io/json_limits.h, as every other JSON input
  auto r = server::check_prompt_request(req, graph::Registry::instance(), {});
  REQUIRE(std::holds_alternative<server::Response>(r));
  CHECK(std::get<server::Response>(r).status == 400);
  req.body = R"({"prompt": {"1": {"class_type": "EmptyLatentImage", "inputs": {"width": 1e999}}}})";
  r = server::check_prompt_request(req, graph::Registry::instance(), {});
  REQUIRE(std::holds_alternative<server::Response>(r));
  CHECK(std::get<server::Response>(r).status == 400);
  req.body = R"({"prompt": []})";
  r = server::check_prompt_request(req, graph::Registry::instance(), {});
  REQUIRE(std::holds_alternative<server::Response>(r));
  CHECK(contains(std::get<server::Response>(r).body, "prompt must be an object of nodes"));
}

TEST_CASE("fuzz regression: a PNG text chunk whose length passes the file's end is not allocated", "[hardening][cpu]") {
  // fuzz_image timed out (15 s under ASan) on this 151-byte PNG: its iTXt chunk after IHDR claims
  // 603979807 bytes, which were allocated and zero-filled before the read failed. Now the scan stops at
  // the damaged chunk.
  const fs::path f = kCorpus / "image" / "timeout_text_chunk_length.png";
  REQUIRE(fs::file_size(f) == 151);
  CHECK(io::read_png_text(f).empty());
  CHECK_THROWS_AS(io::load_image(f, uint64_t(1) << 20), std::runtime_error);  // no pixel data: an error
  // An intact tEXt chunk before one claiming 2^30 bytes is kept.
  TempDir d("pngtext");
  std::string png = "\x89PNG\r\n\x1a\n";
  png += std::string("\0\0\0\x09", 4) + "tEXt" + "key" + std::string(1, '\0') + "value" + std::string(4, '\0');
  png += std::string("\x40\0\0\0", 4) + "tEXt" + "big" + std::string(1, '\0') + "value";
  write_file(d / "t.png", png);
  auto text = io::read_png_text(d / "t.png");
  CHECK(text.size() == 1);
  CHECK(text["key"] == "value");
}

TEST_CASE("fuzz regression: a PNG chunk length past the file's end is refused before stb_image decodes", "[hardening][cpu]") {
  // fuzz_image timed out (14 s under ASan) on this 169-byte PNG: its IDAT claims 2003763214 bytes, which
  // stb_image allocated before finding the file short (in production a 2 GiB allocation per request).
  const fs::path f = kCorpus / "image" / "timeout_idat_length.png";
  REQUIRE(fs::file_size(f) == 169);
  CHECK_THROWS_WITH(io::load_image(f, uint64_t(1) << 20),
                    Catch::Contains("timeout_idat_length.png: damaged PNG: chunk 'IDAT' of 2003763214 bytes runs past "
                                    "the end of the file (169 bytes)"));
  // Every intact PNG of the seed corpus still decodes, one without IEND's CRC included.
  auto img = io::load_image(kCorpus / "image" / "gray16.png");
  CHECK(img.width > 0);
  TempDir d("pngnocrc");
  std::string png = slurp(kCorpus / "image" / "gray16.png");
  REQUIRE(png.substr(png.size() - 8, 4) == "IEND");
  write_file(d / "nocrc.png", png.substr(0, png.size() - 4));
  CHECK(io::load_image(d / "nocrc.png").width == img.width);
}

TEST_CASE("fuzz regression: node ids at or past INT64_MAX get fresh UI ids, no overflow", "[hardening][cpu]") {
  // A 130-digit id made strtoll clamp to INT64_MAX, and the next fresh id (++top) overflowed (UBSan).
  auto g = graph::Graph::parse(e2e::slurp(kCorpus / "graph_json" / "crash_id_overflow.json"), "g.json");
  auto wf = graph::workflow_from_graph(g, graph::workflow_groups(g), graph::Registry::instance());
  std::set<int64_t> ids;
  for (auto& n : wf.at("nodes")) {
    const int64_t id = n.at("id").get<int64_t>();
    CHECK(id > 0);
    CHECK(id <= (int64_t(1) << 53));
    ids.insert(id);
  }
  CHECK(ids.size() == wf.at("nodes").size());  // no two nodes share an id
  nlohmann::json doc = {{"9223372036854775807", {{"class_type", "PrimitiveInt"}, {"inputs", {{"value", 1}}}}},
                        {"x", {{"class_type", "PrimitiveInt"}, {"inputs", {{"value", 2}}}}}};
  auto g2 = graph::Graph::from_json(doc);
  auto wf2 = graph::workflow_from_graph(g2, nlohmann::json::array(), graph::Registry::instance());
  REQUIRE(wf2.at("nodes").size() == 2);
  CHECK(wf2["nodes"][0]["id"] != wf2["nodes"][1]["id"]);
}

TEST_CASE("fuzz regression: a dangling symlink that points outside is outside (is_within, /view, /upload)",
          "[hardening][cpu]") {
  // fuzz_safe_path: weakly_canonical keeps a dangling link as a plain name, so base/sub/link/x, with link ->
  // a missing folder outside, looked inside, and /view and /upload accepted it (a write through it lands
  // outside as soon as the target folder exists).
  TempDir d("dangling");
  fs::create_directories(d / "base" / "sub");
  fs::create_directory_symlink("../../outside", d / "base" / "sub" / "up");        // d/outside: missing
  fs::create_symlink(d.path() / "outside" / "f.png", d / "base" / "file_up.png");  // absolute, missing
  fs::create_symlink("loop", d / "base" / "loop");
  const fs::path base = d / "base";
  CHECK_FALSE(io::is_within(base, base / "sub" / "up" / "x.png"));
  CHECK_FALSE(io::is_within(base, base / "file_up.png"));
  CHECK_FALSE(io::is_within(base, base / "loop"));
  CHECK(io::is_within(base, base / "sub" / "missing" / "x.png"));
  CHECK(server::resolve_under(base, "sub/up", "x.png").status == 403);
  CHECK(server::resolve_under(base, "", "file_up.png").status == 403);
  CHECK(io::path_problem(base, "sub/up/x.png", io::PathAccess::Write));
  CHECK(server::resolve_under(base, "sub", "x.png").status == 0);
  fs::create_directories(d / "outside");  // the link now leads somewhere: still outside
  CHECK(server::resolve_under(base, "sub/up", "x.png").status == 403);
}
