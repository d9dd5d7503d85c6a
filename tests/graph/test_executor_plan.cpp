// Executor::plan (which nodes a run would execute and which come from the cache, without running or
// reordering the cache) and RunResult::stats (per-node time, output bytes, output types and summaries).
#include <catch2/catch.hpp>

#include <algorithm>

#include "engine/graph/executor.h"
#include "tests/graph/test_nodes.h"

using namespace vkf::graph;
using namespace vkf::test;

namespace {

// Const 1, 2 -> Add 3 -> Noise 4 (seed) -> NoiseValue 5 -> Sink 6; Sink 7 shows 3.
const char* kGraph = R"({
  "1": {"class_type": "TestConst", "inputs": {"value": 2}},
  "2": {"class_type": "TestConst", "inputs": {"value": 3}},
  "3": {"class_type": "TestAdd", "inputs": {"a": ["1", 0], "b": ["2", 0]}},
  "4": {"class_type": "TestNoise", "inputs": {"seed": 42, "base": ["3", 0]}},
  "5": {"class_type": "TestNoiseValue", "inputs": {"noise": ["4", 0]}},
  "6": {"class_type": "TestSink", "inputs": {"value": ["5", 0]}},
  "7": {"class_type": "TestSink", "inputs": {"value": ["3", 0]}}})";

using Ids = std::vector<std::string>;

}  // namespace

TEST_CASE("executor plan: says what would run and what comes from the cache, and agrees with run()", "[cpu][graph]") {
  Executor ex({}, test_registry());
  Graph g = graph_of(kGraph);
  RunEnv env;
  auto p0 = ex.plan(g, env);
  REQUIRE(p0.ok());
  CHECK(p0.to_run == Ids{"1", "2", "3", "4", "5", "6", "7"});  // empty cache: everything, in order
  CHECK(p0.cached.empty());
  reset_counts();
  auto p_again = ex.plan(g, env);
  CHECK(exec_order().empty());  // planning executes nothing
  CHECK(ex.cache().size() == 0);
  CHECK(p_again.to_run == p0.to_run);

  REQUIRE(ex.run(g, env).ok());
  auto p1 = ex.plan(g, env);
  CHECK(p1.to_run.empty());
  CHECK(p1.cached == Ids{"6", "7"});

  g.set_input("4", "seed", 43);
  auto p2 = ex.plan(g, env);
  CHECK(p2.to_run == Ids{"4", "5", "6"});
  CHECK(p2.cached == Ids{"3", "7"});
  reset_counts();
  auto r = ex.run(g, env);  // the plan is what run() then does
  REQUIRE(r.ok());
  CHECK(r.executed == p2.to_run);
  CHECK(r.cached == p2.cached);
}

TEST_CASE("executor plan: leaves the cache's LRU order alone, not-cacheable nodes always run", "[cpu][graph]") {
  CacheOptions two;
  two.max_entries = 2;
  Executor ex(two, test_registry());
  Graph g = graph_of(R"({
    "1": {"class_type": "TestConst", "inputs": {"value": 1}},
    "2": {"class_type": "TestSink", "inputs": {"value": ["1", 0]}},
    "3": {"class_type": "TestConst", "inputs": {"value": 2}},
    "4": {"class_type": "TestSink", "inputs": {"value": ["3", 0]}}})");
  RunEnv env;
  REQUIRE(ex.run(g, env).ok());  // cache holds the last two stored: 3 and 4 (4 most recent)
  Graph only2 = graph_of(R"({"1": {"class_type": "TestConst", "inputs": {"value": 1}},
                             "2": {"class_type": "TestSink", "inputs": {"value": ["1", 0]}}})");
  CHECK(ex.plan(only2, env).to_run == Ids{"1", "2"});  // evicted
  // plan() reads the cache with peek(): a peeked entry stays the least recently used and goes first.
  OutputCache c(CacheOptions{true, 2, 0});
  auto entry = [] { return CacheEntry{{Value(int64_t(1))}, nlohmann::json::object(), 0}; };
  c.put("a", entry());
  c.put("b", entry());
  CHECK(c.peek("a"));
  CHECK_FALSE(c.peek("z"));
  c.put("c", entry());
  CHECK_FALSE(c.peek("a"));
  CHECK(c.peek("b"));
  CHECK(c.peek("c"));

  Graph vol = graph_of(R"({
    "1": {"class_type": "TestConst", "inputs": {"value": 1}},
    "2": {"class_type": "TestVolatile", "inputs": {"value": ["1", 0]}},
    "3": {"class_type": "TestSink", "inputs": {"value": ["2", 0]}}})");
  Executor ev({}, test_registry());
  REQUIRE(ev.run(vol, env).ok());
  auto p = ev.plan(vol, env);
  CHECK(p.to_run == Ids{"2", "3"});  // the volatile node and its consumer; the constant is cached
  CHECK(p.cached == Ids{"1"});
}

TEST_CASE("executor plan: an invalid graph plans nothing and says why", "[cpu][graph]") {
  Executor ex({}, test_registry());
  RunEnv env;
  auto p = ex.plan(graph_of(R"({"1": {"class_type": "TestSink", "inputs": {"value": ["9", 0]}}})"), env);
  CHECK_FALSE(p.ok());
  CHECK_FALSE(p.validation.errors.empty());
  CHECK(p.to_run.empty());
}

TEST_CASE("executor stats: per-node output bytes, types and summaries, cached nodes marked", "[cpu][graph]") {
  Executor ex({}, test_registry());
  Graph g = graph_of(kGraph);
  RunEnv env;
  auto r = ex.run(g, env);
  REQUIRE(r.ok());
  REQUIRE(r.stats.size() == 7);
  for (auto& id : r.executed) {
    CHECK_FALSE(r.stats[id].cached);
    CHECK(r.stats[id].ms >= 0);
  }
  const NodeStats& noise = r.stats["4"];
  CHECK(noise.bytes == 1000);  // what the node reported for its object
  CHECK(noise.output_types == Ids{"NOISE"});
  CHECK(noise.output_summaries == Ids{"noise seed 42"});
  CHECK(r.stats["3"].output_types == Ids{"INT"});
  CHECK(r.stats["3"].bytes == Value(int64_t(5)).bytes());
  CHECK(r.stats["3"].output_summaries == Ids{""});  // literals carry none
  CHECK(r.stats["6"].output_types.empty());         // a sink has no outputs
  CHECK(r.stats["6"].bytes == 0);

  g.set_input("4", "seed", 7);
  auto r2 = ex.run(g, env);
  REQUIRE(r2.ok());
  REQUIRE(r2.stats.count("3"));
  CHECK(r2.stats["3"].cached);  // served from the cache: marked, no time, its outputs still described
  CHECK(r2.stats["3"].ms == 0);
  CHECK(r2.stats["3"].output_types == Ids{"INT"});
  CHECK(r2.stats["4"].output_summaries == Ids{"noise seed 7"});
  // Above the served node 3: not needed by this run, but its value is in the cache, so it is reported
  // (a viewer inspects every link after any run) and kept with keep_outputs.
  REQUIRE(r2.stats.count("1"));
  CHECK(r2.stats["1"].cached);
  CHECK(r2.stats["1"].ms == 0);
  CHECK(std::find(r2.cached.begin(), r2.cached.end(), "1") == r2.cached.end());  // served: only node 3
  ex.keep_outputs(true);
  auto r3 = ex.run(g, env);
  REQUIRE(r3.ok());
  for (auto& [id, st] : r3.stats) CHECK(r3.outputs.count(id) == 1);
  CHECK(r3.outputs.count("1") == 1);
}
