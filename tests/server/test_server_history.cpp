// POST /history's clear and delete, POST /prompt's `front` and `extra_data`, and the execution_error
// message of a prompt that fails at run time, each as ComfyUI's server.py / execution.py has them.
// In-process (App::handle) with the cheap test nodes; every wait is bounded.
#include <catch2/catch.hpp>

#include "tests/server/server_fixture.h"

using namespace vkf;
using namespace vkf::test::srv;

namespace {
std::string post_id(Server& s, const std::string& b) {
  auto r = s(req("POST", "/prompt", b));
  REQUIRE(r.status == 200);
  return body(r)["prompt_id"];
}

bool in_history(Server& s, const std::string& id) { return !body(s(req("GET", "/history/" + id))).empty(); }

std::vector<json> messages_of_type(Recorder& r, const std::string& type) {
  std::lock_guard lk(r.mu);
  std::vector<json> out;
  for (auto& [sid, m] : r.text) {
    auto j = json::parse(m);
    if (j["type"] == type) out.push_back(j);
  }
  return out;
}

const char* kFailGraph = R"({"1": {"class_type": "TestConst", "inputs": {"value": 7}},
  "2": {"class_type": "TestFail", "inputs": {"value": ["1", 0]}},
  "3": {"class_type": "TestSink", "inputs": {"value": ["2", 0], "label": "end"}}})";
}  // namespace

TEST_CASE("serve: POST /history delete removes one entry and clear removes all, GET /history shows it", "[server][cpu]") {
  Server s;
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    json g = json::parse(kQuickGraph);
    g["1"]["inputs"]["value"] = 10 + i;  // distinct graphs (nothing served from the cache needed either)
    ids.push_back(post_id(s, json{{"prompt", g}, {"client_id", "c1"}}.dump()));
  }
  REQUIRE(eventually([&] { return body(s(req("GET", "/history"))).size() == 3; }));

  // delete: only the named entry goes; an unknown id and a non-string are ignored (200, as ComfyUI).
  auto r = s(req("POST", "/history", json{{"delete", {ids[1], "no-such-id", 5}}}.dump()));
  REQUIRE(r.status == 200);
  auto h = body(s(req("GET", "/history")));
  REQUIRE(h.size() == 2);
  CHECK(h.contains(ids[0]));
  CHECK_FALSE(h.contains(ids[1]));
  CHECK(h.contains(ids[2]));
  CHECK(body(s(req("GET", "/history/" + ids[1]))).empty());
  CHECK(body(s(req("GET", "/history/" + ids[0])))[ids[0]]["outputs"]["3"]["text"][0] == 10);
  CHECK(body(s(req("GET", "/history?max_items=1"))).contains(ids[2]));  // the latest one

  // clear: false leaves everything; true wipes the history, the queue is untouched.
  REQUIRE(s(req("POST", "/history", R"({"clear": false})")).status == 200);
  CHECK(body(s(req("GET", "/history"))).size() == 2);
  const std::string waiting = post_id(s, prompt_body(kWaitGraph));
  REQUIRE(eventually([&] { return body(s(req("GET", "/queue")))["queue_running"].size() == 1; }));
  REQUIRE(s(req("POST", "/history", R"({"clear": true})")).status == 200);
  CHECK(body(s(req("GET", "/history"))).empty());
  for (auto& id : ids) CHECK(body(s(req("GET", "/history/" + id))).empty());
  CHECK(body(s(req("GET", "/queue")))["queue_running"][0][1] == waiting);

  // A malformed body is a 400 and changes nothing; a prompt finishing after the clear is recorded anew.
  CHECK(s(req("POST", "/history", "{nope")).status == 400);
  REQUIRE(s(req("POST", "/interrupt")).status == 200);
  REQUIRE(eventually([&] { return in_history(s, waiting); }));
  CHECK(body(s(req("GET", "/history"))).size() == 1);
  // Both together: delete of an id already cleared is harmless.
  REQUIRE(s(req("POST", "/history", json{{"clear", true}, {"delete", {waiting}}}.dump())).status == 200);
  CHECK(body(s(req("GET", "/history"))).empty());
}

