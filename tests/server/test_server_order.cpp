// A prompt's WebSocket messages come after its POST /prompt reply (server/reply_gate.h): SDKs subscribe to
// a prompt's events only once the reply has told them its id.
#include <catch2/catch.hpp>

#include "tests/server/server_fixture.h"

using namespace vkf;
using namespace vkf::test::srv;

namespace {
size_t count_for(Recorder& r, const std::string& id) {
  std::lock_guard lk(r.mu);
  size_t n = 0;
  for (auto& [sid, m] : r.text)
    if (json::parse(m)["data"].value("prompt_id", "") == id) ++n;
  return n;
}
}  // namespace

TEST_CASE("serve: a prompt's messages wait for its POST /prompt reply, then arrive in order", "[server][cpu]") {
  Server s;
  Response reply = s.app.handle(req("POST", "/prompt", prompt_body(kQuickGraph)));
  REQUIRE(reply.status == 200);
  REQUIRE(reply.on_sent);
  const std::string id = body(reply)["prompt_id"];
  // The run finishes while the reply is still "being written": none of its messages has gone out.
  REQUIRE(eventually([&] { return !body(s(req("GET", "/history/" + id))).empty(); }));
  REQUIRE(count_for(s.sink, id) == 0);

  reply.on_sent.reset();  // the listener's write completed
  std::vector<std::string> types;
  {
    std::lock_guard lk(s.sink.mu);
    for (auto& [sid, m] : s.sink.text) {
      auto msg = json::parse(m);
      if (msg["data"].value("prompt_id", "") != id) continue;
      REQUIRE(sid == "c1");
      types.push_back(msg["type"]);
    }
  }
  REQUIRE(types.size() >= 5);
  REQUIRE(types.front() == "execution_start");
  REQUIRE(types.back() == "executing");  // executing(null) closes the run
  auto at = [&](const std::string& t) { return std::find(types.begin(), types.end(), t) - types.begin(); };
  REQUIRE(at("progress") < at("execution_success"));

  // A later prompt's reply released at once: its messages flow live.
  auto id2 = body(s(req("POST", "/prompt", prompt_body(kQuickGraph))))["prompt_id"].get<std::string>();
  REQUIRE(eventually([&] { return count_for(s.sink, id2) >= 5; }));
}

TEST_CASE("serve: a reply token outliving the app releases nothing and does not crash", "[server][cpu]") {
  Recorder sink;  // outlives the App: anything the late release sent would land here
  std::shared_ptr<void> token;
  {
    Dirs dirs;
    server::App app(dirs.options(), sink);  // no queue attached: the prompt is stored, nothing runs
    token = app.handle(req("POST", "/prompt", prompt_body(kQuickGraph))).on_sent;
    REQUIRE(token);
  }
  const size_t before = sink.text.size() + sink.binary.size();
  token.reset();  // the gate is gone with the App: a no-op (ASan would report a use after free)
  CHECK(sink.text.size() + sink.binary.size() == before);
}
