#include "engine/graph/exec_queue.h"

#include <cstdio>
#include <random>

namespace vkf::graph {

namespace {
// A random UUID-shaped id (ComfyUI uses uuid4 for prompt ids).
std::string new_prompt_id(uint64_t counter) {
  static thread_local std::mt19937_64 rng{std::random_device{}() ^ (uint64_t(std::chrono::steady_clock::now().time_since_epoch().count()))};
  const uint64_t a = rng() ^ counter, b = rng();
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x-%04x-4%03x-%04x-%012llx", unsigned(a >> 32), unsigned((a >> 16) & 0xffff),
                unsigned(a & 0xfff), unsigned(0x8000 | (b >> 48 & 0x3fff)), (unsigned long long)(b & 0xffffffffffffull));
  return buf;
}
}  // namespace

ExecQueue::ExecQueue(RunEnv env, CacheOptions cache, const Registry& reg) : env_(std::move(env)), exec_(cache, reg) {
  env_.cancel = &cancel_;
  worker_ = std::thread([this] { work(); });
}

ExecQueue::~ExecQueue() {
  {
    std::lock_guard lk(mu_);
    stop_ = true;
    pending_.clear();
    cancel_ = true;
  }
  cv_.notify_all();
  worker_.join();
}

void ExecQueue::on_event(EventFn f) {
  std::lock_guard lk(mu_);
  on_event_ = std::move(f);
}

void ExecQueue::on_done(DoneFn f) {
  std::lock_guard lk(mu_);
  on_done_ = std::move(f);
}

QueueItem ExecQueue::enqueue(QueueItem item, bool front) {
  {
    std::lock_guard lk(mu_);
    if (item.id.empty()) item.id = new_prompt_id(++id_counter_);
    // ComfyUI: number = counter, negated for `front` so it sorts first.
    const int64_t n = next_number_++;
    item.number = front ? -n : n;
    if (front)
      pending_.push_front(item);
    else
      pending_.push_back(item);
  }
  cv_.notify_all();
  return item;
}

void ExecQueue::set_next_number(int64_t n) {
  std::lock_guard lk(mu_);
  next_number_ = n;
}

bool ExecQueue::remove(const std::string& id) {
  std::lock_guard lk(mu_);
  for (auto it = pending_.begin(); it != pending_.end(); ++it)
    if (it->id == id) {
      pending_.erase(it);
      idle_cv_.notify_all();
      return true;
    }
  return false;
}

size_t ExecQueue::clear_pending() {
  std::lock_guard lk(mu_);
  size_t n = pending_.size();
  pending_.clear();
  idle_cv_.notify_all();
  return n;
}

bool ExecQueue::interrupt(const std::string& id) {
  std::lock_guard lk(mu_);
  if (!running_ || (!id.empty() && running_->id != id)) return false;
  cancel_ = true;
  return true;
}

std::optional<QueueItem> ExecQueue::running() const {
  std::lock_guard lk(mu_);
  return running_;
}

std::vector<QueueItem> ExecQueue::pending() const {
  std::lock_guard lk(mu_);
  return {pending_.begin(), pending_.end()};
}

size_t ExecQueue::remaining() const {
  std::lock_guard lk(mu_);
  return pending_.size() + (running_ ? 1 : 0);
}

bool ExecQueue::wait_idle(std::chrono::milliseconds timeout) {
  std::unique_lock lk(mu_);
  return idle_cv_.wait_for(lk, timeout, [&] { return pending_.empty() && !running_; });
}

void ExecQueue::with_executor(const std::function<void(Executor&)>& f) {
  std::lock_guard lk(exec_mu_);
  f(exec_);
}

void ExecQueue::work() {
  for (;;) {
    QueueItem item;
    EventFn on_event;
    DoneFn on_done;
    {
      std::unique_lock lk(mu_);
      cv_.wait(lk, [&] { return stop_ || !pending_.empty(); });
      if (stop_) return;
      item = std::move(pending_.front());
      pending_.pop_front();
      running_ = item;
      cancel_ = false;  // an interrupt aimed at the previous prompt does not carry over
      on_event = on_event_, on_done = on_done_;
    }
    RunEnv env = env_;
    if (on_event) env.on_event = [&](const Event& e) { on_event(item, e); };
    RunResult res;
    {
      std::lock_guard ex(exec_mu_);
      res = exec_.run(item.graph, env);
    }
    if (on_done) on_done(item, res);
    {
      std::lock_guard lk(mu_);
      running_.reset();
    }
    idle_cv_.notify_all();
  }
}

}  // namespace vkf::graph
