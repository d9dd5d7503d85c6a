// Records a sequence of compute dispatches into ONE command buffer and submits it once (one model
// evaluation = one submit). Inserts a barrier only when a dispatch touches a buffer that an earlier
// dispatch since the last barrier wrote (RAW/WAW) or read (WAR). Optional per-dispatch GPU timestamps
// (profiling), and one timestamp pair per command buffer while the context's gpu_timing() is on.
// A planning recorder (Recorder::plan) records nothing: it collects the pipelines an evaluation would
// dispatch, so a model can build (and on lavapipe JIT-compile) them all at load, before the first image.
#pragma once
#include <cstdint>
#include <initializer_list>
#include <set>
#include <span>
#include <string>
#include <vector>

#include <vulkan/vulkan.h>

#include "engine/vk/allocator.h"
#include "engine/vk/handle.h"
#include "engine/vk/pipeline.h"

namespace vkf::vk {

class Context;

struct BufferArg {
  const Buffer* buffer = nullptr;
  uint64_t offset = 0;  // bytes
  uint64_t range = 0;   // bytes
  bool write = false;
  VkBufferView view = VK_NULL_HANDLE;  // for a texel binding (PipelineDesc::texel): the whole-buffer view
};

struct OpTiming {
  std::string label;
  double ms = 0;
  uint32_t count = 0;
};

class Recorder {
 public:
  explicit Recorder(Context& ctx, bool profile = false);
  struct Plan {};
  Recorder(Context& ctx, Plan);  // planning only: dispatch/fill/copy/submit record nothing
  ~Recorder();
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;

  Context& context() { return ctx_; }

  // Binds args as storage buffers 0..n-1 (count must equal the pipeline's contract).
  void dispatch(const PipelineDesc& desc, std::span<const BufferArg> args, const void* push, uint32_t push_bytes,
                uint32_t gx, uint32_t gy = 1, uint32_t gz = 1, const char* label = nullptr);
  void dispatch(const PipelineDesc& desc, std::initializer_list<BufferArg> args, const void* push, uint32_t push_bytes,
                uint32_t gx, uint32_t gy = 1, uint32_t gz = 1, const char* label = nullptr) {
    dispatch(desc, std::span<const BufferArg>(args.begin(), args.size()), push, push_bytes, gx, gy, gz, label);
  }
  void fill(const BufferArg& dst, uint32_t value);  // dst.range must be a multiple of 4
  void copy(const BufferArg& src, const BufferArg& dst);

  // Submits everything recorded so far and waits; the recorder is ready for more afterwards.
  void submit();
  bool empty() const { return pending_commands_ == 0; }

  bool planning() const { return planning_; }
  // Distinct pipelines dispatched so far (planning recorders only), in first-dispatch order.
  const std::vector<PipelineDesc>& planned() const { return planned_; }

  uint32_t dispatch_count() const { return total_dispatches_; }
  uint32_t submit_count() const { return total_submits_; }
  uint32_t barrier_count() const { return total_barriers_; }
  // Largest storage-buffer binding range (bytes) any dispatch since construction bound: lets tests check
  // that chunked ops kept every binding within the limit they planned for.
  uint64_t max_binding_bytes() const { return max_binding_bytes_; }
  // Per-label GPU time accumulated over all submits (profiling only), in first-seen order.
  const std::vector<OpTiming>& timings() const { return timings_; }
  double gpu_ms_total() const;

 private:
  void begin();
  void hazard(std::span<const BufferArg> args);
  VkDescriptorSet allocate_set(VkDescriptorSetLayout layout);
  void collect_timestamps();

  Context& ctx_;
  bool profile_;
  VkCommandBuffer cb_ = VK_NULL_HANDLE;
  Handle<VkFence> fence_;
  std::vector<Handle<VkDescriptorPool>> pools_;
  size_t pool_index_ = 0;
  Handle<VkQueryPool> queries_;
  uint32_t query_capacity_ = 0;  // per-dispatch queries; two more after them time the whole submit
  bool timed_submit_ = false;    // this recording writes the submit's pair
  std::vector<std::string> query_labels_;
  // Buffers written / read since the last barrier: a handful (barriers clear them), so flat vectors.
  std::vector<VkBuffer> written_, read_;
  uint32_t pending_commands_ = 0;
  uint32_t total_dispatches_ = 0, total_submits_ = 0, total_barriers_ = 0;
  uint64_t max_binding_bytes_ = 0;
  std::vector<OpTiming> timings_;
  bool recording_ = false;
  bool planning_ = false;
  std::vector<PipelineDesc> planned_;
  std::set<PipelineDesc> planned_set_;
};

}  // namespace vkf::vk
