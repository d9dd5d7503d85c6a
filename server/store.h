// The server's persistent state in one SQLite file under its data dir: the prompt queue (pending and the
// one running) and the history of finished prompts, so a server killed mid-prompt restarts with its queue
// and history. Writes use WAL + synchronous=NORMAL (durable across a process kill). Thread-safe.
#pragma once
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

struct sqlite3;

namespace vkf::server {

struct StoreError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// One queued prompt, as ComfyUI keeps it: [number, prompt_id, prompt, extra_data, outputs_to_execute].
struct QueuedPrompt {
  int64_t number = 0;
  std::string prompt_id;
  nlohmann::json prompt;      // the API-format node map
  nlohmann::json extra_data;  // includes client_id
  std::vector<std::string> outputs;
  nlohmann::json to_json() const;  // the five-element list of GET /queue and history "prompt"
};

class Store {
 public:
  explicit Store(const std::filesystem::path& file);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Prompts that were running when the process died go back to the queue (their old number, so they run
  // first); one that was running at kAttempts deaths goes to history as failed instead (it may be what
  // kills the server). Returns the re-queued ids.
  static constexpr int kAttempts = 3;
  std::vector<std::string> recover();

  void add(const QueuedPrompt& p);                // pending
  bool remove_pending(const std::string& id);     // false when not pending
  std::vector<std::string> clear_pending();       // the ids removed
  std::vector<QueuedPrompt> pending() const;      // number order
  std::optional<QueuedPrompt> running() const;
  std::optional<QueuedPrompt> take_next();        // first pending -> running
  std::optional<QueuedPrompt> mark_running(const std::string& id);  // that pending one -> running
  bool exists(const std::string& id) const;       // queued, running or in history
  int64_t max_number() const;                    // largest number seen (0 when empty)

  // The running prompt is done: its history entry replaces its queue row in one transaction.
  void finish(const std::string& id, const nlohmann::json& history_entry);
  // History entries, oldest first; max_items < 0 means all; offset from the oldest.
  std::vector<std::pair<std::string, nlohmann::json>> history(long max_items = -1, long offset = 0) const;
  std::optional<nlohmann::json> history_entry(const std::string& id) const;
  void delete_history(const std::string& id);
  void clear_history();

 private:
  void exec(const char* sql) const;
  std::vector<QueuedPrompt> select_queue(const char* where) const;
  sqlite3* db_ = nullptr;
  mutable std::mutex mu_;
};

}  // namespace vkf::server
