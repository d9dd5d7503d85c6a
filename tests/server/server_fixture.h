// The in-process `vkflow serve` the [server] tests drive: an App over temp folders with the cheap test
// nodes (tests/graph/test_nodes.cpp) on the engine's ExecQueue, a sink recording the WebSocket messages,
// and request/polling helpers.
#pragma once
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine/graph/exec_queue.h"
#include "server/app.h"
#include "tests/graph/test_nodes.h"

namespace vkf::test::srv {
namespace fs = std::filesystem;
using nlohmann::json;
using namespace vkf::server;

struct Recorder : MessageSink {
  std::mutex mu;
  std::vector<std::pair<std::string, std::string>> text;  // sid, message
  std::vector<std::string> binary;
  void send(const std::string& sid, std::string data, bool bin) override {
    std::lock_guard lk(mu);
    if (bin) binary.push_back(std::move(data));
    else text.emplace_back(sid, std::move(data));
  }
  std::vector<std::string> types() {
    std::lock_guard lk(mu);
    std::vector<std::string> t;
    for (auto& [s, m] : text) t.push_back(json::parse(m)["type"]);
    return t;
  }
};

struct Dirs {
  fs::path root;
  Dirs() {
    root = fs::temp_directory_path() / ("vkflow-server-test-" + std::to_string(::getpid()) + "-" +
                                        std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
    fs::create_directories(root / "output");
    fs::create_directories(root / "input");
  }
  ~Dirs() {
    std::error_code ec;
    fs::remove_all(root, ec);
  }
  AppOptions options() const {
    AppOptions o;
    o.data_dir = root / "data";
    o.paths.output_dir = root / "output";
    o.paths.input_dir = root / "input";
    o.paths.temp_dir = root / "temp";
    o.paths.models_dir = root / "models";
    o.registry = &test::test_registry();
    return o;
  }
};

inline Request req(std::string method, std::string target, std::string body = "") {
  Request r;
  r.method = std::move(method);
  r.target = std::move(target);
  r.body = std::move(body);
  return r;
}

inline json body(const Response& r) { return json::parse(r.body); }

inline const char* kWaitGraph = R"({"1": {"class_type": "TestConst", "inputs": {"value": 3}},
  "2": {"class_type": "TestWait", "inputs": {"value": ["1", 0]}},
  "3": {"class_type": "TestSink", "inputs": {"value": ["2", 0]}}})";
inline const char* kQuickGraph = R"({"1": {"class_type": "TestConst", "inputs": {"value": 4}},
  "2": {"class_type": "TestSteps", "inputs": {"value": ["1", 0], "steps": 3}},
  "3": {"class_type": "TestSink", "inputs": {"value": ["2", 0]}}})";

inline std::string prompt_body(const char* graph, const std::string& client = "c1") {
  return json{{"prompt", json::parse(graph)}, {"client_id", client}}.dump();
}

// Polls `f` every 10 ms for at most `ms`.
template <class F>
bool eventually(F f, int ms = 10000) {
  for (int i = 0; i < ms / 10; ++i) {
    if (f()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return f();
}

struct Server {
  Dirs dirs;
  Recorder sink;
  App app;
  graph::ExecQueue queue{graph::RunEnv{}, {}, test::test_registry()};
  // `adjust` changes the options (limits) before the App opens its store.
  explicit Server(const std::function<void(AppOptions&)>& adjust = {}) : app(options(adjust), sink) { app.attach(&queue); }
  AppOptions options(const std::function<void(AppOptions&)>& adjust) const {
    AppOptions o = dirs.options();
    if (adjust) adjust(o);
    return o;
  }
  // The reply counts as written once the test has it (as the listener does after its write).
  Response operator()(Request r) {
    Response out = app.handle(r);
    out.on_sent.reset();
    return out;
  }
};


}  // namespace vkf::test::srv
