#include "server/listener.h"

#include <deque>
#include <iostream>
#include <random>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

namespace vkf::server {
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace net = boost::asio;
namespace http = beast::http;
using tcp = net::ip::tcp;
using BeastRequest = http::request<http::string_body>;
using BeastResponse = http::response<http::string_body>;

// ---- hub ------------------------------------------------------------------------------------------
void WsHub::add(const std::string& sid, std::shared_ptr<WsClient> c) {
  std::lock_guard lk(mu_);
  clients_.emplace(sid, c);
}

void WsHub::remove(const std::string& sid, const WsClient* c) {
  std::lock_guard lk(mu_);
  auto [b, e] = clients_.equal_range(sid);
  for (auto it = b; it != e;) {
    auto sp = it->second.lock();
    if (!sp || sp.get() == c) it = clients_.erase(it);
    else ++it;
  }
}

void WsHub::send(const std::string& sid, std::string data, bool binary) {
  auto shared = std::make_shared<const std::string>(std::move(data));
  std::vector<std::shared_ptr<WsClient>> to;
  {
    std::lock_guard lk(mu_);
    if (sid.empty()) {
      for (auto& [k, w] : clients_)
        if (auto sp = w.lock()) to.push_back(sp);
    } else {
      auto [b, e] = clients_.equal_range(sid);
      for (auto it = b; it != e; ++it)
        if (auto sp = it->second.lock()) to.push_back(sp);
    }
  }
  for (auto& c : to) c->send(shared, binary);
}

size_t WsHub::size() const {
  std::lock_guard lk(mu_);
  return clients_.size();
}

namespace {

std::string random_sid() {
  static std::mutex mu;
  static std::mt19937_64 rng{std::random_device{}()};
  std::lock_guard lk(mu);
  char buf[40];
  uint64_t a = rng(), b = rng();
  std::snprintf(buf, sizeof buf, "%08x%04x4%03x%04x%012llx", static_cast<unsigned>(a >> 32),
                static_cast<unsigned>((a >> 16) & 0xffff), static_cast<unsigned>(a & 0xfff),
                static_cast<unsigned>(0x8000 | ((b >> 48) & 0x3fff)),
                static_cast<unsigned long long>(b & 0xffffffffffffULL));
  return buf;
}

Request to_request(const BeastRequest& b) {
  Request r;
  r.method = std::string(b.method_string());
  r.target = std::string(b.target());
  for (auto& f : b) {
    std::string name(f.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    r.headers[name] = std::string(f.value());
  }
  r.body = b.body();
  return r;
}

BeastResponse to_beast(Response&& r, unsigned version, bool keep_alive) {
  BeastResponse b{static_cast<http::status>(r.status), version};
  b.set(http::field::content_type, r.content_type);
  for (auto& [k, v] : r.headers) b.set(k, v);
  b.keep_alive(keep_alive);
  b.body() = std::move(r.body);
  b.prepare_payload();
  return b;
}

// ---- WebSocket session ------------------------------------------------------------------------------
class WsSession : public WsClient, public std::enable_shared_from_this<WsSession> {
 public:
  WsSession(tcp::socket&& s, Listener& l) : ws_(std::move(s)), l_(l) {}

  void run(BeastRequest req) {
    auto t = parse_target(req.target());
    auto it = t.query.find("clientId");
    sid_ = it != t.query.end() && !it->second.empty() && it->second.size() <= 128 ? it->second : random_sid();
    ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    ws_.read_message_max(l_.options().max_ws_message_bytes);
    auto cors = l_.options().cors_origin;
    ws_.set_option(websocket::stream_base::decorator([cors](websocket::response_type& r) {
      r.set(http::field::server, "vkflow");
      if (!cors.empty()) r.set(http::field::access_control_allow_origin, cors);
    }));
    ws_.async_accept(req, [self = shared_from_this()](beast::error_code ec) { self->on_accept(ec); });
  }

  void send(std::shared_ptr<const std::string> data, bool binary) override {
    net::post(ws_.get_executor(), [self = shared_from_this(), data, binary] {
      if (self->closed_) return;
      if (self->q_.size() >= self->l_.options().max_ws_queue) {  // a client that does not read is dropped
        self->close();
        return;
      }
      self->q_.emplace_back(data, binary);
      if (self->q_.size() == 1) self->write_next();
    });
  }

 private:
  void on_accept(beast::error_code ec) {
    if (ec) return;
    l_.hub().add(sid_, shared_from_this());
    if (l_.hub().on_connect) send(std::make_shared<const std::string>(l_.hub().on_connect(sid_).dump()), false);
    read();
  }
  void read() {
    ws_.async_read(rbuf_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->close();
      self->rbuf_.consume(self->rbuf_.size());  // client messages carry nothing we act on (as ComfyUI)
      self->read();
    });
  }
  void write_next() {
    ws_.binary(q_.front().second);
    ws_.async_write(net::buffer(*q_.front().first), [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->close();
      self->q_.pop_front();
      if (!self->q_.empty()) self->write_next();
    });
  }
  void close() {
    if (closed_) return;
    closed_ = true;
    q_.clear();
    l_.hub().remove(sid_, this);
    beast::error_code ec;
    beast::get_lowest_layer(ws_).socket().shutdown(tcp::socket::shutdown_both, ec);
    beast::get_lowest_layer(ws_).socket().close(ec);
  }

  websocket::stream<beast::tcp_stream> ws_;
  Listener& l_;
  std::string sid_;
  beast::flat_buffer rbuf_;
  std::deque<std::pair<std::shared_ptr<const std::string>, bool>> q_;
  bool closed_ = false;
};

// ---- HTTP session -----------------------------------------------------------------------------------
class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(tcp::socket&& s, Listener& l) : stream_(std::move(s)), l_(l) {}
  void run() { read(); }

