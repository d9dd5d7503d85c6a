// Executor: only ancestors of outputs run, in dependency order; the signature cache re-runs only what is
// downstream of a change; events, cancellation and errors name the node.
#include <catch2/catch.hpp>

#include <atomic>

#include "engine/graph/executor.h"
#include "tests/graph/test_nodes.h"

using namespace vkf::graph;
using namespace vkf::test;

namespace {

// Const 1, 2 -> Add 3 -> Noise 4 (seed) -> NoiseValue 5 -> Sink 6; Sink 7 shows 3; 8 feeds nothing.
const char* kSeedGraph = R"({
  "1": {"class_type": "TestConst", "inputs": {"value": 2}},
  "2": {"class_type": "TestConst", "inputs": {"value": 3}},
  "3": {"class_type": "TestAdd", "inputs": {"a": ["1", 0], "b": ["2", 0]}},
  "4": {"class_type": "TestNoise", "inputs": {"seed": 42, "base": ["3", 0]}},
  "5": {"class_type": "TestNoiseValue", "inputs": {"noise": ["4", 0]}},
  "6": {"class_type": "TestSink", "inputs": {"value": ["5", 0]}},
  "7": {"class_type": "TestSink", "inputs": {"value": ["3", 0]}},
  "8": {"class_type": "TestConst", "inputs": {"value": 100}}})";

using Ids = std::vector<std::string>;

RunResult run(Executor& ex, const Graph& g, RunEnv env = {}) {
  reset_counts();
  return ex.run(g, env);
}

}  // namespace

TEST_CASE("executor: only output nodes and their ancestors run, dependencies first", "[cpu][graph]") {
  Executor ex({}, test_registry());
  auto r = run(ex, graph_of(kSeedGraph));
  REQUIRE(r.ok());
  CHECK(exec_order() == Ids{"1", "2", "3", "4", "5", "6", "7"});  // 8 feeds no output
  CHECK(r.executed == exec_order());
  CHECK(count_of("TestConst") == 2);
  CHECK(r.ui["6"]["text"][0] == 42 + 5);  // seed % 1000 + (2 + 3)
  CHECK(r.ui["7"]["text"][0] == 5);
}

TEST_CASE("executor: the shared ComfyUI workflows run in dependency order", "[cpu][graph]") {
  Executor ex({}, test_registry());
  Graph g = Graph::load(std::string(VKFLOW_SHARED_DIR) + "/comfy_workflows/basic_api_example.json");
  auto r = run(ex, g);
  REQUIRE(r.ok());
  CHECK(exec_order() == Ids{"4", "5", "6", "7", "3", "8", "9"});

  Graph s = Graph::load(std::string(VKFLOW_SHARED_DIR) + "/comfy_workflows/default_graph_sdxl_refiner.json");
  auto rs = run(ex, s);
  REQUIRE(rs.ok());
  REQUIRE(exec_order().size() == 11);
  auto pos = [&](const std::string& id) { return std::find(exec_order().begin(), exec_order().end(), id) - exec_order().begin(); };
  for (auto& n : s.nodes())  // every link goes from an earlier to a later node
    for (auto& [name, v] : n.inputs().items())
      if (v.is_array()) CHECK(pos(v[0].get<std::string>()) < pos(n.id));
}

TEST_CASE("executor: changing only the seed re-executes only what is downstream", "[cpu][graph]") {
  Executor ex({}, test_registry());
  Graph g = graph_of(kSeedGraph);
  REQUIRE(run(ex, g).ok());

  auto again = run(ex, g);  // nothing changed: both sinks come from the cache
  CHECK(again.executed.empty());
  CHECK(again.cached == Ids{"6", "7"});
  CHECK(again.ui["6"]["text"][0] == 47);  // UI results are replayed

  g.set_input("4", "seed", 43);
  auto r = run(ex, g);
  REQUIRE(r.ok());
  CHECK(r.executed == Ids{"4", "5", "6"});
  CHECK(r.cached == Ids{"3", "7"});
  CHECK(r.ui["6"]["text"][0] == 48);
}

TEST_CASE("executor: execution_cached lists every cached node, also those behind a served one", "[cpu][graph]") {
  Executor ex({}, test_registry());
  Graph g = graph_of(kSeedGraph);
  Ids cached;
  RunEnv env;
  env.on_event = [&](const Event& e) {
    if (e.type == EventType::ExecutionCached) cached = e.nodes;
  };
  REQUIRE(run(ex, g, env).ok());
  CHECK(cached.empty());
  REQUIRE(run(ex, g, env).ok());  // the sinks are served; 1..5 are in the cache behind them
  CHECK(cached == Ids{"1", "2", "3", "4", "5", "6", "7"});  // 8 feeds no output: not part of the run
  g.set_input("4", "seed", 43);
  auto r = run(ex, g, env);
  REQUIRE(r.ok());
  CHECK(r.cached == Ids{"3", "7"});              // served
  CHECK(cached == Ids{"1", "2", "3", "7"});      // 1 and 2 are cached behind 3; 4..6 run
}