TEST_CASE("serve: front queues a prompt ahead of the pending ones, extra_data is kept in /queue and /history",
          "[server][cpu]") {
  Server s;
  const std::string running = post_id(s, prompt_body(kWaitGraph));
  REQUIRE(eventually([&] { return body(s(req("GET", "/queue")))["queue_running"].size() == 1; }));
  auto quick = [&](int v, bool front, const json& extra) {
    json g = json::parse(kQuickGraph);
    g["1"]["inputs"]["value"] = v;
    json b = {{"prompt", g}, {"client_id", "c1"}, {"extra_data", extra}};
    if (front) b["front"] = true;
    return s(req("POST", "/prompt", b.dump()));
  };
  const json extra = {{"extra_pnginfo", {{"workflow", {{"nodes", json::array()}}}}}, {"note", "kept"},
                      {"api_key_comfy_org", "k-secret"}, {"auth_token_comfy_org", "t-secret"}};
  auto ra = quick(1, false, extra), rb = quick(2, false, json::object()), rc = quick(3, true, extra);
  const std::string a = body(ra)["prompt_id"], b = body(rb)["prompt_id"], c = body(rc)["prompt_id"];
  // ComfyUI's numbering: front gets the negated next number, so it sorts before every pending prompt.
  CHECK(body(rc)["number"].get<int64_t>() < 0);
  CHECK(-body(rc)["number"].get<int64_t>() > body(rb)["number"].get<int64_t>());
  CHECK(body(ra)["number"].get<int64_t>() < body(rb)["number"].get<int64_t>());

  auto q = body(s(req("GET", "/queue")));
  REQUIRE(q["queue_pending"].size() == 3);
  CHECK(q["queue_pending"][0][1] == c);
  CHECK(q["queue_pending"][1][1] == a);
  CHECK(q["queue_pending"][2][1] == b);
  // [number, prompt_id, prompt, extra_data, outputs_to_execute]; extra_data as posted, plus client_id and
  // create_time, less the comfy.org credentials.
  const json& e = q["queue_pending"][0][3];
  CHECK(e["extra_pnginfo"] == extra["extra_pnginfo"]);
  CHECK(e["note"] == "kept");
  CHECK(e["client_id"] == "c1");
  CHECK(e["create_time"].is_number_integer());
  CHECK_FALSE(e.contains("api_key_comfy_org"));
  CHECK_FALSE(e.contains("auth_token_comfy_org"));
  CHECK(q["queue_pending"][0][4] == json::array({"3"}));
  CHECK(q["queue_pending"][2][3].size() == 2);  // client_id and create_time only
  CHECK(q.dump().find("secret") == std::string::npos);

  REQUIRE(s(req("POST", "/interrupt", json{{"prompt_id", running}}.dump())).status == 200);
  REQUIRE(eventually([&] { return in_history(s, a) && in_history(s, b) && in_history(s, c); }));
  // They ran in queue order: c (front), then a, then b.
  auto h = s.app.store().history();
  std::vector<std::string> order;
  for (auto& [id, entry] : h) order.push_back(id);
  REQUIRE(order.size() == 4);
  CHECK(order == std::vector<std::string>{running, c, a, b});
  auto hc = body(s(req("GET", "/history/" + c)))[c];
  CHECK(hc["prompt"][1] == c);
  CHECK(hc["prompt"][3]["extra_pnginfo"] == extra["extra_pnginfo"]);
  CHECK(hc["prompt"][3]["client_id"] == "c1");
  CHECK(hc["status"]["status_str"] == "success");
  CHECK(body(s(req("GET", "/history"))).dump().find("secret") == std::string::npos);
  // A non-object extra_data is replaced by {} (and still gets client_id), not refused.
  json g = json::parse(kQuickGraph);
  auto odd = s(req("POST", "/prompt", json{{"prompt", g}, {"client_id", "c2"}, {"extra_data", 5}}.dump()));
  REQUIRE(odd.status == 200);
  const std::string oid = body(odd)["prompt_id"];
  REQUIRE(eventually([&] { return in_history(s, oid); }));
  CHECK(body(s(req("GET", "/history/" + oid)))[oid]["prompt"][3]["client_id"] == "c2");
}

TEST_CASE("serve: a prompt failing at run time sends execution_error with ComfyUI's fields", "[server][cpu]") {
  Server s;
  // A first run puts node 1 in the cache, so current_outputs has a cached node and an executed one.
  const std::string warm = post_id(s, prompt_body(R"({"1": {"class_type": "TestConst", "inputs": {"value": 7}},
    "3": {"class_type": "TestSink", "inputs": {"value": ["1", 0]}}})"));
  REQUIRE(eventually([&] { return in_history(s, warm); }));
  const std::string id = post_id(s, prompt_body(kFailGraph, "me"));
  REQUIRE(eventually([&] { return in_history(s, id); }));

  auto errs = messages_of_type(s.sink, "execution_error");
  REQUIRE(errs.size() == 1);
  const json& d = errs[0]["data"];
  INFO(d.dump());
  CHECK(d["prompt_id"] == id);
  CHECK(d["node_id"] == "2");
  CHECK(d["node_type"] == "TestFail");
  CHECK(d["exception_message"].get<std::string>().find("boom") != std::string::npos);
  CHECK(d["exception_type"].is_string());
  CHECK_FALSE(d["exception_type"].get<std::string>().empty());
  CHECK(d["traceback"].is_array());  // a list of lines in ComfyUI
  REQUIRE(d["current_inputs"].is_object());  // {input name: [value]}
  REQUIRE(d["current_inputs"]["value"].is_array());
  CHECK(d["current_inputs"]["value"].size() == 1);
  REQUIRE(d["current_outputs"].is_array());  // node ids whose outputs exist
  CHECK(std::find(d["current_outputs"].begin(), d["current_outputs"].end(), "1") != d["current_outputs"].end());
  CHECK(std::find(d["current_outputs"].begin(), d["current_outputs"].end(), "2") == d["current_outputs"].end());
  CHECK(d["executed"].is_array());
  CHECK(d["timestamp"].is_number_integer());
  {  // to the client that queued it only (ComfyUI: broadcast=False)
    std::lock_guard lk(s.sink.mu);
    for (auto& [sid, m] : s.sink.text)
      if (json::parse(m)["type"] == "execution_error") CHECK(sid == "me");
  }

  // The history entry records it: status error, the same message among status.messages.
  auto h = body(s(req("GET", "/history/" + id)))[id];
  CHECK(h["status"]["status_str"] == "error");
  CHECK(h["status"]["completed"] == false);
  bool recorded = false;
  for (auto& m : h["status"]["messages"])
    if (m[0] == "execution_error") recorded = m[1]["node_id"] == "2" && m[1]["current_outputs"].is_array();
  CHECK(recorded);
  CHECK(messages_of_type(s.sink, "execution_success").size() == 1);  // the warm-up only
  // The server keeps serving: the next prompt runs.
  const std::string next = post_id(s, prompt_body(kQuickGraph));
  REQUIRE(eventually([&] { return in_history(s, next); }));
  CHECK(body(s(req("GET", "/history/" + next)))[next]["status"]["status_str"] == "success");
}