 private:
  void read() {
    parser_.emplace();
    parser_->header_limit(16 * 1024);
    // The larger limit while the header is read (Beast checks Content-Length against it there); the
    // route's own limit is applied once the target is known.
    parser_->body_limit(std::max(l_.options().max_body_bytes, l_.options().max_upload_bytes));
    stream_.expires_after(std::chrono::seconds(l_.options().timeout_s));
    http::async_read_header(stream_, buf_, *parser_,
                            [self = shared_from_this()](beast::error_code ec, size_t) { self->on_header(ec); });
  }
  void on_header(beast::error_code ec) {
    if (ec) return fail(ec);
    const size_t limit = parser_->get().target().starts_with("/upload/") ? l_.options().max_upload_bytes
                                                                         : l_.options().max_body_bytes;
    if (parser_->content_length() && *parser_->content_length() > limit) return fail(http::error::body_limit);
    parser_->body_limit(limit);  // chunked bodies: checked as they arrive
    http::async_read(stream_, buf_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, size_t) { self->on_read(ec); });
  }
  void fail(beast::error_code ec) {
    if (ec == http::error::body_limit) return reply_error(http::status::payload_too_large, "request body too large");
    if (ec == http::error::header_limit) return reply_error(http::status::request_header_fields_too_large, "headers too large");
    if (ec.category() == http::make_error_code(http::error::bad_target).category() && ec != http::error::end_of_stream &&
        ec != http::error::partial_message)
      return reply_error(http::status::bad_request, "malformed HTTP request: " + ec.message());
    shutdown();
  }
  void reply_error(http::status st, const std::string& msg) {
    write(to_beast(text_response(static_cast<int>(st), msg + "\n"), 11, false));
  }
  void on_read(beast::error_code ec) {
    if (ec) return fail(ec);
    BeastRequest breq = parser_->release();
    Request req = to_request(breq);
    const unsigned v = breq.version();
    const bool ka = breq.keep_alive();
    if (websocket::is_upgrade(breq)) {
      auto t = parse_target(req.target);
      if (t.path != "/ws") return write(to_beast(text_response(404, "not found\n"), v, false));
      if (!l_.authorized(req)) return write(to_beast(text_response(401, "unauthorized\n"), v, false));
      if (!l_.origin_ok(req)) return write(to_beast(text_response(403, "cross-origin refused\n"), v, false));
      stream_.expires_never();
      std::make_shared<WsSession>(stream_.release_socket(), l_)->run(std::move(breq));
      return;
    }
    Response resp = l_.handle(req);
    auto sent = std::move(resp.on_sent);
    write(to_beast(std::move(resp), v, ka), std::move(sent));
  }
  void write(BeastResponse r, std::shared_ptr<void> on_sent = {}) {
    auto sp = std::make_shared<BeastResponse>(std::move(r));
    stream_.expires_after(std::chrono::seconds(l_.options().timeout_s));
    http::async_write(stream_, *sp, [self = shared_from_this(), sp, on_sent](beast::error_code ec, size_t) mutable {
      on_sent.reset();  // the reply is out (or the connection failed): release what waited for it
      if (ec || sp->need_eof()) return self->shutdown();
      self->read();
    });
  }
  void shutdown() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.close();
  }

  beast::tcp_stream stream_;
  Listener& l_;
  beast::flat_buffer buf_;
  std::optional<http::request_parser<http::string_body>> parser_;
};