TEST_CASE("executor: a disabled cache re-runs everything", "[cpu][graph]") {
  CacheOptions off;
  off.enabled = false;
  Executor ex(off, test_registry());
  Graph g = graph_of(kSeedGraph);
  CHECK(run(ex, g).executed.size() == 7);
  CHECK(run(ex, g).executed.size() == 7);
  CHECK(ex.cache().size() == 0);
}

TEST_CASE("executor: the cache is bounded (LRU by entries and bytes)", "[cpu][graph]") {
  CacheOptions two;
  two.max_entries = 2;
  Executor ex(two, test_registry());
  Graph g = graph_of(kSeedGraph);
  REQUIRE(run(ex, g).ok());
  CHECK(ex.cache().size() == 2);  // the sinks, stored last
  g.set_input("4", "seed", 7);
  auto r = run(ex, g);  // 3 was evicted, so the seed's chain is rebuilt from the constants
  CHECK(r.executed == Ids{"1", "2", "3", "4", "5", "6"});
  CHECK(r.cached == Ids{"7"});

  OutputCache c(CacheOptions{true, 10, 2500});
  auto big = [] { return CacheEntry{{Value::object("NOISE", std::make_shared<int>(1), 1000)}, nlohmann::json::object(), 0}; };
  c.put("a", big());
  c.put("b", big());
  CHECK(c.find("a"));  // a is now the most recent
  c.put("c", big());   // over 2500 bytes: b, the least recently used, goes
  CHECK(c.size() == 2);
  CHECK(c.find("a"));
  CHECK_FALSE(c.find("b"));
  CHECK(c.bytes() <= 2500);
  OutputCache tiny(CacheOptions{true, 10, 500});
  tiny.put("x", big());  // larger than the whole cache: not kept
  CHECK(tiny.size() == 0);
}

TEST_CASE("executor: not-cacheable and is_changed nodes", "[cpu][graph]") {
  Executor ex({}, test_registry());
  Graph g = graph_of(R"({
    "1": {"class_type": "TestConst", "inputs": {"value": 1}},
    "2": {"class_type": "TestVolatile", "inputs": {"value": ["1", 0]}},
    "3": {"class_type": "TestAdd", "inputs": {"a": ["2", 0], "b": ["1", 0]}},
    "4": {"class_type": "TestSink", "inputs": {"value": ["3", 0]}},
    "5": {"class_type": "TestChanged", "inputs": {"file": "a.png"}},
    "6": {"class_type": "TestSink", "inputs": {"value": ["5", 0]}}})");
  changed_token() = "mtime1";
  CHECK(run(ex, g).executed.size() == 6);
  CHECK(run(ex, g).executed == Ids{"2", "3", "4"});  // the volatile node and its consumers
  changed_token() = "mtime2";
  CHECK(run(ex, g).executed == Ids{"2", "3", "4", "5", "6"});
}

TEST_CASE("executor: events follow ComfyUI's sequence", "[cpu][graph]") {
  Executor ex({}, test_registry());
  Graph g = graph_of(R"({
    "1": {"class_type": "TestConst", "inputs": {"value": 4}},
    "2": {"class_type": "TestSteps", "inputs": {"value": ["1", 0], "steps": 3}},
    "3": {"class_type": "TestSink", "inputs": {"value": ["2", 0]}}})");
  std::vector<std::string> ev;
  RunEnv env;
  env.on_event = [&](const Event& e) {
    std::string s = event_name(e.type);
    if (!e.node.empty()) s += ":" + e.node;
    if (e.type == EventType::Progress) s += ":" + std::to_string(e.value) + "/" + std::to_string(e.max);
    if (e.type == EventType::Executing) s += ":" + std::to_string(e.index) + "/" + std::to_string(e.total);
    if (e.type == EventType::ExecutionCached) s += ":" + std::to_string(e.nodes.size());
    ev.push_back(s);
  };
  REQUIRE(run(ex, g, env).ok());
  CHECK(ev == Ids{"execution_start", "execution_cached:0", "executing:1:1/3", "executing:2:2/3", "progress:2:1/3",
                  "progress:2:2/3", "progress:2:3/3", "executing:3:3/3", "executed:3", "execution_success"});
  ev.clear();
  REQUIRE(run(ex, g, env).ok());
  // every node is cached, not only the sink served from the cache (ComfyUI lists them all)
  CHECK(ev == Ids{"execution_start", "execution_cached:3", "executed:3", "execution_success"});

  Event e(EventType::Progress);
  e.node = "2", e.value = 1, e.max = 3;
  CHECK(to_json(e) == nlohmann::json::parse(R"({"type": "progress", "data": {"node": "2", "value": 1, "max": 3}})"));
}

