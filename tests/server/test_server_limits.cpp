// vkflow serve's limits over a real loopback socket: decompression-bomb uploads, oversize bodies (413),
// stalled and slow-drip clients (slowloris) and the --auth-token check. Every wait is bounded.
#include <catch2/catch.hpp>

#include <sys/resource.h>
#include <zlib.h>

#include <chrono>
#include <cstring>
#include <thread>

#include "server/listener.h"
#include "tests/server/net_util.h"
#include "tests/server/server_fixture.h"

using namespace vkf;
using namespace vkf::server;
using namespace vkf::test::srv;
using Clock = std::chrono::steady_clock;

namespace {

void put_be32(std::string& s, uint32_t v) {
  for (int i = 3; i >= 0; --i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

// One PNG chunk with its CRC (zlib's crc32, as PNG specifies), so the file is well-formed.
std::string chunk(const char* type, const std::string& data) {
  std::string c;
  put_be32(c, static_cast<uint32_t>(data.size()));
  std::string td = std::string(type, 4) + data;
  c += td;
  put_be32(c, static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(td.data()), static_cast<uInt>(td.size()))));
  return c;
}

// A valid RGB PNG of w x h black pixels whose IDAT is deflated zeros: a few KB that decode to w*h*3 bytes.
// The compressed stream is produced in 64 KiB slices so the test itself never holds the decoded size.
// `rows` < h makes a header that lies: it claims h rows but carries fewer.
std::string bomb_png(uint32_t w, uint32_t h, uint32_t rows = 0) {
  std::string ihdr;
  put_be32(ihdr, w);
  put_be32(ihdr, h);
  ihdr += std::string("\x08\x02\x00\x00\x00", 5);  // 8-bit RGB, deflate, no filter method, no interlace
  z_stream z{};
  deflateInit(&z, Z_BEST_COMPRESSION);
  std::string zero(64 << 10, '\0'), out, buf(64 << 10, '\0');
  uint64_t left = uint64_t(rows ? rows : h) * (1 + uint64_t(w) * 3);  // each row: filter byte 0 + pixels
  int flush = Z_NO_FLUSH;
  do {
    const uInt n = static_cast<uInt>(std::min<uint64_t>(left, zero.size()));
    left -= n;
    flush = left == 0 ? Z_FINISH : Z_NO_FLUSH;
    z.next_in = reinterpret_cast<Bytef*>(zero.data());
    z.avail_in = n;
    do {
      z.next_out = reinterpret_cast<Bytef*>(buf.data());
      z.avail_out = static_cast<uInt>(buf.size());
      deflate(&z, flush);
      out.append(buf.data(), buf.size() - z.avail_out);
    } while (z.avail_out == 0);
  } while (flush != Z_FINISH);
  deflateEnd(&z);
  return std::string("\x89PNG\r\n\x1a\n", 8) + chunk("IHDR", ihdr) + chunk("IDAT", out) + chunk("IEND", "");
}

std::string multipart(const std::string& filename, const std::string& data) {
  return "--XyZ\r\nContent-Disposition: form-data; name=\"image\"; filename=\"" + filename +
         "\"\r\nContent-Type: image/png\r\n\r\n" + data + "\r\n--XyZ--\r\n";
}

std::string upload_request(const std::string& filename, const std::string& data) {
  std::string b = multipart(filename, data);
  return "POST /upload/image HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: multipart/form-data; boundary=XyZ\r\n"
         "Content-Length: " + std::to_string(b.size()) + "\r\n\r\n" + b;
}

long max_rss_kb() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// A Listener in front of an in-process Server.
struct Net {
  Server s;
  WsHub hub;
  Listener l;
  Net(NetOptions net, const std::function<void(AppOptions&)>& adjust = {})
      : s(adjust), l(with_port0(net), [this](const Request& r) { return s.app.handle(r); }, hub) {
    l.start(1);  // one network thread: a stalled client must not hold it
  }
  static NetOptions with_port0(NetOptions n) {
    n.port = 0;
    return n;
  }
  std::string get(const std::string& target, const std::string& extra_headers = "") {
    return test::exchange(l.port(), "GET " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + extra_headers + "\r\n");
  }
};

bool status_is(const std::string& reply, int code) { return reply.rfind("HTTP/1.1 " + std::to_string(code) + " ", 0) == 0; }

}  // namespace

