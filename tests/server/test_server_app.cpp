// vkflow serve's routes and run messages, driven in-process through App::handle with the cheap test nodes
// (tests/graph/test_nodes.cpp) on the engine's ExecQueue, and over a real socket for the HTTP framing.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "engine/graph/exec_queue.h"
#include "engine/io/png.h"
#include "engine/vk/context.h"
#include "server/app.h"
#include "server/listener.h"
#include "tests/graph/test_nodes.h"
#include "tests/server/net_util.h"
#include "tests/server/server_fixture.h"

namespace fs = std::filesystem;
using nlohmann::json;
using namespace vkf;
using namespace vkf::server;
using namespace vkf::test::srv;


TEST_CASE("serve: /prompt queues a valid graph and refuses a bad one in ComfyUI's shape", "[server][cpu]") {
  Server s;
  auto ok = s(req("POST", "/prompt", prompt_body(kQuickGraph)));
  REQUIRE(ok.status == 200);
  auto j = body(ok);
  REQUIRE(j["prompt_id"].is_string());
  REQUIRE(j["number"].is_number_integer());
  REQUIRE(j["node_errors"].empty());
  const std::string id = j["prompt_id"];

  auto bad = s(req("POST", "/prompt", prompt_body(R"({"1": {"class_type": "TestSteps", "inputs": {"value": 1, "steps": 0}},
    "2": {"class_type": "TestSink", "inputs": {"value": ["1", 0]}}})")));
  REQUIRE(bad.status == 400);
  auto e = body(bad);
  REQUIRE(e["error"]["type"] == "prompt_outputs_failed_validation");
  REQUIRE(e["node_errors"]["1"]["errors"][0]["type"] == "value_smaller_than_min");
  REQUIRE(e["node_errors"]["1"]["class_type"] == "TestSteps");
  REQUIRE(s(req("POST", "/prompt", "{not json")).status == 400);
  REQUIRE(body(s(req("POST", "/prompt", "{}")))["error"]["type"] == "no_prompt");

  REQUIRE(eventually([&] { return !body(s(req("GET", "/history/" + id))).empty(); }));
  auto h = body(s(req("GET", "/history/" + id)))[id];
  REQUIRE(h["status"]["status_str"] == "success");
  REQUIRE(h["outputs"]["3"]["text"][0] == 4);
  REQUIRE(h["prompt"][1] == id);
  REQUIRE(body(s(req("GET", "/history?max_items=1"))).size() == 1);

  // The messages of the run, in ComfyUI's order, to the client that queued it.
  auto t = s.sink.types();
  auto at = [&](const std::string& name) { return std::find(t.begin(), t.end(), name) - t.begin(); };
  REQUIRE(at("execution_start") < at("executing"));
  REQUIRE(at("executing") < at("progress"));
  REQUIRE(at("progress") < at("executed"));
  REQUIRE(at("executed") < at("execution_success"));
  REQUIRE(at("execution_success") < long(t.size()));
  json last_executing;
  {
    std::lock_guard lk(s.sink.mu);
    for (auto& [sid, m] : s.sink.text) {
      auto msg = json::parse(m);
      if (msg["type"] == "progress") {
        REQUIRE(sid == "c1");
        REQUIRE(msg["data"]["prompt_id"] == id);
        REQUIRE(msg["data"]["max"] == 3);
      }
      if (msg["type"] == "executing") last_executing = msg;
    }
  }
  REQUIRE(last_executing["data"]["node"].is_null());

  REQUIRE(s(req("POST", "/history", R"({"delete": [")" + id + R"("]})")).status == 200);
  REQUIRE(body(s(req("GET", "/history/" + id))).empty());
}

TEST_CASE("serve: /queue lists, deletes and clears, /interrupt stops the running prompt", "[server][cpu]") {
  Server s;
  const std::string a = body(s(req("POST", "/prompt", prompt_body(kWaitGraph))))["prompt_id"];
  const std::string b = body(s(req("POST", "/prompt", prompt_body(kWaitGraph))))["prompt_id"];
  const std::string c = body(s(req("POST", "/prompt", prompt_body(kWaitGraph))))["prompt_id"];
  REQUIRE(eventually([&] { return body(s(req("GET", "/queue")))["queue_running"].size() == 1; }));
  auto q = body(s(req("GET", "/queue")));
  REQUIRE(q["queue_running"][0][1] == a);
  REQUIRE(q["queue_pending"].size() == 2);
  REQUIRE(body(s(req("GET", "/prompt")))["exec_info"]["queue_remaining"] == 3);

  REQUIRE(s(req("POST", "/queue", R"({"delete": [")" + b + R"("]})")).status == 200);
  q = body(s(req("GET", "/queue")));
  REQUIRE(q["queue_pending"].size() == 1);
  REQUIRE(q["queue_pending"][0][1] == c);
  REQUIRE(s(req("POST", "/queue", R"({"clear": true})")).status == 200);
  REQUIRE(body(s(req("GET", "/queue")))["queue_pending"].empty());

  REQUIRE(s(req("POST", "/interrupt")).status == 200);
  REQUIRE(eventually([&] { return !body(s(req("GET", "/history/" + a))).empty(); }));
  REQUIRE(body(s(req("GET", "/history/" + a)))[a]["status"]["status_str"] == "error");
  auto t = s.sink.types();
  REQUIRE(std::find(t.begin(), t.end(), "execution_interrupted") != t.end());
  REQUIRE(s.queue.wait_idle(std::chrono::seconds(10)));
  REQUIRE(body(s(req("GET", "/history/" + b))).empty());  // deleted before it ran
}

TEST_CASE("serve: /view serves files in its folders and refuses names that leave them", "[server][cpu]") {
  Server s;
  const fs::path out = s.dirs.root / "output";
  { std::ofstream(out / "a.png") << "PNGDATA"; }
  fs::create_directories(out / "sub");
  { std::ofstream(out / "sub" / "b.png") << "B"; }
  { std::ofstream(s.dirs.root / "secret.txt") << "secret"; }
  fs::create_symlink(s.dirs.root / "secret.txt", out / "link.png");
  fs::create_directory_symlink(s.dirs.root, out / "up");

  auto r = s(req("GET", "/view?filename=a.png&type=output"));
  REQUIRE(r.status == 200);
  REQUIRE(r.body == "PNGDATA");
  REQUIRE(r.content_type == "image/png");
  REQUIRE(s(req("GET", "/view?filename=b.png&subfolder=sub")).body == "B");
  REQUIRE(s(req("GET", "/view?filename=missing.png")).status == 404);
  for (const char* t : {"/view?filename=../secret.txt", "/view?filename=secret.txt&subfolder=..",
                        "/view?filename=%2e%2e%2fsecret.txt", "/view?filename=%252e%252e%252fsecret.txt",
                        "/view?filename=" "%2Fetc%2Fpasswd", "/view?filename=passwd&subfolder=%2Fetc",
                        "/view?filename=a.png%00.txt", "/view?filename=link.png", "/view?filename=secret.txt&subfolder=up",
                        "/view?filename=a.png&type=models", "/view?filename=..%5Csecret.txt", "/view?filename=%zz"}) {
    INFO(t);
    auto v = s(req("GET", t));
    REQUIRE(v.status >= 400);
    REQUIRE(v.status < 500);
    REQUIRE(v.body.find("secret") == std::string::npos);
  }
}

TEST_CASE("serve: /upload/image writes multipart uploads inside the input folder only", "[server][cpu]") {
  Server s;
  // A real 2x2 PNG (the route checks that it decodes).
  const auto bytes = io::encode_png(std::vector<uint8_t>(12, 200), 2, 2, 3, {});
  const std::string png(bytes.begin(), bytes.end());
  auto upload = [&](const std::string& filename, const std::string& extra, const std::string& data) {
    std::string b = "--XyZ\r\nContent-Disposition: form-data; name=\"image\"; filename=\"" + filename +
                    "\"\r\nContent-Type: image/png\r\n\r\n" + data + "\r\n" + extra + "--XyZ--\r\n";
    Request r = req("POST", "/upload/image", b);
    r.headers["content-type"] = "multipart/form-data; boundary=XyZ";
    return s(r);
  };
  auto field = [](const std::string& k, const std::string& v) {
    return "--XyZ\r\nContent-Disposition: form-data; name=\"" + k + "\"\r\n\r\n" + v + "\r\n";
  };
  auto r = upload("dot.png", "", png);
  REQUIRE(r.status == 200);
  REQUIRE(body(r)["name"] == "dot.png");
  REQUIRE(fs::file_size(s.dirs.root / "input" / "dot.png") == png.size());
  // The same bytes again: ComfyUI answers the existing name and stores no copy.
  REQUIRE(body(upload("dot.png", "", png))["name"] == "dot.png");
  REQUIRE_FALSE(fs::exists(s.dirs.root / "input" / "dot (1).png"));
  // Other bytes under that name, without overwrite: ComfyUI's renaming.
  const auto other = io::encode_png(std::vector<uint8_t>(12, 10), 2, 2, 3, {});
  const std::string png2(other.begin(), other.end());
  REQUIRE(body(upload("dot.png", "", png2))["name"] == "dot (1).png");
  REQUIRE(body(upload("dot.png", field("overwrite", "true"), png2))["name"] == "dot.png");
  REQUIRE(fs::file_size(s.dirs.root / "input" / "dot.png") == png2.size());
  auto sub = upload("dot.png", field("subfolder", "pics"), png);
  REQUIRE(body(sub)["subfolder"] == "pics");
  REQUIRE(fs::exists(s.dirs.root / "input" / "pics" / "dot.png"));

  REQUIRE(upload("../evil.png", "", png).status == 400);
  REQUIRE(upload("x.png", field("subfolder", "../.."), png).status == 400);
  REQUIRE(upload("x.png", field("subfolder", "/tmp"), png).status == 400);
  REQUIRE(upload("x.png", field("type", "models"), png).status == 400);
  REQUIRE(upload("notimage.png", "", "hello").status == 400);
  Request junk = req("POST", "/upload/image", "junk");
  junk.headers["content-type"] = "multipart/form-data; boundary=XyZ";
  REQUIRE(s(junk).status == 400);
  REQUIRE(!fs::exists(s.dirs.root / "evil.png"));
  REQUIRE(!fs::exists(s.dirs.root / "x.png"));
}

TEST_CASE("serve: catalogue and system routes", "[server][cpu]") {
  Server s;
  auto oi = body(s(req("GET", "/object_info")));
  REQUIRE(oi == test::test_registry().object_info(s.dirs.options().paths));  // as `vkflow nodes --json`
  REQUIRE(oi.contains("TestWait"));
  REQUIRE(body(s(req("GET", "/object_info/TestSteps")))["TestSteps"]["input"]["required"].contains("steps"));
  REQUIRE(body(s(req("GET", "/object_info/Nope"))).empty());
  auto st = body(s(req("GET", "/system_stats")));
  REQUIRE(st["system"]["ram_total"].get<uint64_t>() > 0);
  REQUIRE(st["devices"].is_array());
  REQUIRE(body(s(req("GET", "/features"))).contains("supports_preview_metadata"));
  REQUIRE(body(s(req("GET", "/models"))).get<std::vector<std::string>>().size() >= 2);
  REQUIRE(body(s(req("GET", "/models/checkpoints"))).is_array());
  REQUIRE(s(req("GET", "/models/nope")).status == 404);
  REQUIRE(body(s(req("GET", "/embeddings"))).is_array());
  REQUIRE(s(req("GET", "/nope")).status == 404);
  REQUIRE(s.app.status_message("abc")["data"]["sid"] == "abc");
}

TEST_CASE("serve: /system_stats reports the Vulkan device's memory", "[server]") {
  std::vector<vk::DeviceInfo> devs;
  try {
    devs = vk::list_devices();
  } catch (const std::exception& e) {
    WARN("skipped: no Vulkan loader (" << e.what() << ")");
    return;
  }
  if (devs.empty()) {
    WARN("skipped: no Vulkan 1.2 device");
    return;
  }
  for (size_t i = 0; i < devs.size(); ++i) {  // same numbering as the engine's --device
    Server s([&](AppOptions& o) { o.device = static_cast<int>(i); });
    auto dev = body(s(req("GET", "/system_stats")))["devices"];
    REQUIRE(dev.size() == 1);
    INFO(dev[0].dump());
    CHECK(dev[0]["index"] == i);
    CHECK(dev[0]["name"] == "vulkan:" + std::to_string(i) + " " + devs[i].name);
    CHECK(dev[0]["type"] == "vulkan");
    const uint64_t total = dev[0]["vram_total"], free = dev[0]["vram_free"];
    CHECK(total == devs[i].device_local_bytes);  // the largest device-local heap
    CHECK(free <= total);
    if (devs[i].device_local_budget_bytes) {  // VK_EXT_memory_budget: budget minus this process's usage
      CHECK(dev[0]["vram_source"] == "VK_EXT_memory_budget");
      CHECK(free <= devs[i].device_local_budget_bytes);
      CHECK(free + dev[0]["torch_vram_total"].get<uint64_t>() > 0);
    } else {  // lavapipe: the heap's size
      CHECK(dev[0]["vram_source"] == "heap size");
      CHECK(free == total);
    }
  }
  Server none([](AppOptions& o) { o.device = 99; });  // no such device: the placeholder, still 200
  auto r = none(req("GET", "/system_stats"));
  REQUIRE(r.status == 200);
  CHECK(body(r)["devices"][0]["vram_total"] == 0);
}

TEST_CASE("serve: the queue survives a process that dies mid-prompt", "[server][cpu]") {
  Dirs dirs;
  std::string running_id, pending_id;
  {  // First life: prompts are stored; the first one was taken by the worker when the process died.
    Recorder sink;
    App app(dirs.options(), sink);  // no queue attached: nothing runs
    running_id = body(app.handle(req("POST", "/prompt", prompt_body(kQuickGraph))))["prompt_id"];
    pending_id = body(app.handle(req("POST", "/prompt", prompt_body(kQuickGraph))))["prompt_id"];
    REQUIRE(app.store().mark_running(running_id));
  }
  Recorder sink;
  App app(dirs.options(), sink);
  auto q = body(app.handle(req("GET", "/queue")));
  REQUIRE(q["queue_running"][0][1] == running_id);
  graph::ExecQueue queue{graph::RunEnv{}, {}, test::test_registry()};
  app.attach(&queue);  // the interrupted prompt runs again, then the pending one
  REQUIRE(eventually([&] { return app.store().history().size() == 2; }));
  auto h = app.store().history();
  REQUIRE(h[0].first == running_id);
  REQUIRE(h[1].first == pending_id);
  for (auto& [id, e] : h) REQUIRE(e["status"]["status_str"] == "success");
  REQUIRE(body(app.handle(req("POST", "/prompt", prompt_body(kQuickGraph))))["number"].get<int64_t>() > 2);
}

TEST_CASE("serve: a prompt running at three deaths goes to history as failed, not round again", "[server][cpu]") {
  Dirs dirs;
  std::string id;
  for (int life = 0; life < Store::kAttempts; ++life) {
    Recorder sink;
    App app(dirs.options(), sink);
    if (life == 0) id = body(app.handle(req("POST", "/prompt", prompt_body(kQuickGraph))))["prompt_id"];
    auto back = app.store().recover();  // what attach() does at start
    REQUIRE(back.size() == (life == 0 ? 0u : 1u));
    REQUIRE(app.store().mark_running(id));  // the worker takes it, then the process dies
  }
  Recorder sink;
  App app(dirs.options(), sink);
  REQUIRE(app.store().recover().empty());
  REQUIRE(app.store().pending().empty());
  auto e = app.store().history_entry(id);
  REQUIRE(e);
  REQUIRE((*e)["status"]["status_str"] == "error");
  REQUIRE((*e)["status"]["messages"][0][1]["exception_message"].get<std::string>().find("stopped 3 times") != std::string::npos);
}


TEST_CASE("serve: the listener answers on 127.0.0.1 and refuses malformed HTTP with 4xx", "[server][cpu]") {
  Server s;
  WsHub hub;
  NetOptions net;
  net.port = 0;
  net.timeout_s = 5;
  net.max_body_bytes = 1 << 16;
  Listener l(net, [&](const Request& r) { return s.app.handle(r); }, hub);
  l.start(2);
  REQUIRE(l.port() != 0);
  auto ok = test::exchange(l.port(), "GET /system_stats HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  REQUIRE(ok.rfind("HTTP/1.1 200", 0) == 0);
  REQUIRE(ok.find("ram_total") != std::string::npos);
  for (std::string bad : {std::string("GARBAGE\r\n\r\n"), std::string("GET / HTTP/9.9\r\n\r\n"),
                          std::string("POST /prompt HTTP/1.1\r\nContent-Length: zz\r\n\r\n"),
                          std::string("POST /prompt HTTP/1.1\r\nHost: x\r\nContent-Length: 999999\r\n\r\n") + std::string(70000, 'x')}) {
    INFO(bad.substr(0, 40));
    auto r = test::exchange(l.port(), bad);
    REQUIRE(r.rfind("HTTP/1.1 4", 0) == 0);
  }
  // Cross-origin pages are refused without --enable-cors-header; a token is enforced when set.
  REQUIRE(test::exchange(l.port(), "GET /queue HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: http://evil.example\r\nConnection: close\r\n\r\n")
              .rfind("HTTP/1.1 403", 0) == 0);
  l.stop();
}