// Constant-time comparison so the token cannot be guessed byte by byte from timings.
bool same(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char d = 0;
  for (size_t i = 0; i < a.size(); ++i) d |= static_cast<unsigned char>(a[i] ^ b[i]);
  return d == 0;
}

}  // namespace

struct Listener::Impl {
  Impl() : acceptor(net::make_strand(ioc)) {}
  net::io_context ioc;
  tcp::acceptor acceptor;
};

Listener::Listener(NetOptions opt, HttpHandler handler, WsHub& hub)
    : opt_(std::move(opt)), handler_(std::move(handler)), hub_(hub), impl_(std::make_unique<Impl>()) {
  beast::error_code ec;
  auto addr = net::ip::make_address(opt_.listen, ec);
  if (ec) throw std::runtime_error("--listen: not an IP address: '" + opt_.listen + "'");
  tcp::endpoint ep{addr, opt_.port};
  auto& a = impl_->acceptor;
  a.open(ep.protocol(), ec);
  if (!ec) a.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) a.bind(ep, ec);
  if (!ec) a.listen(net::socket_base::max_listen_connections, ec);
  if (ec) throw std::runtime_error("cannot listen on " + opt_.listen + ":" + std::to_string(opt_.port) + ": " + ec.message());
  port_ = a.local_endpoint().port();
}

Listener::~Listener() { stop(); }

void Listener::accept() {
  impl_->acceptor.async_accept(net::make_strand(impl_->ioc), [this](beast::error_code ec, tcp::socket s) {
    if (ec == net::error::operation_aborted) return;
    if (!ec) std::make_shared<HttpSession>(std::move(s), *this)->run();
    accept();
  });
}

void Listener::start(int threads) {
  accept();
  for (int i = 0; i < std::max(1, threads); ++i) threads_.emplace_back([this] { impl_->ioc.run(); });
}

void Listener::stop() {
  if (threads_.empty()) return;
  net::post(impl_->acceptor.get_executor(), [this] {
    beast::error_code ec;
    impl_->acceptor.close(ec);
  });
  impl_->ioc.stop();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

bool Listener::authorized(const Request& req) const {
  if (opt_.auth_token.empty()) return true;
  std::string h = req.header("authorization");
  if (h.starts_with("Bearer ") && same(h.substr(7), opt_.auth_token)) return true;
  auto t = parse_target(req.target);
  auto it = t.query.find("token");
  return it != t.query.end() && same(it->second, opt_.auth_token);
}

void Listener::add_cors(Response& r) const {
  if (opt_.cors_origin.empty()) return;
  r.headers.emplace_back("Access-Control-Allow-Origin", opt_.cors_origin);
  r.headers.emplace_back("Access-Control-Allow-Methods", "POST, GET, DELETE, PUT, OPTIONS, PATCH");
  r.headers.emplace_back("Access-Control-Allow-Headers", "Content-Type, Authorization");
  r.headers.emplace_back("Access-Control-Allow-Credentials", "true");
}

// Without --enable-cors-header, a browser page from another origin may not drive the server (ComfyUI's
// origin-only middleware): Origin's host must equal Host.
bool Listener::origin_ok(const Request& req) const {
  if (!opt_.cors_origin.empty()) return true;
  std::string origin = req.header("origin");
  if (origin.empty()) return true;
  auto p = origin.find("://");
  std::string host = p == std::string::npos ? origin : origin.substr(p + 3);
  return host == req.header("host");
}

Response Listener::handle(const Request& req) const {
  Response r;
  if (req.method == "OPTIONS" && !opt_.cors_origin.empty()) {
    r = text_response(200, "");
  } else if (!authorized(req)) {
    r = json_response(401, {{"error", "unauthorized"}});
    r.headers.emplace_back("WWW-Authenticate", "Bearer");
  } else if (!origin_ok(req)) {
    r = text_response(403, "cross-origin request refused\n");
  } else if (req.method == "OPTIONS") {  // ComfyUI's origin-only middleware answers a same-origin OPTIONS too
    r = text_response(200, "");
  } else {
    try {
      r = handler_(req);
    } catch (const std::exception& e) {
      r = json_response(500, {{"error", e.what()}});
    }
  }
  r.headers.emplace_back("Server", "vkflow");
  add_cors(r);
  return r;
}

}  // namespace vkf::server