TEST_CASE("serve: decompression-bomb uploads are refused with 413 from the header, in bounded memory", "[server][cpu]") {
  NetOptions net;
  net.timeout_s = 5;
  Net n(net, [](AppOptions& o) { o.max_image_pixels = uint64_t(1) << 22; });  // 4 Mpx
  const fs::path input = n.s.dirs.root / "input";

  // 6000 x 6000 RGB zeros: ~100 KB on the wire, 108 MB once decoded; and a header claiming 10^5 x 10^5.
  const std::string bomb = bomb_png(6000, 6000);
  REQUIRE(bomb.size() < (1u << 20));
  const std::string liar = bomb_png(100000, 100000, 1);
  const long rss0 = max_rss_kb();
  const auto t0 = Clock::now();
  auto r = test::exchange(n.l.port(), upload_request("bomb.png", bomb));
  INFO(r.substr(0, 200));
  REQUIRE(status_is(r, 413));
  REQUIRE(r.find("6000x6000") != std::string::npos);  // the message says what was refused
  REQUIRE(seconds_since(t0) < 2.0);
  // Never decoded: the process grew by far less than the 108 MB the pixels would take.
  REQUIRE(max_rss_kb() - rss0 < 48 * 1024);
  REQUIRE(fs::is_empty(input));
  auto lie = test::exchange(n.l.port(), upload_request("liar.png", liar));
  REQUIRE(status_is(lie, 413));
  REQUIRE(seconds_since(t0) < 3.0);

  // A side over max_image_side (16384, as stb_image would allocate it) is refused though the pixel count passes.
  auto wide = test::exchange(n.l.port(), upload_request("wide.png", bomb_png(20000, 1)));
  REQUIRE(status_is(wide, 413));
  REQUIRE(fs::is_empty(input));

  // A small image of the same construction is accepted and stored whole.
  const std::string small = bomb_png(64, 64);
  auto ok = test::exchange(n.l.port(), upload_request("small.png", small));
  INFO(ok.substr(0, 200));
  REQUIRE(status_is(ok, 200));
  REQUIRE(fs::file_size(input / "small.png") == small.size());
}

TEST_CASE("serve: bodies over the limits get 413, by Content-Length or chunked, uploads their own limit", "[server][cpu]") {
  NetOptions net;
  net.timeout_s = 5;
  net.max_body_bytes = 64 << 10;
  net.max_upload_bytes = 256 << 10;
  Net n(net);
  // Refused from the header alone: the body is never sent.
  auto r = test::exchange(n.l.port(), "POST /prompt HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n");
  REQUIRE(status_is(r, 413));
  // Chunked: no length up front; refused once the chunks pass the limit.
  std::string chunked = "POST /prompt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 5; ++i) chunked += "4000\r\n" + std::string(0x4000, ' ') + "\r\n";  // 5 x 16 KiB
  chunked += "0\r\n\r\n";
  REQUIRE(status_is(test::exchange(n.l.port(), chunked), 413));
  // Under the limit the same route answers (400: not a prompt).
  REQUIRE(status_is(test::exchange(n.l.port(), "POST /prompt HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}"), 400));
  // /upload/ has the larger limit: 128 KiB passes the size check (then 400: not an image), 512 KiB does not.
  auto mid = test::exchange(n.l.port(), upload_request("a.png", std::string(128 << 10, 'x')));
  INFO(mid.substr(0, 300));
  REQUIRE(status_is(mid, 400));
  REQUIRE(status_is(test::exchange(n.l.port(), "POST /upload/image HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=XyZ\r\n"
                                               "Content-Length: 524288\r\n\r\n"), 413));
  REQUIRE(n.s.app.store().pending().empty());
  REQUIRE(fs::is_empty(n.s.dirs.root / "input"));
  REQUIRE(status_is(n.get("/queue"), 200));  // and the server still serves
}

