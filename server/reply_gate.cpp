#include "server/reply_gate.h"

namespace vkf::server {

std::shared_ptr<void> ReplyGate::hold(const std::string& prompt_id) {
  {
    std::lock_guard lk(st_->mu);
    st_->held[prompt_id];
  }
  struct Token {
    std::weak_ptr<State> st;
    std::string id;
    Token(std::weak_ptr<State> s, std::string i) : st(std::move(s)), id(std::move(i)) {}
    Token(const Token&) = delete;
    Token& operator=(const Token&) = delete;
    ~Token() {
      if (auto s = st.lock()) s->release(id);
    }
  };
  return std::make_shared<Token>(st_, prompt_id);
}

void ReplyGate::State::release(const std::string& prompt_id) {
  std::lock_guard lk(mu);
  auto it = held.find(prompt_id);
  if (it == held.end()) return;
  for (auto& m : it->second) sink.send(m.sid, std::move(m.data), m.binary);
  held.erase(it);
}

void ReplyGate::send(const std::string& prompt_id, const std::string& sid, std::string data, bool binary) {
  std::lock_guard lk(st_->mu);
  if (auto it = st_->held.find(prompt_id); it != st_->held.end())
    it->second.push_back({sid, std::move(data), binary});
  else
    st_->sink.send(sid, std::move(data), binary);
}

void ReplyGate::send_json(const std::string& prompt_id, const std::string& sid, const nlohmann::json& msg) {
  send(prompt_id, sid, msg.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), false);
}

}  // namespace vkf::server
