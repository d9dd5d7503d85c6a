// The execution queue: prompts run in order on a worker thread through one executor (so the output cache
// persists), events arrive tagged with their prompt, `front` goes first, pending prompts can be deleted,
// interrupt stops the running prompt within a step and does not touch the next one.
#include <catch2/catch.hpp>

#include <mutex>

#include "engine/graph/exec_queue.h"
#include "tests/graph/test_nodes.h"

using namespace vkf::graph;
using namespace vkf::test;
using namespace std::chrono_literals;

namespace {

Graph chain(int value) {
  return graph_of(R"({"1": {"class_type": "TestConst", "inputs": {"value": )" + std::to_string(value) +
                  R"(}}, "2": {"class_type": "TestSteps", "inputs": {"value": ["1", 0], "steps": 3}},
                     "3": {"class_type": "TestSink", "inputs": {"value": ["2", 0]}}})");
}
Graph waiting(int value) {
  return graph_of(R"({"1": {"class_type": "TestConst", "inputs": {"value": )" + std::to_string(value) +
                  R"(}}, "2": {"class_type": "TestWait", "inputs": {"value": ["1", 0]}},
                     "3": {"class_type": "TestSink", "inputs": {"value": ["2", 0]}}})");
}

// What the callbacks saw, guarded: they run on the worker thread.
struct Log {
  std::mutex mu;
  std::vector<std::pair<std::string, std::string>> events;  // (prompt id, event name)
  std::vector<std::pair<std::string, RunStatus>> done;
  std::vector<int64_t> sink_values;
  void attach(ExecQueue& q) {
    q.on_event([this](const QueueItem& it, const Event& e) {
      std::lock_guard lk(mu);
      events.emplace_back(it.id, event_name(e.type));
    });
    q.on_done([this](const QueueItem& it, const RunResult& r) {
      std::lock_guard lk(mu);
      done.emplace_back(it.id, r.status);
      if (r.ui.count("3")) sink_values.push_back(r.ui.at("3")["text"][0].get<int64_t>());
    });
  }
  bool saw(const std::string& id, const std::string& name) {
    std::lock_guard lk(mu);
    for (auto& [i, n] : events)
      if (i == id && n == name) return true;
    return false;
  }
};

}  // namespace

TEST_CASE("exec queue: prompts run in order on the worker, events carry their prompt id", "[cpu][graph][queue]") {
  reset_counts();
  ExecQueue q({}, {}, test_registry());
  Log log;
  log.attach(q);
  QueueItem a = q.enqueue({"", 0, chain(1)});
  QueueItem b = q.enqueue({"mine", 0, chain(2)});
  CHECK(a.id.size() == 36);  // uuid-shaped
  CHECK(b.id == "mine");
  CHECK(b.number == a.number + 1);
  REQUIRE(q.wait_idle(20s));
  CHECK(q.remaining() == 0);
  std::lock_guard lk(log.mu);
  REQUIRE(log.done.size() == 2);
  CHECK(log.done[0] == std::make_pair(a.id, RunStatus::Success));
  CHECK(log.done[1] == std::make_pair(std::string("mine"), RunStatus::Success));
  CHECK(log.sink_values == std::vector<int64_t>{1, 2});
  int progress_b = 0;
  for (auto& [id, name] : log.events) progress_b += id == "mine" && name == "progress";
  CHECK(progress_b == 3);
}

TEST_CASE("exec queue: the output cache persists between prompts", "[cpu][graph][queue]") {
  reset_counts();
  ExecQueue q({}, {}, test_registry());
  q.enqueue({"", 0, chain(5)});
  q.enqueue({"", 0, chain(5)});
  REQUIRE(q.wait_idle(20s));
  CHECK(count_of("TestSteps") == 1);  // the second prompt was served from the cache
  q.with_executor([](Executor& ex) { ex.cache().clear(); });
  q.enqueue({"", 0, chain(5)});
  REQUIRE(q.wait_idle(20s));
  CHECK(count_of("TestSteps") == 2);
}

TEST_CASE("exec queue: interrupt stops the running prompt, front, delete and clear act on pending ones",
          "[cpu][graph][queue]") {
  reset_counts();
  ExecQueue q({}, {}, test_registry());
  Log log;
  log.attach(q);
  QueueItem w = q.enqueue({"wait", 0, waiting(1)});
  // Wait until the long node is running, so what follows is queued behind it.
  for (int i = 0; i < 2000 && !log.saw("wait", "progress"); ++i) std::this_thread::sleep_for(5ms);
  REQUIRE(log.saw("wait", "progress"));
  q.enqueue({"back", 0, chain(2)});
  q.enqueue({"gone", 0, chain(3)});
  QueueItem f = q.enqueue({"front", 0, chain(4)}, true);
  CHECK(f.number < 0);
  CHECK(q.remaining() == 4);
  CHECK(q.running()->id == "wait");
  auto p = q.pending();
  REQUIRE(p.size() == 3);
  CHECK(p[0].id == "front");
  CHECK(q.remove("gone"));
  CHECK_FALSE(q.remove("gone"));
  CHECK_FALSE(q.interrupt("front"));  // not the running prompt
  const auto t0 = std::chrono::steady_clock::now();
  CHECK(q.interrupt());
  REQUIRE(q.wait_idle(20s));
  CHECK(std::chrono::steady_clock::now() - t0 < 15s);  // well before the node's own 20 s end
  std::lock_guard lk(log.mu);
  REQUIRE(log.done.size() == 3);
  CHECK(log.done[0] == std::make_pair(std::string("wait"), RunStatus::Interrupted));
  CHECK(log.done[1] == std::make_pair(std::string("front"), RunStatus::Success));  // the interrupt did not carry over
  CHECK(log.done[2] == std::make_pair(std::string("back"), RunStatus::Success));
  CHECK(log.sink_values == std::vector<int64_t>{4, 2});
  CHECK(w.number == 0);
}

TEST_CASE("exec queue: clear_pending drops waiting prompts, destruction interrupts the running one",
          "[cpu][graph][queue]") {
  reset_counts();
  Log log;
  {
    ExecQueue q({}, {}, test_registry());
    log.attach(q);
    q.enqueue({"wait", 0, waiting(1)});
    for (int i = 0; i < 2000 && !log.saw("wait", "progress"); ++i) std::this_thread::sleep_for(5ms);
    q.enqueue({"a", 0, chain(1)});
    q.enqueue({"b", 0, chain(2)});
    CHECK(q.clear_pending() == 2);
    CHECK(q.pending().empty());
  }  // the destructor interrupts "wait" and joins
  std::lock_guard lk(log.mu);
  REQUIRE(log.done.size() == 1);
  CHECK(log.done[0].second == RunStatus::Interrupted);
}
