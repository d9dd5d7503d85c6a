#include "server/app.h"

#include <algorithm>
#include <chrono>
#include <random>

#include "engine/graph/graph.h"
#include "engine/graph/memory_plan.h"
#include "engine/graph/validate.h"
#include "engine/io/png.h"
#include "server/request_check.h"

namespace vkf::server {
using nlohmann::json;

std::string new_prompt_id() {
  static std::mutex mu;
  static std::mt19937_64 rng{std::random_device{}()};
  std::lock_guard lk(mu);
  uint64_t a = rng(), b = rng();
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x-%04x-4%03x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                static_cast<unsigned>((a >> 16) & 0xffff), static_cast<unsigned>(a & 0xfff),
                static_cast<unsigned>(0x8000 | ((b >> 48) & 0x3fff)),
                static_cast<unsigned long long>(b & 0xffffffffffffULL));
  return buf;
}

namespace {
int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

void MessageSink::send_json(const std::string& sid, const json& msg) {
  send(sid, msg.dump(-1, ' ', false, json::error_handler_t::replace), false);
}

App::App(AppOptions opt, MessageSink& sink) : opt_(std::move(opt)), hub_(sink), store_(opt_.data_dir / "queue.sqlite") {
  opt_.paths.allow_absolute_inputs = false;  // validation: a request's file names stay below the folders
  number_ = store_.max_number() + 1;
}

void App::submit(const QueuedPrompt& p, bool front) {
  graph::QueueItem item;
  item.id = p.prompt_id;
  item.graph = graph::Graph::from_json({{"prompt", p.prompt}, {"extra_data", p.extra_data}});
  item.client_id = p.extra_data.value("client_id", "");
  item.extra_data = p.extra_data;
  queue_->set_next_number(std::abs(p.number));
  queue_->enqueue(std::move(item), front);
}

void App::attach(graph::ExecQueue* q) {
  queue_ = q;
  if (!q) return;
  q->on_event([this](const graph::QueueItem& it, const graph::Event& e) {
    if (e.type == graph::EventType::ExecutionStart) on_start(it.id);
    on_event(it.id, e);
    if (e.preview && e.preview->width > 0) {
      auto png = io::encode_png(e.preview->rgb, e.preview->width, e.preview->height, 3, {});
      on_preview(it.id, std::string(png.begin(), png.end()), false);
    }
  });
  q->on_done([this](const graph::QueueItem& it, const graph::RunResult& r) { on_finished(it.id, r); });
  // A prompt that was running when the process died is queued again (ahead of the rest: number order).
  store_.recover();
  std::lock_guard lk(mu_);
  for (auto& p : store_.pending()) submit(p, false);
  q->set_next_number(number_);
}

json App::status_message(const std::string& sid) const {
  json d = {{"status", {{"exec_info", {{"queue_remaining", store_.pending().size() + (store_.running() ? 1 : 0)}}}}}};
  if (!sid.empty()) d["sid"] = sid;
  return {{"type", "status"}, {"data", d}};
}

void App::broadcast_status() { hub_.send_json("", status_message()); }

Response App::handle(const Request& req) {
  Target t = parse_target(req.target);
  if (!t.ok) return json_response(400, {{"error", "malformed percent-encoding"}});
  const std::string& p = t.path;
  const bool get = req.method == "GET", post = req.method == "POST";
  auto starts = [&](std::string_view pre) { return p.size() > pre.size() && p.starts_with(pre); };
  if (get && p == "/prompt")
    return json_response(200, status_message()["data"]["status"]);
  if (post && p == "/prompt") return post_prompt(req);
  if (get && p == "/queue") return get_queue(req);
  if (post && p == "/queue") return post_queue(req);
  if (post && p == "/interrupt") return post_interrupt(req);
  if (get && p == "/history") return get_history(req, "");
  if (get && starts("/history/")) return get_history(req, p.substr(9));
  if (post && p == "/history") return post_history(req);
  if (get && p == "/view") return view(req, t);
  if (post && p == "/upload/image") return upload(req);
  if (get && p == "/object_info") return object_info(req, "");
  if (get && starts("/object_info/")) return object_info(req, p.substr(13));
  if (get && p == "/system_stats") return system_stats(req);
  if (get && p == "/models") return models(req, "");
  if (get && starts("/models/")) return models(req, p.substr(8));
  if (get && p == "/embeddings") return models(req, "\x01embeddings");
  if (get && p == "/features")
    return json_response(200,
                         {{"supports_preview_metadata", false}, {"max_upload_size", opt_.max_upload_bytes}});
  if (get && p == "/") return text_response(200, "vkflow server (ComfyUI API)\n");
  return json_response(404, {{"error", "not found"}});
}

Response App::post_prompt(const Request& req) {
  auto checked = check_prompt_request(req, *opt_.registry, opt_.paths);
  if (auto* r = std::get_if<Response>(&checked)) return *r;
  auto& pr = std::get<PromptRequest>(checked);
  const json* body = &pr.body;
  // The device-memory plan, as `vkflow run` checks it: a prompt that cannot fit is refused now, with
  // ComfyUI's node_errors naming the node, instead of failing in the queue minutes later.
  if (opt_.device_memory_bytes) {
    auto g = graph::Graph::from_json(pr.prompt());
    const auto plan = graph::estimate_memory(g, opt_.paths, {opt_.compute_bytes});
    if (auto err = graph::check_memory_plan(plan, opt_.device_memory_bytes)) {
      graph::ValidationResult v;
      v.outputs = pr.outputs;
      graph::ValidationError e;
      e.type = "device_memory_exceeded";
      e.message = "Planned device memory does not fit";
      e.details = *err;
      if (const auto* l = plan.largest()) e.node_id = l->node, e.class_type = l->class_type;
      else if (!pr.outputs.empty()) e.node_id = pr.outputs.front(), e.class_type = g.find(e.node_id)->class_type;
      v.errors.push_back(e);
      return json_response(400, v.to_json());
    }
  }

  QueuedPrompt q;
  q.prompt = pr.prompt();
  q.outputs = std::move(pr.outputs);
  q.extra_data = body->value("extra_data", json::object());
  if (!q.extra_data.is_object()) q.extra_data = json::object();
  if (auto it = body->find("client_id"); it != body->end() && it->is_string()) q.extra_data["client_id"] = *it;
  // As ComfyUI's post_prompt: the comfy.org credentials (SENSITIVE_EXTRA_DATA_KEYS) never reach /queue or
  // /history (vkflow has no API nodes that would use them, so they are not kept at all), and create_time
  // (ms) is added.
  for (const char* k : {"auth_token_comfy_org", "api_key_comfy_org"}) q.extra_data.erase(k);
  q.extra_data["create_time"] = now_ms();
  q.prompt_id = new_prompt_id();
  if (auto it = body->find("prompt_id"); it != body->end() && it->is_string()) {
    const std::string& id = it->get_ref<const std::string&>();
    if (id.empty() || id.size() > 128)
      return json_response(400, error_body("invalid_prompt", "Invalid prompt_id"));
    if (store_.exists(id))
      return json_response(400,
                           error_body("invalid_prompt", "prompt_id already used", id));
    q.prompt_id = id;
  }
  const bool front = body->value("front", false) == true;
  auto sent = gate_.hold(q.prompt_id);  // before the worker can see the prompt
  {
    std::lock_guard lk(mu_);
    q.number = front ? -number_ : number_;
    ++number_;
    store_.add(q);  // persisted before the worker can see it
    if (queue_) submit(q, front);
  }
  broadcast_status();
  auto r = json_response(200, {{"prompt_id", q.prompt_id}, {"number", q.number}, {"node_errors", json::object()}});
  r.on_sent = std::move(sent);
  return r;
}

Response App::get_queue(const Request&) {
  json running = json::array(), pending = json::array();
  if (auto r = store_.running()) running.push_back(r->to_json());
  for (auto& p : store_.pending()) pending.push_back(p.to_json());
  return json_response(200, {{"queue_running", running}, {"queue_pending", pending}});
}

Response App::post_queue(const Request& req) {
  auto body = parse_json_body(req);
  if (!body || !body->is_object()) return json_response(400, {{"error", "invalid JSON"}});
  if (body->value("clear", false) == true)
    for (auto& id : store_.clear_pending())
      if (queue_) queue_->remove(id);
  if (auto it = body->find("delete"); it != body->end() && it->is_array())
    for (auto& id : *it)
      if (id.is_string() && store_.remove_pending(id.get<std::string>()) && queue_)
        queue_->remove(id.get<std::string>());
  broadcast_status();
  return text_response(200, "");
}

Response App::post_interrupt(const Request& req) {
  auto body = parse_json_body(req);
  std::string only;
  if (body && body->is_object())
    if (auto it = body->find("prompt_id"); it != body->end() && it->is_string()) only = *it;
  if (queue_) queue_->interrupt(only);
  return text_response(200, "");
}

Response App::get_history(const Request& req, const std::string& id) {
  json out = json::object();
  if (!id.empty()) {
    if (auto e = store_.history_entry(id)) out[id] = *e;
    return json_response(200, out);
  }
  auto t = parse_target(req.target);
  long max_items = -1, offset = -1;
  try {
    if (t.query.count("max_items")) max_items = std::stol(t.query["max_items"]);
    if (t.query.count("offset")) offset = std::stol(t.query["offset"]);
  } catch (const std::exception&) {
    return json_response(400, {{"error", "max_items/offset must be integers"}});
  }
  if (offset < 0 && max_items >= 0) {  // ComfyUI: the latest max_items
    long n = static_cast<long>(store_.history().size());
    offset = std::max(0L, n - max_items);
  }
  for (auto& [k, v] : store_.history(max_items, std::max(0L, offset))) out[k] = v;
  return json_response(200, out);
}

Response App::post_history(const Request& req) {
  auto body = parse_json_body(req);
  if (!body || !body->is_object()) return json_response(400, {{"error", "invalid JSON"}});
  if (body->value("clear", false) == true) store_.clear_history();
  if (auto it = body->find("delete"); it != body->end() && it->is_array())
    for (auto& id : *it)
      if (id.is_string()) store_.delete_history(id.get<std::string>());
  return text_response(200, "");
}

// ---- execution reports ---------------------------------------------------------------------------
std::string App::client_of(const std::string& prompt_id) {
  std::lock_guard lk(mu_);
  return running_.prompt_id == prompt_id ? running_.client_id : std::string();
}

void App::on_start(const std::string& prompt_id) {
  std::string client;
  if (auto p = store_.mark_running(prompt_id)) client = p->extra_data.value("client_id", "");
  {
    std::lock_guard lk(mu_);
    running_ = Running{prompt_id, client, json::array()};
  }
  broadcast_status();
}


// The failing node's inputs as ComfyUI reports them: {name: [value]}; a linked input by its source
// (ComfyUI formats the object it received, which has no JSON form here either).
json App::current_inputs(const std::string& prompt_id, const std::string& node) {
  json out = json::object();
  auto q = store_.running();
  if (!q || q->prompt_id != prompt_id || !q->prompt.contains(node)) return out;
  const json& n = q->prompt[node];
  if (!n.is_object() || !n.contains("inputs") || !n["inputs"].is_object()) return out;
  for (auto& [k, v] : n["inputs"].items()) {
    if (v.is_array() && v.size() == 2 && v[0].is_string() && v[1].is_number_integer())
      out[k] = json::array({"output " + std::to_string(v[1].get<int64_t>()) + " of node " + v[0].get<std::string>()});
    else
      out[k] = json::array({v});
  }
  return out;
}

void App::on_event(const std::string& prompt_id, const graph::Event& e) {
  json msg = graph::to_json(e);
  json& d = msg["data"];
  d["prompt_id"] = prompt_id;
  using T = graph::EventType;
  if (e.type == T::Executing) d["display_node"] = e.node;
  const bool recorded = e.type == T::ExecutionStart || e.type == T::ExecutionCached || e.type == T::ExecutionSuccess ||
                        e.type == T::ExecutionError || e.type == T::ExecutionInterrupted;
  if (recorded) d["timestamp"] = now_ms();
  if (e.type == T::ExecutionError) {
    // ComfyUI's fields (execution.py, handle_execution_error): the exception's type name, its traceback as
    // a list of lines (none here: C++), the failing node's inputs as {name: [value]} and the ids of the
    // nodes whose outputs exist (a list).
    d["exception_type"] = "RuntimeError";
    d["traceback"] = json::array();
    d["current_inputs"] = current_inputs(prompt_id, e.node);
    json outs = json::array();
    {
      std::lock_guard lk(mu_);
      if (running_.prompt_id == prompt_id)
        for (auto& n : running_.cached) outs.push_back(n);
    }
    for (auto& n : e.nodes)
      if (std::find(outs.begin(), outs.end(), n) == outs.end()) outs.push_back(n);
    d["current_outputs"] = outs;
  }
  const std::string client = client_of(prompt_id);
  if (recorded) {
    std::lock_guard lk(mu_);
    if (running_.prompt_id == prompt_id) {
      running_.messages.push_back(json::array({msg["type"], d}));
      if (e.type == T::ExecutionCached) running_.cached = e.nodes;
    }
  }
  gate_.send_json(prompt_id, client, msg);
}

void App::on_preview(const std::string& prompt_id, const std::string& bytes, bool jpeg) {
  // ComfyUI's framing: big-endian u32 event type (1 = PREVIEW_IMAGE), u32 image type (1 JPEG, 2 PNG), bytes.
  std::string frame(8, '\0');
  const uint32_t fmt = jpeg ? 1 : 2;
  frame[3] = 1;
  frame[7] = static_cast<char>(fmt);
  frame += bytes;
  gate_.send(prompt_id, client_of(prompt_id), std::move(frame), true);
}

void App::on_finished(const std::string& prompt_id, const graph::RunResult& r) {
  // Stopped by SIGTERM/SIGINT mid-run: the prompt stays in the queue (marked running), so the restarted
  // server runs it again, as after a crash.
  if (stopping_ && r.status == graph::RunStatus::Interrupted) return;
  json entry;
  json messages;
  {
    std::lock_guard lk(mu_);
    messages = running_.prompt_id == prompt_id ? running_.messages : json::array();
  }
  auto q = store_.running();
  if (q && q->prompt_id == prompt_id) entry["prompt"] = q->to_json();
  else
    for (auto& p : store_.pending())
      if (p.prompt_id == prompt_id) entry["prompt"] = p.to_json();
  json outputs = json::object(), meta = json::object();
  for (auto& [node, ui] : r.ui) {
    outputs[node] = ui;
    meta[node] = {{"node_id", node}, {"display_node", node}, {"parent_node", nullptr}, {"real_node_id", node}};
  }
  entry["outputs"] = outputs;
  entry["meta"] = meta;
  entry["status"] = {{"status_str", r.ok() ? "success" : "error"}, {"completed", r.ok()}, {"messages", messages}};
  if (r.status == graph::RunStatus::Invalid) {  // the graph no longer validates (a file went away)
    json err = r.validation.to_json();
    err["prompt_id"] = prompt_id;
    entry["status"]["messages"].push_back(json::array({"execution_error", err}));
    gate_.send_json(prompt_id, client_of(prompt_id), {{"type", "execution_error"}, {"data", err}});
  }
  store_.finish(prompt_id, entry);
  const std::string client = client_of(prompt_id);
  {
    std::lock_guard lk(mu_);
    if (running_.prompt_id == prompt_id) running_ = Running{};
  }
  // ComfyUI ends a run with executing(null) once the history entry is stored (main.py's prompt_worker);
  // clients wait for it, then read /history.
  gate_.send_json(prompt_id, client,
                  {{"type", "executing"}, {"data", {{"node", nullptr}, {"display_node", nullptr}, {"prompt_id", prompt_id}}}});
  broadcast_status();
}

}  // namespace vkf::server
