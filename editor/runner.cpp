#include "editor/runner.h"

#include <algorithm>
#include <cmath>

#include "engine/io/png.h"

namespace vkf::editor {

std::shared_ptr<const Image> load_rgb(const std::filesystem::path& file) {
  try {
    io::DecodedImage d = io::load_image(file);
    auto img = std::make_shared<Image>();
    img->width = d.width, img->height = d.height;
    img->rgb.resize(size_t(d.width) * d.height * 3);
    for (size_t i = 0; i < size_t(d.width) * d.height; ++i)
      for (int c = 0; c < 3; ++c)
        img->rgb[i * 3 + c] = uint8_t(std::clamp(std::lround(d.rgba[i * 4 + c] * 255.0f), 0l, 255l));
    return img;
  } catch (const std::exception&) {
    return nullptr;
  }
}

Runner::Runner(graph::RunEnv env) : paths_(env.paths) {
  env.previews = true;
  env_ = env;
  q_ = std::make_unique<graph::ExecQueue>(std::move(env));
  // The run's outputs reach on_done, which keeps weak references for link inspection (the values live
  // in the output cache; kept outputs only delay dropping intermediates to the run's end).
  q_->with_executor([](graph::Executor& ex) { ex.keep_outputs(true); });
  inspector_ = std::make_unique<Inspector>(*q_, env_.services);
  q_->on_event([this](const graph::QueueItem&, const graph::Event& e) {
    std::lock_guard lock(mu_);
    inbox_.push_back(Msg{false, e, {}});
  });
  q_->on_done([this](const graph::QueueItem&, const graph::RunResult& r) {
    Msg m;
    m.done = true;
    for (auto& [id, outs] : r.outputs)
      for (size_t i = 0; i < outs.size(); ++i)
        if (auto h = held_tensor(outs[i])) m.held[{id, int(i)}] = std::move(*h);
    attach_latent_maps(m.held, r.outputs);
    m.result = r;
    m.result.outputs.clear();
    std::lock_guard lock(mu_);
    inbox_.push_back(std::move(m));
  });
}

Runner::~Runner() {  // interrupts and joins before the inbox goes
  q_->interrupt();
  inspector_.reset();  // its job may wait for the running prompt
  q_.reset();
}

void Runner::queue(const graph::Graph& g) {
  for (auto& [id, s] : nodes_) s.running = s.cached = s.done = false, s.error.clear(), s.value = s.max = 0;
  graph::QueueItem item;
  item.graph = g;
  q_->enqueue(std::move(item));
  ++queued_;
  status_ = "Queued";
  ++epoch_;
}

void Runner::cancel() { q_->interrupt(); }

std::optional<graph::RunPlan> Runner::plan(const graph::Graph& g) {
  if (busy()) return std::nullopt;
  graph::RunPlan p;
  q_->with_executor([&](graph::Executor& ex) { p = ex.plan(g, env_); });
  return p;
}

const graph::NodeStats* Runner::stats(const std::string& id) const {
  auto it = stats_.find(id);
  return it == stats_.end() ? nullptr : &it->second;
}

bool Runner::busy() const { return queued_ > 0; }

const NodeRunState* Runner::node(const std::string& id) const {
  auto it = nodes_.find(id);
  return it == nodes_.end() ? nullptr : &it->second;
}

void Runner::poll() {
  std::vector<Msg> msgs;
  {
    std::lock_guard lock(mu_);
    msgs.swap(inbox_);
  }
  inspector_->poll();
  for (auto& m : msgs) {
    if (m.done) {
      --queued_, ++finished_;
      const graph::RunResult& r = m.result;
      last_ok_ = r.ok();
      stats_ = r.stats;
      inspector_->set_values(std::move(m.held));
      for (auto& [id, s] : nodes_) s.running = false;
      switch (r.status) {
        case graph::RunStatus::Success:
          status_ = "Done: " + std::to_string(r.executed.size()) + " executed, " + std::to_string(r.cached.size()) + " cached";
          break;
        case graph::RunStatus::Invalid:
          status_ = "Invalid graph: " + std::to_string(r.validation.errors.size()) + " problem(s)";
          for (auto& e : r.validation.errors) {
            std::string& err = nodes_[e.node_id].error;  // "" id: about the whole prompt
            if (!err.empty()) err += "\n";
            err += (e.input_name.empty() ? "" : e.input_name + ": ") + e.message + (e.details.empty() ? "" : " (" + e.details + ")");
          }
          if (r.validation.errors.empty() == false && r.validation.errors.front().node_id.empty())
            status_ += ": " + r.validation.errors.front().message;
          break;
        case graph::RunStatus::Error:
          status_ = "Error in node " + r.error_node + " (" + r.error_class + "): " + r.error_message;
          nodes_[r.error_node].error = r.error_message;
          break;
        case graph::RunStatus::Interrupted: status_ = "Cancelled"; break;
      }
      ++epoch_;
      continue;
    }
    const graph::Event& e = m.event;
    switch (e.type) {
      case graph::EventType::ExecutionStart: status_ = "Running"; break;
      case graph::EventType::ExecutionCached:
        for (auto& id : e.nodes) nodes_[id].cached = true;
        break;
      case graph::EventType::Executing: {
        for (auto& [id, s] : nodes_)
          if (s.running) s.running = false, s.done = true;
        auto& s = nodes_[e.node];
        s.running = true, s.value = s.max = 0;
        status_ = "Running " + e.class_type + " (" + std::to_string(e.index) + "/" + std::to_string(e.total) + ")";
        break;
      }
      case graph::EventType::Progress: {
        auto& s = nodes_[e.node];
        s.value = e.value, s.max = e.max;
        if (e.preview) s.preview = latest_preview_ = e.preview, ++epoch_;
        break;
      }
      case graph::EventType::Executed: {
        auto& s = nodes_[e.node];
        s.running = false, s.done = true;
        if (auto it = e.output.find("images"); it != e.output.end() && it->is_array())
          for (auto& img : *it) {
            auto file = graph::ui_image_path(img, paths_);
            files_.push_back(file.string());
            if (auto rgb = load_rgb(file); rgb && &img == &it->front()) s.image = latest_image_ = rgb, ++epoch_;
          }
        break;
      }
      default: break;
    }
  }
}

}  // namespace vkf::editor
