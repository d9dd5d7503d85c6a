// Link inspection: the tensors the last run left on each output, held weakly (they live in the executor's
// output cache, not here), and their statistics (ops::tensor_stats on the GPU buffer: min/max/mean over the
// finite elements, NaN/Inf counts) plus an IMAGE thumbnail. Each value is inspected once, when a link
// carrying it is first hovered, and the result kept while the value lives. The work runs on a helper
// thread inside ExecQueue::with_executor, so it never runs beside a prompt and never on the UI thread;
// results come back through a mutex-guarded inbox, as the run's events do.
#pragma once
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "engine/graph/exec_queue.h"
#include "engine/ops/tensor_stats.h"
#include "engine/sampling/latent_preview.h"

namespace vkf::editor {

using Image = sampling::PreviewImage;  // RGB8

// A tensor inside a value of the last run (IMAGE pixels, LATENT samples, MASK, CONDITIONING's first
// context), held weakly: `tensor` points into the object `owner` keeps alive.
struct HeldTensor {
  std::weak_ptr<const void> owner;
  const Tensor* tensor = nullptr;
  std::string name;    // "pixels", "samples", ...
  bool image = false;  // IMAGE [B,H,W,C]: a thumbnail is made
  bool latent = false;  // LATENT [B,C,H,W]: a thumbnail through latent_rgb, when there is one
  std::optional<sampling::LatentRgbFactors> latent_rgb;
};
// The tensor a value holds, if it holds one of those.
std::optional<HeldTensor> held_tensor(const graph::Value& v);
// Gives each LATENT its latent -> RGB map, as the sampler's live preview would: that of a model the run
// loaded (its config sidecar's factors, else its family's) with the latent's channel count; failing
// that, ComfyUI's SD1.x map for 4 channels; else none (no thumbnail, as ComfyUI shows no preview).
void attach_latent_maps(std::map<std::pair<std::string, int>, HeldTensor>& held,
                        const std::map<std::string, graph::Outputs>& outputs);

struct Inspection {
  bool ready = false;
  std::string error;  // why there are no figures (an unsupported dtype, a device error)
  ops::TensorStats stats;
  std::shared_ptr<const Image> thumb;  // IMAGE: batch item 0, at most 128 pixels a side; LATENT: item 0 as RGB
  std::string thumb_what;              // what the thumbnail shows, or why there is none
};

// An IMAGE tensor's batch item 0 as RGB8, nearest-sampled to at most `side` pixels a side (1 or 3+
// channels; values clamped to [0,1]). Downloads only that item.
std::shared_ptr<const Image> image_thumbnail(vk::Context& ctx, const Tensor& pixels, int side = 128);

class Inspector {
 public:
  using Key = std::pair<std::string, int>;  // node id, output index
  Inspector(graph::ExecQueue& q, std::shared_ptr<graph::Services> services);
  ~Inspector();  // drops what was not started; waits for the one being computed
  Inspector(const Inspector&) = delete;
  Inspector& operator=(const Inspector&) = delete;

  // UI thread. The last run's tensors by output; forgets figures of values that no longer live.
  void set_values(std::map<Key, HeldTensor> values);
  enum class State { None, Gone, Pending, Ready };
  // UI thread: the figures of that output's tensor, asked for on the first call (Pending until they
  // arrive). None: no tensor there (or no run yet); Gone: the value is no longer held (evicted).
  State get(const Key& k, const Inspection** out);
  bool poll();  // UI thread: takes the finished inspections; true when one arrived
  int computed() const { return computed_; }  // inspections finished so far (each value once)

 private:
  struct Job {
    const void* id;
    std::shared_ptr<const void> owner;  // alive until inspected
    HeldTensor held;
  };
  void work();

  graph::ExecQueue& q_;
  std::shared_ptr<graph::Services> services_;
  std::map<Key, HeldTensor> values_;  // UI thread
  struct Entry {
    std::weak_ptr<const void> owner;
    Inspection result;
  };
  std::map<const void*, Entry> cache_;  // UI thread; by the value's object
  int computed_ = 0;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> jobs_;                                      // guarded by mu_
  std::vector<std::pair<const void*, Inspection>> finished_;  // guarded by mu_
  bool stop_ = false;
  std::thread worker_;
};

}  // namespace vkf::editor
