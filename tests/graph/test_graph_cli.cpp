// The `run`, `validate` and `nodes` commands through the built binary: exit codes and messages.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "tests/support/cli_runner.h"
#include "tests/support/temp_dir.h"

namespace fs = std::filesystem;

namespace {

using vkf::test::CliResult;

fs::path temp_dir() { return vkf::test::process_temp_dir("graph_cli"); }

fs::path write(const std::string& name, const std::string& text) {
  fs::path p = temp_dir() / name;
  std::ofstream(p) << text;
  return p;
}

// Runs `vkflow ARGS` (a shell word list) with stdout/stderr captured (stdin closed, stderr not a terminal).
CliResult cli(const std::string& args) { return vkf::test::run_shell(std::string("'") + VKFLOW_BINARY + "' " + args); }

const char* kPrimitives = R"({
  "1": {"class_type": "PrimitiveInt", "inputs": {"value": 41}, "_meta": {"title": "Answer"}},
  "2": {"class_type": "PreviewAny", "inputs": {"source": ["1", 0]}},
  "3": {"class_type": "PrimitiveStringMultiline", "inputs": {"value": "hello"}},
  "4": {"class_type": "PreviewAny", "inputs": {"source": ["3", 0]}},
  "5": {"class_type": "PrimitiveFloat", "inputs": {"value": 2.5}},
  "6": {"class_type": "PrimitiveBoolean", "inputs": {"value": true}},
  "7": {"class_type": "PreviewAny", "inputs": {"source": ["6", 0]}}})";

}  // namespace

TEST_CASE("cli: validate accepts a valid primitive graph", "[cpu][graph]") {
  auto r = cli("validate '" + write("prim.json", kPrimitives).string() + "'");
  INFO(r.out << r.err);
  CHECK(r.code == 0);
  CHECK(r.out.find("valid") != std::string::npos);
}

TEST_CASE("cli: run executes a primitive graph and --set overrides inputs", "[cpu][graph]") {
  auto g = write("prim_run.json", kPrimitives).string();
  auto r = cli("run '" + g + "' --quiet");
  INFO(r.out << r.err);
  CHECK(r.code == 0);
  CHECK(r.out.find("#2: 41") != std::string::npos);
  CHECK(r.out.find("#4: hello") != std::string::npos);
  CHECK(r.out.find("#7: True") != std::string::npos);

  auto s = cli("run '" + g + "' --set 1.value=7 --set '3.value=two words' --no-cache");
  INFO(s.out << s.err);
  CHECK(s.code == 0);
  CHECK(s.out.find("#2: 7") != std::string::npos);
  CHECK(s.out.find("#4: two words") != std::string::npos);
  CHECK(s.err.find("[1/6] PrimitiveInt #1 ...") != std::string::npos);  // plain progress lines off a terminal

  auto bad_range = cli("run '" + g + "' --set 1.value=1e300");  // float beyond INT's range
  CHECK(bad_range.code == 2);
  auto no_node = cli("run '" + g + "' --set 42.value=1");
  CHECK(no_node.code == 2);
  CHECK(no_node.err.find("'42'") != std::string::npos);
  auto no_input = cli("run '" + g + "' --set 1.valu=1");
  CHECK(no_input.code == 2);
  CHECK(no_input.err.find("no input 'valu'") != std::string::npos);
}

TEST_CASE("cli: malformed JSON exits 2 naming line and column", "[cpu][graph]") {
  auto g = write("broken.json", "{\n  \"1\": {\"class_type\": \"PrimitiveInt\",\n  ]\n}\n");
  for (const char* cmd : {"run", "validate"}) {
    auto r = cli(std::string(cmd) + " '" + g.string() + "'");
    INFO(cmd << ": " << r.err);
    CHECK(r.code == 2);
    CHECK(r.err.find("line 3, column 3") != std::string::npos);
  }
}

TEST_CASE("cli: an unknown class exits 2 with its name, missing file and bad options too", "[cpu][graph]") {
  auto g = write("unknown.json", R"({"1": {"class_type": "FrobnicateLatent", "inputs": {}},
                                     "2": {"class_type": "PreviewAny", "inputs": {"source": ["1", 0]}}})");
  auto r = cli("run '" + g.string() + "'");
  CHECK(r.code == 2);
  CHECK(r.err.find("FrobnicateLatent") != std::string::npos);
  auto v = cli("validate '" + g.string() + "'");
  CHECK(v.code == 2);
  CHECK(v.out.find("missing_node_type") != std::string::npos);
  auto vj = cli("validate --json '" + g.string() + "'");
  CHECK(vj.code == 2);
  CHECK(nlohmann::json::parse(vj.out)["node_errors"]["1"]["class_type"] == "FrobnicateLatent");

  CHECK(cli("run '" + (temp_dir() / "absent.json").string() + "'").code == 2);
  CHECK(cli("run --frobnicate x.json").code == 2);
  CHECK(cli("run").code == 2);
  CHECK(cli("run x.json --device nope").code == 2);
}

TEST_CASE("cli: nodes --json is object_info and lists PrimitiveInt", "[cpu][graph]") {
  auto r = cli("nodes --json");
  REQUIRE(r.code == 0);
  auto j = nlohmann::json::parse(r.out);
  REQUIRE(j.contains("PrimitiveInt"));
  CHECK(j["PrimitiveInt"]["output"][0] == "INT");
  CHECK(j.contains("PreviewAny"));
  auto h = cli("nodes");
  CHECK(h.code == 0);
  CHECK(h.out.find("utils/primitive") != std::string::npos);
  CHECK(h.out.find("PrimitiveBoolean") != std::string::npos);
  CHECK(cli("nodes NoSuchClass").code == 2);
}

TEST_CASE("cli: --help on each graph command", "[cpu][graph]") {
  for (const char* cmd : {"run", "validate", "nodes"}) {
    auto r = cli(std::string(cmd) + " --help");
    INFO(cmd);
    CHECK(r.code == 0);
    CHECK(r.out.find(std::string("usage: vkflow ") + cmd) != std::string::npos);
  }
  auto top = cli("--help");
  CHECK(top.code == 0);
  CHECK(top.out.find("validate") != std::string::npos);
}
