// Orders a prompt's WebSocket messages after its POST /prompt reply. ComfyUI's single event loop writes the
// reply before the worker's first message in practice, and SDKs rely on it: they subscribe to a prompt's
// events only once they know its id. Here the worker runs on its own thread, so the messages of a prompt
// whose reply is still being written are held and sent, in order, when the reply is out.
#pragma once
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "server/message_sink.h"

namespace vkf::server {

class ReplyGate {
 public:
  explicit ReplyGate(MessageSink& sink) : st_(std::make_shared<State>(sink)) {}

  // Holds prompt_id's messages until the returned token is released (Response::on_sent). The token may
  // outlive the gate; releasing it then does nothing.
  std::shared_ptr<void> hold(const std::string& prompt_id);

  // Sends now, or queues behind the reply while prompt_id is held. Thread-safe.
  void send(const std::string& prompt_id, const std::string& sid, std::string data, bool binary);
  void send_json(const std::string& prompt_id, const std::string& sid, const nlohmann::json& msg);

 private:
  struct Held {
    std::string sid, data;
    bool binary;
  };
  struct State {
    explicit State(MessageSink& s) : sink(s) {}
    MessageSink& sink;
    std::mutex mu;  // held while sending, so a live message never overtakes the held ones
    std::map<std::string, std::vector<Held>> held;
    void release(const std::string& prompt_id);
  };
  std::shared_ptr<State> st_;
};

}  // namespace vkf::server
