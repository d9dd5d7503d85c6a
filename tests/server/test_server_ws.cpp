// Over a real loopback socket: --enable-cors-header (ComfyUI's CORS middleware: the headers on every
// response, OPTIONS preflights answered), the WebSocket message-size limit (an oversize client frame closes
// that socket only) and a WebSocket client vanishing mid-run (the run finishes, the server serves on).
// The WebSocket client is a minimal one written here (RFC 6455 framing), so the test controls every byte.
#include <catch2/catch.hpp>

#include <sys/socket.h>

#include <chrono>
#include <cstring>
#include <random>

#include "server/listener.h"
#include "tests/server/net_util.h"
#include "tests/server/server_fixture.h"

using namespace vkf;
using namespace vkf::server;
using namespace vkf::test::srv;
using Clock = std::chrono::steady_clock;

namespace {

struct Net {
  Server s;
  WsHub hub;
  Listener l;
  explicit Net(NetOptions net)
      : l(with_port0(net), [this](const Request& r) { return s.app.handle(r); }, hub) {
    hub.on_connect = [this](const std::string& sid) { return s.app.status_message(sid); };
    l.start(2);
  }
  static NetOptions with_port0(NetOptions n) {
    n.port = 0;
    return n;
  }
  std::string http(const std::string& head, const std::string& b = "") {
    return test::exchange(l.port(), head + "Host: 127.0.0.1\r\nConnection: close\r\nContent-Length: " +
                                        std::to_string(b.size()) + "\r\n\r\n" + b);
  }
};

bool status_is(const std::string& reply, int code) { return reply.rfind("HTTP/1.1 " + std::to_string(code) + " ", 0) == 0; }

// The value of header `name` in a raw HTTP reply ("" when absent); names compared case-insensitively.
std::string header_of(const std::string& reply, const std::string& name) {
  const std::string head = reply.substr(0, reply.find("\r\n\r\n"));
  size_t pos = 0;
  while ((pos = head.find("\r\n", pos)) != std::string::npos) {
    pos += 2;
    size_t colon = head.find(':', pos), end = head.find("\r\n", pos);
    if (colon == std::string::npos || (end != std::string::npos && colon > end)) continue;
    if (strncasecmp(head.c_str() + pos, name.c_str(), name.size()) == 0 && colon - pos == name.size())
      return head.substr(colon + 2, (end == std::string::npos ? head.size() : end) - colon - 2);
  }
  return "";
}

// A WebSocket client on a blocking socket with a receive timeout.
struct Ws {
  int fd = -1;
  std::string buf;
  bool timed_out = false;  // the last read hit the receive timeout (not EOF or a reset)
  ~Ws() {
    if (fd >= 0) ::close(fd);
  }
  // The handshake; true on 101.
  bool open(uint16_t port, const std::string& client_id) {
    fd = test::connect_loopback(port, 3);
    if (fd < 0) return false;
    test::send_all(fd, "GET /ws?clientId=" + client_id + " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                       "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
    for (int i = 0; i < 100 && buf.find("\r\n\r\n") == std::string::npos; ++i)
      if (!fill()) return false;
    const size_t e = buf.find("\r\n\r\n");
    if (e == std::string::npos) return false;
    const bool ok = status_is(buf, 101);
    buf.erase(0, e + 4);
    return ok;
  }
  bool fill() {
    char tmp[4096];
    ssize_t n = ::read(fd, tmp, sizeof tmp);
    timed_out = n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
    if (n <= 0) return false;
    buf.append(tmp, size_t(n));
    return true;
  }
  // One frame (opcode, payload); nullopt at EOF or the receive timeout.
  std::optional<std::pair<int, std::string>> frame() {
    auto need = [&](size_t n) {
      for (int i = 0; i < 10000 && buf.size() < n; ++i)
        if (!fill()) return false;
      return buf.size() >= n;
    };
    if (!need(2)) return std::nullopt;
    const int op = static_cast<unsigned char>(buf[0]) & 0x0f;
    uint64_t len = static_cast<unsigned char>(buf[1]) & 0x7f;
    size_t at = 2;
    if (len >= 126) {
      const size_t k = len == 126 ? 2 : 8;
      if (!need(2 + k)) return std::nullopt;
      len = 0;
      for (size_t i = 0; i < k; ++i) len = (len << 8) | static_cast<unsigned char>(buf[2 + i]);
      at += k;
    }
    if (!need(at + len)) return std::nullopt;
    std::string payload = buf.substr(at, len);
    buf.erase(0, at + len);
    return std::make_pair(op, payload);
  }
  // The next text message's JSON, skipping binary frames; null when the socket closed.
  json next_json() {
    for (int i = 0; i < 10000; ++i) {
      auto f = frame();
      if (!f || f->first == 8) return nullptr;
      if (f->first == 1) return json::parse(f->second);
    }
    return nullptr;
  }
  // A masked client frame (FIN set); only the header is built here, the payload is sent as it is masked.
  bool send(int op, const std::string& payload) {
    std::string h(1, static_cast<char>(0x80 | op));
    const uint64_t n = payload.size();
    if (n < 126) h.push_back(static_cast<char>(0x80 | n));
    else if (n < 65536) {
      h.push_back(static_cast<char>(0x80 | 126));
      h.push_back(static_cast<char>(n >> 8)), h.push_back(static_cast<char>(n & 0xff));
    } else {
      h.push_back(static_cast<char>(0x80 | 127));
      for (int i = 7; i >= 0; --i) h.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
    }
    const char mask[4] = {0x12, 0x34, 0x56, 0x78};
    h.append(mask, 4);
    std::string body = payload;
    for (size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>(body[i] ^ mask[i % 4]);
    return test::send_all(fd, h + body);
  }
  // True when the server ends the connection (a close frame and/or EOF) within the receive timeout.
  bool closed_by_server() {
    for (int i = 0; i < 10000; ++i) {
      auto f = frame();
      if (!f) return !timed_out;  // EOF or a reset, not the timeout
      if (f->first == 8) return true;
    }
    return false;
  }
};

// Relays the App's messages (recorded by the fixture's sink) to the sockets, as serve.cpp's hub does.
struct Relay : MessageSink {
  WsHub* hub = nullptr;
  void send(const std::string& sid, std::string data, bool bin) override { hub->send(sid, std::move(data), bin); }
};

}  // namespace

TEST_CASE("serve: --enable-cors-header puts ComfyUI's CORS headers on responses and answers OPTIONS", "[server][cpu]") {
  NetOptions net;
  net.timeout_s = 5;
  net.cors_origin = "https://app.example";
  net.auth_token = "tok";  // a preflight carries no credentials: answered before the auth check
  Net n(net);
  auto pre = n.http("OPTIONS /prompt HTTP/1.1\r\nOrigin: https://app.example\r\nAccess-Control-Request-Method: POST\r\n"
                    "Access-Control-Request-Headers: content-type, authorization\r\n");
  INFO(pre);
  REQUIRE(status_is(pre, 200));
  CHECK(header_of(pre, "Access-Control-Allow-Origin") == "https://app.example");
  CHECK(header_of(pre, "Access-Control-Allow-Methods").find("POST") != std::string::npos);
  CHECK(header_of(pre, "Access-Control-Allow-Methods").find("OPTIONS") != std::string::npos);
  CHECK(header_of(pre, "Access-Control-Allow-Headers") == "Content-Type, Authorization");
  CHECK(header_of(pre, "Access-Control-Allow-Credentials") == "true");
  CHECK(n.s.app.store().pending().empty());  // a preflight queues nothing

  // Every response carries them: a 200, a 404, a 401 (so the browser can read the error), a POST.
  for (auto& reply : {n.http("GET /queue HTTP/1.1\r\nAuthorization: Bearer tok\r\nOrigin: https://app.example\r\n"),
                      n.http("GET /nope HTTP/1.1\r\nAuthorization: Bearer tok\r\n"),
                      n.http("GET /queue HTTP/1.1\r\nOrigin: https://other.example\r\n"),
                      n.http("POST /prompt HTTP/1.1\r\nAuthorization: Bearer tok\r\nOrigin: https://app.example\r\n",
                             prompt_body(kQuickGraph))}) {
    INFO(reply.substr(0, 200));
    CHECK(header_of(reply, "Access-Control-Allow-Origin") == "https://app.example");
    CHECK(header_of(reply, "Access-Control-Allow-Credentials") == "true");
  }
  // With CORS on, a page from another origin is not refused by the origin check (ComfyUI: the CORS
  // middleware replaces the origin-only one).
  CHECK(status_is(n.http("GET /queue HTTP/1.1\r\nAuthorization: Bearer tok\r\nOrigin: https://other.example\r\n"), 200));
  // The WebSocket handshake carries the origin header too.
  int fd = test::connect_loopback(n.l.port(), 3);
  test::send_all(fd, "GET /ws?clientId=c&token=tok HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
  char b[1024];
  ssize_t k = ::read(fd, b, sizeof b);
  ::close(fd);
  std::string ws = k > 0 ? std::string(b, size_t(k)) : "";
  CHECK(status_is(ws, 101));
  CHECK(header_of(ws, "Access-Control-Allow-Origin") == "https://app.example");
}

TEST_CASE("serve: without --enable-cors-header no CORS headers, same-origin OPTIONS 200, cross-origin 403",
          "[server][cpu]") {
  NetOptions net;
  net.timeout_s = 5;
  Net n(net);
  auto r = n.http("GET /queue HTTP/1.1\r\n");
  REQUIRE(status_is(r, 200));
  CHECK(header_of(r, "Access-Control-Allow-Origin").empty());
  auto same = n.http("OPTIONS /prompt HTTP/1.1\r\nOrigin: http://127.0.0.1\r\n");
  CHECK(status_is(same, 200));  // ComfyUI's origin-only middleware answers OPTIONS itself
  CHECK(header_of(same, "Access-Control-Allow-Origin").empty());
  CHECK(status_is(n.http("OPTIONS /prompt HTTP/1.1\r\nOrigin: http://evil.example\r\n"), 403));
  CHECK(status_is(n.http("POST /prompt HTTP/1.1\r\nOrigin: http://evil.example\r\n", prompt_body(kQuickGraph)), 403));
  CHECK(n.s.app.store().pending().empty());
  CHECK(n.s.app.store().history().empty());
}

TEST_CASE("serve: an oversize WebSocket frame closes that socket only, others keep getting messages", "[server][cpu]") {
  NetOptions net;
  net.timeout_s = 5;
  net.max_ws_message_bytes = 4096;
  Net n(net);
  Ws big, other;
  REQUIRE(big.open(n.l.port(), "big"));
  REQUIRE(other.open(n.l.port(), "other"));
  auto hello = big.next_json();
  REQUIRE(hello["type"] == "status");
  CHECK(hello["data"]["sid"] == "big");
  REQUIRE(other.next_json()["type"] == "status");
  REQUIRE(eventually([&] { return n.hub.size() == 2; }, 3000));

  // Under the limit: accepted and ignored (ComfyUI acts on nothing a client sends).
  REQUIRE(big.send(1, std::string(1000, 'a')));
  REQUIRE(big.send(9, "ping"));  // a ping is answered with a pong
  auto pong = big.frame();
  REQUIRE(pong);
  CHECK(pong->first == 10);
  CHECK(pong->second == "ping");

  // Over it: the server closes this connection (close frame 1009 and/or EOF), within the timeout.
  const auto t0 = Clock::now();
  big.send(2, std::string(64 << 10, 'x'));  // the server may close before it has read it all
  CHECK(big.closed_by_server());
  CHECK(std::chrono::duration<double>(Clock::now() - t0).count() < 3.0);
  REQUIRE(eventually([&] { return n.hub.size() == 1; }, 3000));

  // The other socket still gets broadcasts (the status after a POST /prompt), and HTTP still answers.
  n.hub.send("", json{{"type", "status"}, {"data", {{"probe", 1}}}}.dump(), false);
  auto m = other.next_json();
  REQUIRE(m.is_object());
  CHECK(m["data"]["probe"] == 1);
  CHECK(status_is(n.http("GET /queue HTTP/1.1\r\n"), 200));
  Ws again;  // and new sockets are accepted
  REQUIRE(again.open(n.l.port(), "again"));
  CHECK(again.next_json()["type"] == "status");
}

TEST_CASE("serve: a WebSocket client vanishing mid-run leaves the run to finish and the server serving",
          "[server][cpu]") {
  // The App's messages go out on real sockets here (Relay), so the server writes to a vanished peer.
  Dirs dirs;
  WsHub hub;
  Relay relay;
  relay.hub = &hub;
  App app(dirs.options(), relay);
  graph::ExecQueue queue{graph::RunEnv{}, {}, test::test_registry()};
  app.attach(&queue);
  hub.on_connect = [&](const std::string& sid) { return app.status_message(sid); };
  NetOptions net;
  net.port = 0;
  net.timeout_s = 5;
  Listener l(net, [&](const Request& r) { return app.handle(r); }, hub);
  l.start(2);
  auto post = [&](const std::string& b) {
    return test::exchange(l.port(), "POST /prompt HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: " +
                                        std::to_string(b.size()) + "\r\n\r\n" + b);
  };
  const char* sleepy = R"({"1": {"class_type": "TestConst", "inputs": {"value": 5}},
    "2": {"class_type": "TestSleep", "inputs": {"value": ["1", 0], "ms": 1500}},
    "3": {"class_type": "TestSink", "inputs": {"value": ["2", 0]}}})";

