#include "server/store.h"

#include <sqlite3.h>

#include <cstdlib>

namespace vkf::server {

nlohmann::json QueuedPrompt::to_json() const {
  return nlohmann::json::array({number, prompt_id, prompt, extra_data, outputs});
}

namespace {

// One prepared statement, finalised on scope exit.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &s_, nullptr) != SQLITE_OK)
      throw StoreError(std::string("sqlite: ") + sqlite3_errmsg(db));
  }
  ~Stmt() { sqlite3_finalize(s_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  Stmt& bind(int i, const std::string& v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& bind(int i, double v) {
    sqlite3_bind_double(s_, i, v);
    return *this;
  }
  Stmt& bind(int i, int64_t v) {
    sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  bool step() {
    int rc = sqlite3_step(s_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw StoreError(std::string("sqlite: ") + sqlite3_errmsg(db_));
  }
  std::string text(int col) const {
    auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s_, col));
    return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(s_, col))) : std::string();
  }
  int64_t integer(int col) const { return sqlite3_column_int64(s_, col); }

 private:
  sqlite3* db_;
  sqlite3_stmt* s_ = nullptr;
};

QueuedPrompt row_to_prompt(const Stmt& s) {
  QueuedPrompt p;
  p.number = s.integer(0);
  p.prompt_id = s.text(1);
  p.prompt = nlohmann::json::parse(s.text(2));
  p.extra_data = nlohmann::json::parse(s.text(3));
  p.outputs = nlohmann::json::parse(s.text(4)).get<std::vector<std::string>>();
  return p;
}

}  // namespace

Store::Store(const std::filesystem::path& file) {
  std::filesystem::create_directories(file.parent_path());
  if (sqlite3_open(file.c_str(), &db_) != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    throw StoreError("cannot open " + file.string() + ": " + msg);
  }
  sqlite3_busy_timeout(db_, 5000);
  exec("PRAGMA journal_mode=WAL");
  exec("PRAGMA synchronous=NORMAL");
  exec("CREATE TABLE IF NOT EXISTS queue(prompt_id TEXT PRIMARY KEY, number INTEGER NOT NULL, prompt TEXT NOT NULL,"
       " extra TEXT NOT NULL, outputs TEXT NOT NULL, running INTEGER NOT NULL DEFAULT 0,"
       " attempts INTEGER NOT NULL DEFAULT 0)");
  exec("CREATE TABLE IF NOT EXISTS history(seq INTEGER PRIMARY KEY AUTOINCREMENT, prompt_id TEXT UNIQUE NOT NULL,"
       " entry TEXT NOT NULL)");
}

Store::~Store() { sqlite3_close(db_); }

void Store::exec(const char* sql) const {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "error";
    sqlite3_free(err);
    throw StoreError("sqlite: " + msg);
  }
}

std::vector<std::string> Store::recover() {
  std::lock_guard lk(mu_);
  std::vector<std::string> ids;
  exec("BEGIN IMMEDIATE");
  try {
    exec("UPDATE queue SET attempts=attempts+1 WHERE running=1");
    // A prompt the server died on kAttempts times would kill it again: it goes to history as failed.
    std::vector<QueuedPrompt> failed;
    {
      Stmt s(db_, "SELECT number, prompt_id, prompt, extra, outputs, attempts FROM queue WHERE running=1");
      while (s.step()) {
        if (s.integer(5) >= kAttempts) failed.push_back(row_to_prompt(s));
        else ids.push_back(s.text(1));
      }
    }
    for (auto& p : failed) {
      const std::string msg = "vkflow serve stopped " + std::to_string(kAttempts) + " times while running this prompt";
      nlohmann::json err = {{"prompt_id", p.prompt_id}, {"exception_message", msg}, {"exception_type", "ServerRestart"},
                            {"node_id", nullptr}, {"node_type", nullptr}, {"executed", nlohmann::json::array()}};
      nlohmann::json entry = {{"prompt", p.to_json()}, {"outputs", nlohmann::json::object()}, {"meta", nlohmann::json::object()},
                              {"status", {{"status_str", "error"}, {"completed", false},
                                          {"messages", nlohmann::json::array({nlohmann::json::array({"execution_error", err})})}}}};
      Stmt d(db_, "DELETE FROM queue WHERE prompt_id=?");
      d.bind(1, p.prompt_id).step();
      Stmt i(db_, "INSERT OR REPLACE INTO history(prompt_id, entry) VALUES(?,?)");
      i.bind(1, p.prompt_id).bind(2, entry.dump()).step();
    }
    exec("UPDATE queue SET running=0 WHERE running=1");
    exec("COMMIT");
  } catch (...) {
    exec("ROLLBACK");
    throw;
  }
  return ids;
}

void Store::add(const QueuedPrompt& p) {
  std::lock_guard lk(mu_);
  Stmt s(db_, "INSERT INTO queue(prompt_id, number, prompt, extra, outputs) VALUES(?,?,?,?,?)");
  s.bind(1, p.prompt_id).bind(2, p.number).bind(3, p.prompt.dump()).bind(4, p.extra_data.dump());
  s.bind(5, nlohmann::json(p.outputs).dump());
  s.step();
}

