// The network side of `vkflow serve`, on Boost.Beast over Asio: an acceptor, one HTTP session per
// connection (Beast's parser with header/body limits and an idle timeout, so stalled clients are dropped),
// WebSocket upgrade on /ws, bearer/`token` auth, CORS, and the WebSocket hub that fans messages out.
#pragma once
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "server/http_util.h"
#include "server/message_sink.h"

namespace vkf::server {

struct NetOptions {
  std::string listen = "127.0.0.1";
  uint16_t port = 8188;                    // 0: any free port (tests)
  std::string auth_token;                  // empty: no auth
  std::string cors_origin;                 // empty: no CORS headers (and cross-origin requests refused)
  size_t max_body_bytes = 16u << 20;       // every route but /upload/*
  size_t max_upload_bytes = 64u << 20;     // /upload/*
  size_t max_ws_message_bytes = 64u << 10; // client -> server
  size_t max_ws_queue = 4096;              // messages waiting for a slow client before it is dropped
  int timeout_s = 30;                      // idle/stalled HTTP read or write
};

// A connected WebSocket client.
class WsClient {
 public:
  virtual ~WsClient() = default;
  virtual void send(std::shared_ptr<const std::string> data, bool binary) = 0;
};

class WsHub : public MessageSink {
 public:
  void add(const std::string& sid, std::shared_ptr<WsClient> c);
  void remove(const std::string& sid, const WsClient* c);
  // To `sid`'s sockets, or to everyone when sid is empty (ComfyUI's send_sync(sid=None)).
  void send(const std::string& sid, std::string data, bool binary) override;
  size_t size() const;
  std::function<nlohmann::json(const std::string& sid)> on_connect;  // first message to a new socket

 private:
  mutable std::mutex mu_;
  std::multimap<std::string, std::weak_ptr<WsClient>> clients_;
};

using HttpHandler = std::function<Response(const Request&)>;

class Listener {
 public:
  Listener(NetOptions opt, HttpHandler handler, WsHub& hub);  // binds now; throws on failure
  ~Listener();
  uint16_t port() const { return port_; }
  void start(int threads);  // serves on background threads
  void stop();              // stops accepting and joins the threads
  const NetOptions& options() const { return opt_; }

  // Shared with the sessions.
  bool authorized(const Request& req) const;
  void add_cors(Response& r) const;
  bool origin_ok(const Request& req) const;
  Response handle(const Request& req) const;  // auth, CORS, origin, then the handler
  WsHub& hub() { return hub_; }

 private:
  void accept();
  NetOptions opt_;
  HttpHandler handler_;
  WsHub& hub_;
  struct Impl;  // the Asio io_context and acceptor (Beast and Asio stay inside listener.cpp)
  std::unique_ptr<Impl> impl_;
  uint16_t port_ = 0;
  std::vector<std::thread> threads_;
};

}  // namespace vkf::server