  auto ws = std::make_unique<Ws>();
  REQUIRE(ws->open(l.port(), "gone"));
  REQUIRE(ws->next_json()["type"] == "status");
  auto reply = post(prompt_body(sleepy, "gone"));
  REQUIRE(status_is(reply, 200));
  const std::string id = json::parse(reply.substr(reply.find("\r\n\r\n") + 4))["prompt_id"];
  // Wait until the run is under way (progress arrives), then drop the connection without a close frame,
  // resetting it (SO_LINGER 0), while the run keeps sending progress to it every 5 ms.
  bool progress = false;
  for (int i = 0; i < 200 && !progress; ++i) {
    auto m = ws->next_json();
    if (m.is_null()) break;
    progress = m["type"] == "progress";
  }
  REQUIRE(progress);
  linger lg{1, 0};
  ::setsockopt(ws->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  ws.reset();

  // The run finishes by itself, successfully, and its history is stored.
  REQUIRE(eventually([&] { return app.store().history_entry(id).has_value(); }, 10000));
  auto e = *app.store().history_entry(id);
  CHECK(e["status"]["status_str"] == "success");
  CHECK(e["outputs"]["3"]["text"][0] == 5);
  REQUIRE(eventually([&] { return hub.size() == 0; }, 3000));  // the dead socket was dropped

  // And the server serves: HTTP, a new socket that sees a whole run of its own.
  Ws fresh;
  REQUIRE(fresh.open(l.port(), "fresh"));
  REQUIRE(fresh.next_json()["type"] == "status");
  auto r2 = post(prompt_body(kQuickGraph, "fresh"));
  REQUIRE(status_is(r2, 200));
  bool done = false;
  for (int i = 0; i < 200 && !done; ++i) {
    auto m = fresh.next_json();
    if (m.is_null()) break;
    done = m["type"] == "execution_success";
  }
  CHECK(done);
  l.stop();
}