bool Store::remove_pending(const std::string& id) {
  std::lock_guard lk(mu_);
  Stmt s(db_, "DELETE FROM queue WHERE prompt_id=? AND running=0");
  s.bind(1, id).step();
  return sqlite3_changes(db_) > 0;
}

std::vector<std::string> Store::clear_pending() {
  std::lock_guard lk(mu_);
  std::vector<std::string> ids;
  {
    Stmt s(db_, "SELECT prompt_id FROM queue WHERE running=0");
    while (s.step()) ids.push_back(s.text(0));
  }
  exec("DELETE FROM queue WHERE running=0");
  return ids;
}

std::vector<QueuedPrompt> Store::select_queue(const char* where) const {
  std::string sql = std::string("SELECT number, prompt_id, prompt, extra, outputs FROM queue WHERE ") + where +
                    " ORDER BY number, rowid";
  Stmt s(db_, sql.c_str());
  std::vector<QueuedPrompt> out;
  while (s.step()) out.push_back(row_to_prompt(s));
  return out;
}

std::vector<QueuedPrompt> Store::pending() const {
  std::lock_guard lk(mu_);
  return select_queue("running=0");
}

std::optional<QueuedPrompt> Store::running() const {
  std::lock_guard lk(mu_);
  auto v = select_queue("running=1");
  if (v.empty()) return std::nullopt;
  return v.front();
}

std::optional<QueuedPrompt> Store::take_next() {
  std::lock_guard lk(mu_);
  auto v = select_queue("running=0");
  if (v.empty()) return std::nullopt;
  Stmt s(db_, "UPDATE queue SET running=1 WHERE prompt_id=?");
  s.bind(1, v.front().prompt_id).step();
  return v.front();
}

std::optional<QueuedPrompt> Store::mark_running(const std::string& id) {
  std::lock_guard lk(mu_);
  Stmt s(db_, "UPDATE queue SET running=1 WHERE prompt_id=? AND running=0");
  s.bind(1, id).step();
  if (sqlite3_changes(db_) == 0) return std::nullopt;
  Stmt q(db_, "SELECT number, prompt_id, prompt, extra, outputs FROM queue WHERE prompt_id=?");
  q.bind(1, id);
  if (!q.step()) return std::nullopt;
  return row_to_prompt(q);
}

bool Store::exists(const std::string& id) const {
  std::lock_guard lk(mu_);
  Stmt s(db_, "SELECT 1 FROM queue WHERE prompt_id=?1 UNION ALL SELECT 1 FROM history WHERE prompt_id=?1");
  s.bind(1, id);
  return s.step();
}

int64_t Store::max_number() const {
  std::lock_guard lk(mu_);
  Stmt s(db_, "SELECT MAX(ABS(number)) FROM queue");
  int64_t m = s.step() ? s.integer(0) : 0;
  Stmt h(db_, "SELECT entry FROM history ORDER BY seq DESC LIMIT 1");
  if (h.step()) {
    auto e = nlohmann::json::parse(h.text(0));
    if (e.contains("prompt") && e["prompt"].is_array() && e["prompt"][0].is_number())
      m = std::max(m, std::abs(e["prompt"][0].get<int64_t>()));
  }
  return m;
}

void Store::finish(const std::string& id, const nlohmann::json& entry) {
  std::lock_guard lk(mu_);
  exec("BEGIN IMMEDIATE");
  try {
    Stmt d(db_, "DELETE FROM queue WHERE prompt_id=?");
    d.bind(1, id).step();
    Stmt i(db_, "INSERT OR REPLACE INTO history(prompt_id, entry) VALUES(?,?)");
    i.bind(1, id).bind(2, entry.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)).step();
    exec("COMMIT");
  } catch (...) {
    exec("ROLLBACK");
    throw;
  }
}

std::vector<std::pair<std::string, nlohmann::json>> Store::history(long max_items, long offset) const {
  std::lock_guard lk(mu_);
  Stmt s(db_, "SELECT prompt_id, entry FROM history ORDER BY seq LIMIT ? OFFSET ?");
  s.bind(1, int64_t(max_items < 0 ? -1 : max_items)).bind(2, int64_t(std::max(0L, offset)));
  std::vector<std::pair<std::string, nlohmann::json>> out;
  while (s.step()) out.emplace_back(s.text(0), nlohmann::json::parse(s.text(1)));
  return out;
}

std::optional<nlohmann::json> Store::history_entry(const std::string& id) const {
  std::lock_guard lk(mu_);
  Stmt s(db_, "SELECT entry FROM history WHERE prompt_id=?");
  s.bind(1, id);
  if (!s.step()) return std::nullopt;
  return nlohmann::json::parse(s.text(0));
}

void Store::delete_history(const std::string& id) {
  std::lock_guard lk(mu_);
  Stmt s(db_, "DELETE FROM history WHERE prompt_id=?");
  s.bind(1, id).step();
}

void Store::clear_history() {
  std::lock_guard lk(mu_);
  exec("DELETE FROM history");
}

}  // namespace vkf::server