TEST_CASE("executor: cancellation between nodes and inside a node", "[cpu][graph]") {
  Graph g = graph_of(R"({
    "1": {"class_type": "TestConst", "inputs": {"value": 4}},
    "2": {"class_type": "TestSteps", "inputs": {"value": ["1", 0], "steps": 10}},
    "3": {"class_type": "TestSink", "inputs": {"value": ["2", 0]}}})");
  std::atomic<bool> cancel{false};
  std::vector<std::string> ev;
  RunEnv env;
  env.cancel = &cancel;
  env.on_event = [&](const Event& e) {
    ev.push_back(event_name(e.type));
    if (e.type == EventType::Progress && e.value == 2) cancel = true;  // as if Ctrl-C during step 2
  };
  Executor ex({}, test_registry());
  auto r = run(ex, g, env);
  CHECK(r.status == RunStatus::Interrupted);
  CHECK(r.error_node == "2");
  CHECK(r.error_class == "TestSteps");
  CHECK(ev.back() == "execution_interrupted");
  CHECK(r.executed == Ids{"1"});
  CHECK(count_of("TestSink") == 0);

  cancel = true;  // already cancelled: nothing runs
  auto r2 = run(ex, g, env);
  CHECK(r2.status == RunStatus::Interrupted);
  CHECK(exec_order().empty());
}

TEST_CASE("executor: errors name node id and class, finished work stays", "[cpu][graph]") {
  Executor ex({}, test_registry());
  std::vector<Event> errors;
  RunEnv env;
  env.on_event = [&](const Event& e) {
    if (e.type == EventType::ExecutionError) errors.push_back(e);
  };
  auto r = run(ex, graph_of(R"({
    "1": {"class_type": "TestConst", "inputs": {"value": 4}},
    "3": {"class_type": "TestSink", "inputs": {"value": ["1", 0]}},
    "5": {"class_type": "TestFail", "inputs": {"value": ["1", 0]}},
    "6": {"class_type": "TestSink", "inputs": {"value": ["5", 0]}}})"),
               env);
  CHECK(r.status == RunStatus::Error);
  CHECK(r.error_node == "5");
  CHECK(r.error_class == "TestFail");
  CHECK(r.error_message == "boom");
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].node == "5");
  CHECK(errors[0].class_type == "TestFail");
  CHECK(errors[0].nodes == Ids{"1", "3"});
  CHECK(r.ui.count("3"));  // the sink that ran before the failure keeps its result

  // Fixing the failing node re-runs only it and its consumer: finished nodes are cached.
  auto fixed = run(ex, graph_of(R"({
    "1": {"class_type": "TestConst", "inputs": {"value": 4}},
    "3": {"class_type": "TestSink", "inputs": {"value": ["1", 0]}},
    "5": {"class_type": "TestAdd", "inputs": {"a": ["1", 0], "b": ["1", 0]}},
    "6": {"class_type": "TestSink", "inputs": {"value": ["5", 0]}}})"));
  CHECK(fixed.executed == Ids{"5", "6"});

  auto wrong = run(ex, graph_of(R"({
    "1": {"class_type": "TestLatent", "inputs": {"width": 64, "scale": 1, "mode": "fast", "text": ""}},
    "2": {"class_type": "TestWrongRead", "inputs": {"samples": ["1", 0]}},
    "3": {"class_type": "TestSink", "inputs": {"value": ["2", 0]}}})"));
  CHECK(wrong.status == RunStatus::Error);
  CHECK(wrong.error_message.find("node 2 (TestWrongRead) input 'samples'") == 0);

  auto bad = run(ex, graph_of(R"({
    "1": {"class_type": "TestBadOutputs", "inputs": {}},
    "2": {"class_type": "TestSink", "inputs": {"value": ["1", 0]}}})"));
  CHECK(bad.error_message == "returned 1 value(s) but declares 2 output(s)");

  auto invalid = run(ex, graph_of(R"({"1": {"class_type": "Nope", "inputs": {}}})"));
  CHECK(invalid.status == RunStatus::Invalid);
  CHECK(invalid.validation.errors.at(0).type == "missing_node_type");
}

TEST_CASE("executor: keep_outputs exposes every value, Value access is checked", "[cpu][graph]") {
  Executor ex({}, test_registry());
  ex.keep_outputs(true);
  auto r = run(ex, graph_of(kSeedGraph));
  REQUIRE(r.ok());
  CHECK(r.outputs.at("3").at(0).as_int() == 5);
  CHECK(r.outputs.at("4").at(0).type() == "NOISE");
  CHECK_THROWS_AS(r.outputs.at("4").at(0).get<int>(), ValueTypeError);
  CHECK_THROWS_AS(r.outputs.at("3").at(0).as_string(), ValueTypeError);
  CHECK(r.outputs.at("3").at(0).as_float() == 5.0);  // FLOAT from INT
  Value big(uint64_t(0xffffffffffffffffull));
  CHECK_THROWS_AS(big.as_int(), ValueTypeError);
  CHECK(big.as_uint64() == 0xffffffffffffffffull);
  CHECK(big.to_json() == nlohmann::json(0xffffffffffffffffull));
}
