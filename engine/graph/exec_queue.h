// The execution queue: prompts run one at a time on a worker thread through one Executor (so its output
// cache and the run's Services — loaded models, the GPU context — persist between prompts, as in a
// ComfyUI server). The editor and the server both run graphs through it.
//
// Threads: every method may be called from any thread. Event and done callbacks run on the worker thread,
// in order, never concurrently with each other; they must not call wait_idle() (it would wait on itself)
// but may call the other methods. Cancel (interrupt) takes effect between nodes and within one sampler
// step (samplers check it every step).
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "engine/graph/executor.h"

namespace vkf::graph {

struct QueueItem {
  std::string id;         // prompt id (unique; generated when empty)
  int64_t number = 0;     // ComfyUI's queue number: assigned on enqueue (front: negative), increasing
  // Graph::from_json({"prompt": ..., "extra_data": ...}) keeps extra_data.extra_pnginfo for SaveImage.
  Graph graph;
  std::string client_id;  // who queued it (server: for routing websocket messages)
  nlohmann::json extra_data = nlohmann::json::object();  // as queued (kept for history)
};

class ExecQueue {
 public:
  using EventFn = std::function<void(const QueueItem&, const Event&)>;
  using DoneFn = std::function<void(const QueueItem&, const RunResult&)>;

  // `env` is the template for every run: its paths, services and `previews` are used as they are; its
  // cancel and on_event are the queue's own. Starts the worker thread.
  explicit ExecQueue(RunEnv env, CacheOptions cache = {}, const Registry& reg = Registry::instance());
  ~ExecQueue();  // interrupts the running prompt, drops the pending ones, joins the worker
  ExecQueue(const ExecQueue&) = delete;
  ExecQueue& operator=(const ExecQueue&) = delete;

  // Set before enqueueing (they are read by the worker under the queue's lock).
  void on_event(EventFn f);
  void on_done(DoneFn f);

  // Adds a prompt (at the head with `front`); returns it with its id and number filled in.
  QueueItem enqueue(QueueItem item, bool front = false);
  // Sets the next queue number (a server restoring a persisted queue continues its numbering).
  void set_next_number(int64_t n);
  bool remove(const std::string& id);  // a pending prompt; false when not pending
  size_t clear_pending();
  // Interrupts the running prompt (only if its id is `id`, when given); false when nothing matched.
  bool interrupt(const std::string& id = {});

  std::optional<QueueItem> running() const;
  std::vector<QueueItem> pending() const;
  size_t remaining() const;  // pending + running (ComfyUI's queue_remaining)

  // Waits until nothing is pending or running; false on timeout.
  bool wait_idle(std::chrono::milliseconds timeout = std::chrono::hours(24));
  // Runs `f` on the worker's Executor while no prompt runs (e.g. clearing the cache).
  void with_executor(const std::function<void(Executor&)>& f);

 private:
  void work();

  RunEnv env_;
  Executor exec_;
  mutable std::mutex mu_;
  std::condition_variable cv_, idle_cv_;
  std::deque<QueueItem> pending_;
  std::optional<QueueItem> running_;
  std::atomic<bool> cancel_{false};
  EventFn on_event_;
  DoneFn on_done_;
  int64_t next_number_ = 0;
  uint64_t id_counter_ = 0;
  bool stop_ = false;
  std::mutex exec_mu_;  // held while a prompt runs and by with_executor()
  std::thread worker_;
};

}  // namespace vkf::graph
