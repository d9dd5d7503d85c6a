// Where the server's WebSocket messages go: the hub of connected sockets (listener.cpp), or a recorder in
// tests. An empty sid means every client (ComfyUI's send_sync(sid=None)).
#pragma once
#include <string>

#include <nlohmann/json.hpp>

namespace vkf::server {

class MessageSink {
 public:
  virtual ~MessageSink() = default;
  virtual void send(const std::string& sid, std::string data, bool binary) = 0;
  void send_json(const std::string& sid, const nlohmann::json& msg);  // a text frame
};

}  // namespace vkf::server