TEST_CASE("serve: stalled and slow-drip clients (slowloris) neither block others nor stay connected", "[server][cpu]") {
  NetOptions net;
  net.timeout_s = 1;
  Net n(net);
  // Twenty connections stop halfway: in the request line, in the headers, in the body.
  std::vector<int> stalled;
  for (int i = 0; i < 20; ++i) {
    int fd = test::connect_loopback(n.l.port(), 5);
    REQUIRE(fd >= 0);
    const char* half[] = {"GET /que", "GET /queue HTTP/1.1\r\nHost: x\r\n",
                          "POST /prompt HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"pro"};
    REQUIRE(test::send_all(fd, half[i % 3]));
    stalled.push_back(fd);
  }
  // A well-behaved client is served at once on the single network thread.
  const auto t0 = Clock::now();
  REQUIRE(status_is(n.get("/system_stats"), 200));
  REQUIRE(seconds_since(t0) < 0.5);

  // A client that drips one byte every 150 ms never finishes its headers within the 1 s deadline.
  int drip = test::connect_loopback(n.l.port(), 5);
  const std::string req_bytes = "GET /queue HTTP/1.1\r\nHost: x\r\nX-Pad: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
  const auto d0 = Clock::now();
  bool dropped = false;
  for (char c : req_bytes) {
    if (!test::send_all(drip, std::string(1, c))) {
      dropped = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    if (seconds_since(d0) > 4) break;
  }
  std::string got = test::read_all(drip);  // the server has closed it (EOF), no answer to a request never sent whole
  ::close(drip);
  INFO("drip reply: " << got.substr(0, 80));
  REQUIRE((dropped || got.empty() || !status_is(got, 200)));
  REQUIRE(seconds_since(d0) < 4.5);

  // Every stalled connection was closed by the server (EOF within its receive timeout, not a 5 s wait).
  const auto s0 = Clock::now();
  for (int fd : stalled) {
    char c;
    ssize_t k = ::read(fd, &c, 1);
    while (k > 0) k = ::read(fd, &c, 1);
    REQUIRE(k == 0);
    ::close(fd);
  }
  REQUIRE(seconds_since(s0) < 3.0);
  REQUIRE(status_is(n.get("/queue"), 200));
}

TEST_CASE("serve: --auth-token is required on every route, as a Bearer header or a token query", "[server][cpu]") {
  NetOptions net;
  net.timeout_s = 5;
  net.auth_token = "s3cret-token";
  Net n(net);
  for (const char* t : {"/queue", "/prompt", "/history", "/history/x", "/object_info", "/system_stats", "/view?filename=a.png",
                        "/models", "/embeddings", "/features", "/nope"}) {
    INFO(t);
    auto r = n.get(t);
    REQUIRE(status_is(r, 401));
    REQUIRE(r.find("WWW-Authenticate: Bearer") != std::string::npos);
    REQUIRE(status_is(n.get(t, "Authorization: Bearer wrong-token!\r\n"), 401));
    REQUIRE(status_is(n.get(t, "Authorization: Basic czNjcmV0LXRva2Vu\r\n"), 401));
  }
  REQUIRE(status_is(n.get("/queue", "Authorization: Bearer s3cret-token\r\n"), 200));
  REQUIRE(status_is(n.get("/queue?token=s3cret-token"), 200));
  REQUIRE(status_is(n.get("/queue?token=s3cret-toke"), 401));
  // A prompt without the token is not queued.
  const std::string pb = prompt_body(kQuickGraph);
  auto post = [&](const std::string& auth) {
    return test::exchange(n.l.port(), "POST /prompt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + auth +
                                          "Content-Length: " + std::to_string(pb.size()) + "\r\n\r\n" + pb);
  };
  REQUIRE(status_is(post(""), 401));
  REQUIRE(n.s.app.store().pending().empty());
  REQUIRE(n.s.app.store().history().empty());
  REQUIRE(status_is(post("Authorization: Bearer s3cret-token\r\n"), 200));
  // The WebSocket upgrade too.
  const std::string ws = "GET /ws?clientId=a%s HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                         "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
  auto ws_with = [&](const std::string& q) {
    std::string r = ws;
    r.replace(r.find("%s"), 2, q);
    int fd = test::connect_loopback(n.l.port(), 2);
    test::send_all(fd, r);
    char buf[256];
    ssize_t k = ::read(fd, buf, sizeof buf);
    ::close(fd);
    return k > 0 ? std::string(buf, size_t(k)) : std::string();
  };
  REQUIRE(status_is(ws_with(""), 401));
  REQUIRE(status_is(ws_with("&token=s3cret-token"), 101));
}
