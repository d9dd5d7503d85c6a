// Validation: every problem at once, in ComfyUI's vocabulary, naming node, class and input.
#include <catch2/catch.hpp>

#include <algorithm>

#include "engine/graph/literals.h"
#include "engine/graph/validate.h"
#include "tests/graph/test_nodes.h"

using namespace vkf::graph;
using vkf::test::graph_of;
using vkf::test::test_registry;

namespace {
bool has_error(const ValidationResult& r, const std::string& type, const std::string& node, const std::string& input,
               const std::string& cls = "") {
  return std::any_of(r.errors.begin(), r.errors.end(), [&](const ValidationError& e) {
    return e.type == type && e.node_id == node && e.input_name == input && (cls.empty() || e.class_type == cls);
  });
}
}  // namespace

TEST_CASE("validate: the shared ComfyUI workflows pass against ComfyUI's schemas", "[cpu][graph]") {
  for (auto [file, output] : {std::pair{"basic_api_example.json", "9"}, std::pair{"default_graph_sdxl_refiner.json", "13"}}) {
    Graph g = Graph::load(std::string(VKFLOW_SHARED_DIR) + "/comfy_workflows/" + file);
    auto r = validate(g, test_registry());
    INFO(file << "\n" << r.to_string());
    CHECK(r.ok());
    CHECK(r.outputs == std::vector<std::string>{output});
  }
}

TEST_CASE("validate: every kind of problem is reported at once", "[cpu][graph]") {
  Graph g = graph_of(R"({
    "1": {"class_type": "TestLatent", "inputs": {"width": 5000, "scale": -1, "mode": "medium", "text": "x"}},
    "2": {"class_type": "TestLatent", "inputs": {"width": "wide", "scale": 1, "mode": "fast"}},
    "3": {"class_type": "TestDecode", "inputs": {"samples": ["4", 0]}},
    "4": {"class_type": "TestConst", "inputs": {"value": 1}},
    "5": {"class_type": "TestAdd", "inputs": {"a": ["99", 0], "b": ["4", 3]}},
    "6": {"class_type": "NoSuchNode", "inputs": {"x": ["1", 0]}},
    "7": {"class_type": "TestDecode", "inputs": {"samples": 12}},
    "8": {"class_type": "TestAdd", "inputs": {"a": ["4"], "b": ["4", 0]}},
    "9": {"inputs": {}},
    "20": {"class_type": "TestSink", "inputs": {"value": ["1", 0]}},
    "21": {"class_type": "TestSink", "inputs": {"value": ["2", 0]}},
    "22": {"class_type": "TestSink", "inputs": {"value": ["3", 0]}},
    "23": {"class_type": "TestSink", "inputs": {"value": ["5", 0]}},
    "24": {"class_type": "TestSink", "inputs": {"value": ["7", 0]}},
    "25": {"class_type": "TestSink", "inputs": {"value": ["8", 0]}},
    "26": {"class_type": "TestSink", "inputs": {"value": ["6", 0]}}})");
  auto r = validate(g, test_registry());
  INFO(r.to_string());
  CHECK(has_error(r, "value_bigger_than_max", "1", "width", "TestLatent"));
  CHECK(has_error(r, "value_smaller_than_min", "1", "scale"));
  CHECK(has_error(r, "value_not_in_list", "1", "mode"));
  CHECK(has_error(r, "invalid_input_type", "2", "width"));
  CHECK(has_error(r, "required_input_missing", "2", "text"));
  CHECK(has_error(r, "return_type_mismatch", "3", "samples", "TestDecode"));
  CHECK(has_error(r, "bad_linked_input", "5", "a"));  // node 99 missing
  CHECK(has_error(r, "bad_linked_input", "5", "b"));  // output 3 of a 1-output node
  CHECK(has_error(r, "missing_node_type", "6", "", "NoSuchNode"));
  CHECK(has_error(r, "invalid_input_type", "7", "samples"));  // a literal where a LATENT link is needed
  CHECK(has_error(r, "bad_linked_input", "8", "a"));  // malformed link
  CHECK(has_error(r, "invalid_prompt", "9", ""));     // no class_type
  CHECK(r.errors.size() == 12);
  CHECK_FALSE(r.ok());

  // Messages name node, class and input, and keep ComfyUI's wording.
  auto it = std::find_if(r.errors.begin(), r.errors.end(), [](auto& e) { return e.type == "value_bigger_than_max"; });
  CHECK(it->message == "Value 5000 bigger than max of 4096");
  CHECK(it->to_string().find("node 1 (TestLatent) input 'width'") == 0);
  auto mm = std::find_if(r.errors.begin(), r.errors.end(), [](auto& e) { return e.type == "return_type_mismatch"; });
  CHECK(mm->details == "samples, received_type(INT) mismatch input_type(LATENT)");

  auto j = r.to_json();
  CHECK(j["node_errors"]["1"]["class_type"] == "TestLatent");
  CHECK(j["node_errors"]["1"]["errors"].size() == 3);
  CHECK(j["node_errors"]["1"]["errors"][0]["extra_info"]["input_name"] == "width");
}

