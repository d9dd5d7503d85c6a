// Runs the edited graph on the engine's ExecQueue (a worker thread) and keeps what the canvas shows about
// each node: running with sampler progress, cached, done, the error it failed with, its live latent
// preview and its output image. Queue events arrive on the worker thread; they are put in a small
// mutex-guarded inbox and applied on the UI thread by poll(), so the view never races the run.
#pragma once
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "editor/inspect.h"
#include "engine/graph/exec_queue.h"

namespace vkf::editor {

struct NodeRunState {
  bool running = false, cached = false, done = false;
  uint64_t value = 0, max = 0;  // sampler steps
  std::string error;            // the failure shown on the node (validation or execution)
  std::shared_ptr<const Image> preview;  // the latest latent preview (samplers)
  std::shared_ptr<const Image> image;    // the first output image (SaveImage / PreviewImage)
};

class Runner {
 public:
  explicit Runner(graph::RunEnv env);
  ~Runner();

  // Queues a copy of the graph; clears the previous run's marks but keeps previews and images.
  void queue(const graph::Graph& g);
  void cancel();
  // What a run of `g` would do now (which nodes execute, which come from the cache), asked of the queue's
  // executor. Only while idle (it would wait for a running prompt): nullopt when busy.
  std::optional<graph::RunPlan> plan(const graph::Graph& g);
  void poll();  // UI thread: applies what the worker reported
  bool busy() const;  // queued or running (as of the last poll)

  const std::map<std::string, NodeRunState>& nodes() const { return nodes_; }
  const NodeRunState* node(const std::string& id) const;
  // The last finished run's per-node figures (time, output bytes, output types and summaries).
  const std::map<std::string, graph::NodeStats>& stats() const { return stats_; }
  const graph::NodeStats* stats(const std::string& id) const;
  const std::string& status() const { return status_; }  // one line about the last run
  int finished_runs() const { return finished_; }
  bool last_ok() const { return last_ok_; }
  std::shared_ptr<const Image> latest_preview() const { return latest_preview_; }
  std::shared_ptr<const Image> latest_image() const { return latest_image_; }
  const std::vector<std::string>& output_files() const { return files_; }
  const graph::Paths& paths() const { return paths_; }
  uint64_t epoch() const { return epoch_; }  // bumps when something the canvas lays out changes
  // The last run's tensors by output, inspected on demand (link hover).
  Inspector& inspector() { return *inspector_; }

 private:
  struct Msg {
    bool done = false;
    graph::Event event;
    graph::RunResult result;
    std::map<Inspector::Key, HeldTensor> held;  // done: the run's tensors, held weakly
  };
  graph::Paths paths_;
  graph::RunEnv env_;  // what plan() checks with (the queue keeps its own copy for runs)
  std::map<std::string, graph::NodeStats> stats_;
  std::unique_ptr<graph::ExecQueue> q_;
  std::unique_ptr<Inspector> inspector_;
  std::mutex mu_;
  std::vector<Msg> inbox_;
  int queued_ = 0;  // UI thread: prompts queued minus finished
  std::map<std::string, NodeRunState> nodes_;
  std::string status_ = "Ready";
  int finished_ = 0;
  bool last_ok_ = false;
  std::shared_ptr<const Image> latest_preview_, latest_image_;
  std::vector<std::string> files_;
  uint64_t epoch_ = 0;
};

// An image file as RGB8 (nullptr when it cannot be read).
std::shared_ptr<const Image> load_rgb(const std::filesystem::path& file);

}  // namespace vkf::editor
