// `vkflow serve`'s application: ComfyUI's HTTP routes over the SQLite store (the persistent mirror of the
// queue and the history), the WebSocket messages of a run, and the hand-off of prompts to the engine's
// ExecQueue (one worker, one executor and cache, models loaded once). Network-free: handle() takes a
// parsed request (no Beast here), so tests call it directly as well as over a socket.
#pragma once
#include <atomic>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "engine/graph/events.h"
#include "engine/graph/exec_queue.h"
#include "engine/graph/executor.h"
#include "engine/graph/paths.h"
#include "server/http_util.h"
#include "server/message_sink.h"
#include "server/reply_gate.h"
#include "server/store.h"

namespace vkf::server {

struct AppOptions {
  graph::Paths paths;
  std::filesystem::path data_dir = "vkflow-data";  // queue.sqlite lives here
  size_t max_upload_bytes = 64u << 20;
  uint64_t max_image_pixels = uint64_t(1) << 26;    // decoded upload size (decompression bombs)
  int max_image_side = 16384;
  int device = -1;  // the Vulkan device prompts run on (/system_stats); -1: VKFLOW_DEVICE or the preferred
  // POST /prompt refuses a graph whose planned device memory (engine/graph/memory_plan.h, the check
  // `vkflow run` makes) exceeds this many bytes, with a 400 naming the node, before queueing; 0: no check.
  uint64_t device_memory_bytes = 0;
  unsigned compute_bytes = 4;  // element size the plan counts weights and activations at (2: f16)
  const graph::Registry* registry = &graph::Registry::instance();  // validation and /object_info
};

class App {
 public:
  App(AppOptions opt, MessageSink& sink);
  // Connects the queue (its event/done callbacks) and submits what the store holds: after a crash, the
  // prompt that was running is queued again with the pending ones.
  void attach(graph::ExecQueue* q);

  Response handle(const Request& req);

  // Execution reports, tagged with the prompt id.
  void on_start(const std::string& prompt_id);  // the dispatcher took the prompt
  void on_event(const std::string& prompt_id, const graph::Event& e);
  void on_preview(const std::string& prompt_id, const std::string& png_or_jpeg, bool jpeg);  // binary frame
  void on_finished(const std::string& prompt_id, const graph::RunResult& r);

  // Shutdown: a prompt interrupted from now on stays queued (it runs again after the restart).
  void stopping() { stopping_ = true; }

  Store& store() { return store_; }
  nlohmann::json status_message(const std::string& sid = "") const;  // {"type":"status",...}
  const AppOptions& options() const { return opt_; }

 private:
  Response post_prompt(const Request& req);
  Response get_queue(const Request& req);
  Response post_queue(const Request& req);
  Response post_interrupt(const Request& req);
  Response get_history(const Request& req, const std::string& id);
  Response post_history(const Request& req);
  Response view(const Request& req, const Target& t);
  Response upload(const Request& req);
  Response system_stats(const Request& req);
  Response models(const Request& req, const std::string& folder);
  Response object_info(const Request& req, const std::string& cls);
  void broadcast_status();
  std::string client_of(const std::string& prompt_id);
  nlohmann::json current_inputs(const std::string& prompt_id, const std::string& node);

  AppOptions opt_;
  MessageSink& hub_;
  ReplyGate gate_{hub_};  // a prompt's messages go through it: after its POST /prompt reply
  std::atomic<bool> stopping_{false};
  Store store_;
  graph::ExecQueue* queue_ = nullptr;
  void submit(const QueuedPrompt& p, bool front);
  std::mutex mu_;
  int64_t number_ = 0;  // ComfyUI's PromptServer.number
  struct Running {
    std::string prompt_id, client_id;
    std::vector<std::string> cached;  // execution_cached's nodes (their outputs exist: current_outputs)
    nlohmann::json messages = nlohmann::json::array();  // history status.messages
  } running_;
};

std::string new_prompt_id();  // uuid4 text

}  // namespace vkf::server