TEST_CASE("validate: only output nodes and their ancestors are checked", "[cpu][graph]") {
  // As ComfyUI: a stray node that would not run is no error.
  auto r = validate(graph_of(R"({
    "1": {"class_type": "TestConst", "inputs": {"value": 1}},
    "2": {"class_type": "TestConst", "inputs": {"value": 99999}},
    "3": {"class_type": "TestSink", "inputs": {"value": ["1", 0]}}})"),
                    test_registry());
  CHECK(r.ok());
}

TEST_CASE("validate: cycles and missing outputs", "[cpu][graph]") {
  auto r = validate(graph_of(R"({
    "1": {"class_type": "TestAdd", "inputs": {"a": ["2", 0], "b": ["3", 0]}},
    "2": {"class_type": "TestAdd", "inputs": {"a": ["1", 0], "b": ["3", 0]}},
    "3": {"class_type": "TestConst", "inputs": {"value": 1}},
    "4": {"class_type": "TestAdd", "inputs": {"a": ["4", 0], "b": ["3", 0]}},
    "5": {"class_type": "TestSink", "inputs": {"value": ["2", 0]}},
    "6": {"class_type": "TestSink", "inputs": {"value": ["4", 0]}}})"),
                    test_registry());
  INFO(r.to_string());
  REQUIRE(r.errors.size() == 2);
  CHECK(has_error(r, "dependency_cycle", "1", ""));
  CHECK(r.errors[0].details == "nodes 1, 2 depend on each other");
  CHECK(has_error(r, "dependency_cycle", "4", ""));  // a node linked to itself

  auto none = validate(graph_of(R"({"1": {"class_type": "TestConst", "inputs": {"value": 1}}})"), test_registry());
  REQUIRE(none.errors.size() == 1);
  CHECK(none.errors[0].type == "prompt_no_outputs");
}

TEST_CASE("validate: custom validate() hook and exceptions during validation", "[cpu][graph]") {
  auto r = validate(graph_of(R"({
    "1": {"class_type": "TestRange", "inputs": {"lo": 50, "hi": 10}},
    "2": {"class_type": "TestBadCombo", "inputs": {"file": "a.safetensors"}},
    "3": {"class_type": "TestSink", "inputs": {"value": ["1", 0]}},
    "4": {"class_type": "TestSink", "inputs": {"value": ["2", 0]}}})"),
                    test_registry());
  INFO(r.to_string());
  REQUIRE(r.errors.size() == 2);
  CHECK(has_error(r, "custom_validation_failed", "1", ""));
  CHECK(r.errors[0].details == "lo must not exceed hi");
  CHECK(has_error(r, "exception_during_validation", "2", "file"));
  CHECK(r.errors[1].details.find("models folder missing") != std::string::npos);
}

TEST_CASE("validate: literal coercion follows ComfyUI's int()/float()/str()", "[cpu][graph]") {
  auto spec = [](const char* type) {
    InputSpec sp;
    sp.name = "v";
    sp.type = type;
    return sp;
  };
  InputSpec i = spec(kInt), f = spec(kFloat), s = spec(kString), b = spec(kBoolean);
  auto J = [](const char* t) { return nlohmann::json::parse(t); };
  CHECK(coerce_literal(i, J("8.0"), nullptr)->as_int() == 8);
  CHECK(coerce_literal(i, J("8.7"), nullptr)->as_int() == 8);     // Python int() truncates
  CHECK(coerce_literal(i, J("-8.7"), nullptr)->as_int() == -8);
  CHECK(coerce_literal(i, J("\" 12 \""), nullptr)->as_int() == 12);
  CHECK_FALSE(coerce_literal(i, J("\"12.5\""), nullptr));         // int("12.5") fails
  CHECK(coerce_literal(i, J("18446744073709551615"), nullptr)->as_uint64() == 0xffffffffffffffffull);
  CHECK(coerce_literal(f, J("3"), nullptr)->as_float() == 3.0);
  CHECK(coerce_literal(f, J("\"1e3\""), nullptr)->as_float() == 1000.0);
  CHECK_FALSE(coerce_literal(f, J("\"abc\""), nullptr));
  CHECK(coerce_literal(s, J("5"), nullptr)->as_string() == "5");
  CHECK(coerce_literal(s, J("true"), nullptr)->as_string() == "True");
  CHECK(coerce_literal(b, J("\"false\""), nullptr)->as_bool() == false);
  CHECK(coerce_literal(b, J("1"), nullptr)->as_bool() == true);
  CHECK_FALSE(coerce_literal(i, J("null"), nullptr));

  CHECK(types_match("IMAGE", "IMAGE"));
  CHECK(types_match("MASK", "IMAGE,MASK"));
  CHECK(types_match("LATENT", "*"));
  CHECK_FALSE(types_match("LATENT", "IMAGE"));

  // INT inputs given as floats with integral value, FLOAT given as int: valid.
  auto r = validate(graph_of(R"({
    "1": {"class_type": "TestLatent", "inputs": {"width": 512.0, "scale": 2, "mode": "fast", "text": 3}},
    "2": {"class_type": "TestSink", "inputs": {"value": ["1", 0]}}})"),
                    test_registry());
  INFO(r.to_string());
  CHECK(r.ok());
}
