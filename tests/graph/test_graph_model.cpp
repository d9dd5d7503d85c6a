// Graph model: ComfyUI API-format parsing, the /prompt wrapper, extra keys kept, parse errors located,
// the shared real workflows, object_info shape.
#include <catch2/catch.hpp>

#include "engine/graph/graph.h"
#include "engine/graph/order.h"
#include "engine/graph/registry.h"
#include "tests/graph/test_nodes.h"

using namespace vkf::graph;
using vkf::test::graph_of;

TEST_CASE("graph: API format parses, extra top-level keys are kept on re-emit", "[cpu][graph]") {
  auto doc = nlohmann::json::parse(R"({
    "10": {"class_type": "TestConst", "inputs": {"value": 3}, "_meta": {"title": "Ten"}},
    "2": {"class_type": "TestSink", "inputs": {"value": ["10", 0]}},
    "extra_key": {"anything": [1, 2]},
    "version": 7})");
  Graph g = Graph::from_json(doc);
  REQUIRE(g.nodes().size() == 2);
  CHECK(g.nodes()[0].id == "2");  // natural id order: 2 before 10
  CHECK(g.nodes()[1].id == "10");
  CHECK(g.find("10")->title() == "Ten");
  CHECK(g.document() == doc);
  CHECK_FALSE(g.wrapped());

  g.set_input("10", "value", 5);
  auto d2 = g.document();
  CHECK(d2["10"]["inputs"]["value"] == 5);
  CHECK(d2["extra_key"] == doc["extra_key"]);
  CHECK(d2["version"] == 7);
  CHECK_THROWS_AS(g.set_input("99", "value", 1), GraphError);
}

TEST_CASE("graph: the /prompt wrapper keeps extra_data and exposes extra_pnginfo", "[cpu][graph]") {
  auto doc = nlohmann::json::parse(R"({
    "prompt": {"1": {"class_type": "TestConst", "inputs": {"value": 1}}},
    "client_id": "abc",
    "extra_data": {"extra_pnginfo": {"workflow": {"nodes": []}}}})");
  Graph g = Graph::from_json(doc);
  CHECK(g.wrapped());
  REQUIRE(g.nodes().size() == 1);
  CHECK(g.prompt() == doc["prompt"]);
  CHECK(g.document() == doc);
  CHECK(g.extra_pnginfo() == doc["extra_data"]["extra_pnginfo"]);
}

TEST_CASE("graph: malformed JSON names line and column", "[cpu][graph]") {
  try {
    Graph::parse("{\n  \"1\": {\"class_type\": \"X\",\n    \"inputs\": {,}}\n}", "bad.json");
    FAIL("no ParseError");
  } catch (const ParseError& e) {
    CHECK(e.line == 3);
    CHECK(e.column == 16);  // the ',' that cannot start a key
    CHECK(std::string(e.what()).find("bad.json") != std::string::npos);
    CHECK(std::string(e.what()).find("line 3, column 16") != std::string::npos);
  }
  CHECK_THROWS_AS(Graph::parse("[1, 2]"), ParseError);  // not an object of nodes
}

TEST_CASE("graph: links parse as ComfyUI writes them", "[cpu][graph]") {
  auto l = parse_link(nlohmann::json::parse(R"(["4", 1])"));
  REQUIRE(l);
  CHECK(l->node == "4");
  CHECK(l->output == 1);
  CHECK(parse_link(nlohmann::json::parse("[4, 2]"))->node == "4");  // numeric ids are tolerated
  std::string why;
  CHECK_FALSE(parse_link(nlohmann::json::parse(R"(["4"])"), &why));
  CHECK(why.find("length-2") != std::string::npos);
  CHECK_FALSE(parse_link(nlohmann::json::parse(R"(["4", -1])")));
}

TEST_CASE("graph: the shared ComfyUI workflows load with their links", "[cpu][graph]") {
  Graph g = Graph::load(std::string(VKFLOW_SHARED_DIR) + "/comfy_workflows/basic_api_example.json");
  std::vector<std::string> ids;
  for (auto& n : g.nodes()) ids.push_back(n.id);
  CHECK(ids == std::vector<std::string>{"3", "4", "5", "6", "7", "8", "9"});
  CHECK(g.find("3")->class_type == "KSampler");
  CHECK(g.find("3")->inputs()["seed"] == 8566257);
  auto links = node_links(g, *g.find("3"), vkf::test::test_registry());
  REQUIRE(links.size() == 4);  // model, positive, negative, latent_image in schema order
  CHECK(links[0].first == "model");
  CHECK(links[0].second.node == "4");
  CHECK(links[3].first == "latent_image");
  CHECK(links[3].second.node == "5");

  Graph r = Graph::load(std::string(VKFLOW_SHARED_DIR) + "/comfy_workflows/default_graph_sdxl_refiner.json");
  CHECK(r.nodes().size() == 11);
  CHECK(r.find("14")->inputs()["latent_image"][0] == "10");
}

TEST_CASE("graph: object_info has ComfyUI's shape", "[cpu][graph]") {
  auto info = object_info();  // the process-wide registry: built-in nodes
  REQUIRE(info.contains("PrimitiveInt"));
  auto& p = info["PrimitiveInt"];
  CHECK(p["name"] == "PrimitiveInt");
  CHECK(p["display_name"] == "Int");
  CHECK(p["category"] == "utils/primitive");
  CHECK(p["output"] == nlohmann::json::array({"INT"}));
  CHECK(p["output_name"] == nlohmann::json::array({"INT"}));
  CHECK(p["output_is_list"] == nlohmann::json::array({false}));
  CHECK(p["output_node"] == false);
  auto& v = p["input"]["required"]["value"];
  CHECK(v[0] == "INT");
  CHECK(v[1]["default"] == 0);
  CHECK(v[1]["min"] == -INT64_MAX);  // sys.maxsize
  CHECK(v[1]["max"] == INT64_MAX);
  CHECK(info["PrimitiveStringMultiline"]["input"]["required"]["value"][1]["multiline"] == true);
  CHECK(info["PreviewAny"]["output_node"] == true);
  CHECK(info["PreviewAny"]["input"]["required"]["source"][0] == "*");

  auto t = vkf::test::test_registry().object_info();
  auto& lat = t["TestLatent"];
  CHECK(lat["input"]["required"]["mode"][0] == nlohmann::json::array({"fast", "slow"}));  // COMBO as a list
  CHECK(lat["input"]["required"]["width"][1]["step"] == 8);
  CHECK(lat["input"]["required"]["width"][1]["tooltip"] == "the width");
  CHECK(lat["input"]["optional"]["flip"][0] == "BOOLEAN");
  CHECK(lat["input_order"]["required"] == nlohmann::json::array({"width", "scale", "mode", "text"}));
  CHECK(lat["output_name"][0] == "latent");
  CHECK(lat["description"] == "widgets of every kind");
  CHECK(t["KSampler"]["input"]["required"]["seed"][1]["max"] == 0xffffffffffffffffull);
  CHECK(t["TestBadCombo"]["input"]["required"]["file"][0] == nlohmann::json::array());  // options_fn failed
}
