#include "engine/vk/recorder.h"

#include <algorithm>
#include <stdexcept>

#include "engine/vk/check.h"
#include "engine/vk/context.h"
#include "engine/vk/loader.h"

namespace vkf::vk {
namespace {
constexpr uint32_t kSetsPerPool = 1024;
constexpr uint32_t kMaxBindings = 12;
}  // namespace

Recorder::Recorder(Context& ctx, bool profile) : ctx_(ctx), profile_((profile || ctx.profiling()) && ctx.info().timestamps) {
  VkDevice dev = ctx.device();
  VkFenceCreateInfo fi{VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
  VkFence f = VK_NULL_HANDLE;
  check(vkCreateFence(dev, &fi, nullptr, &f), "vkCreateFence");
  fence_ = Handle<VkFence>(f, [dev](VkFence h) { vkDestroyFence(dev, h, nullptr); });
  VkCommandBufferAllocateInfo ai{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
  ai.commandPool = ctx.command_pool();
  ai.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
  ai.commandBufferCount = 1;
  std::lock_guard lock(ctx.queue_mutex());
  check(vkAllocateCommandBuffers(dev, &ai, &cb_), "vkAllocateCommandBuffers");
}

Recorder::Recorder(Context& ctx, Plan) : ctx_(ctx), profile_(false), planning_(true) {}

Recorder::~Recorder() {
  if (planning_) return;
  try {
    if (pending_commands_) submit();  // never leave recorded work unsubmitted (buffers may be reused)
  } catch (...) {
  }
  std::lock_guard lock(ctx_.queue_mutex());
  if (recording_) {
    vkEndCommandBuffer(cb_);
    ctx_.allocator().end_recording();
  }
  vkFreeCommandBuffers(ctx_.device(), ctx_.command_pool(), 1, &cb_);
}

void Recorder::begin() {
  if (recording_) return;
  VkCommandBufferBeginInfo bi{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
  bi.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
  check(vkBeginCommandBuffer(cb_, &bi), "vkBeginCommandBuffer");
  recording_ = true;
  ctx_.allocator().begin_recording();
  pool_index_ = 0;
  timed_submit_ = ctx_.gpu_timing();
  if (profile_ || timed_submit_) {
    if (!queries_) {
      query_capacity_ = profile_ ? 8192 : 0;
      VkQueryPoolCreateInfo qi{VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO};
      qi.queryType = VK_QUERY_TYPE_TIMESTAMP;
      qi.queryCount = query_capacity_ + 2;
      VkQueryPool qp = VK_NULL_HANDLE;
      check(vkCreateQueryPool(ctx_.device(), &qi, nullptr, &qp), "vkCreateQueryPool");
      VkDevice dev = ctx_.device();
      queries_ = Handle<VkQueryPool>(qp, [dev](VkQueryPool h) { vkDestroyQueryPool(dev, h, nullptr); });
    }
    vkCmdResetQueryPool(cb_, queries_, 0, query_capacity_ + 2);
    query_labels_.clear();
    if (timed_submit_) vkCmdWriteTimestamp(cb_, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, queries_, query_capacity_);
  }
}

VkDescriptorSet Recorder::allocate_set(VkDescriptorSetLayout layout) {
  VkDevice dev = ctx_.device();
  for (;;) {
    if (pool_index_ == pools_.size()) {
      VkDescriptorPoolSize ps[2] = {{VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, kSetsPerPool * kMaxBindings},
                                    {VK_DESCRIPTOR_TYPE_STORAGE_TEXEL_BUFFER, kSetsPerPool * 3}};  // conv2d_3x3_tex: 3
      VkDescriptorPoolCreateInfo pi{VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO};
      pi.maxSets = kSetsPerPool;
      pi.poolSizeCount = 2;
      pi.pPoolSizes = ps;
      VkDescriptorPool p = VK_NULL_HANDLE;
      check(vkCreateDescriptorPool(dev, &pi, nullptr, &p), "vkCreateDescriptorPool");
      pools_.emplace_back(p, [dev](VkDescriptorPool h) { vkDestroyDescriptorPool(dev, h, nullptr); });
    }
    VkDescriptorSetAllocateInfo ai{VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO};
    ai.descriptorPool = pools_[pool_index_];
    ai.descriptorSetCount = 1;
    ai.pSetLayouts = &layout;
    VkDescriptorSet set = VK_NULL_HANDLE;
    VkResult r = vkAllocateDescriptorSets(dev, &ai, &set);
    if (r == VK_SUCCESS) return set;
    if (r != VK_ERROR_OUT_OF_POOL_MEMORY && r != VK_ERROR_FRAGMENTED_POOL) check(r, "vkAllocateDescriptorSets");
    ++pool_index_;  // this pool is full until the next submit resets it
  }
}

void Recorder::hazard(std::span<const BufferArg> args) {
  const auto has = [](const std::vector<VkBuffer>& v, VkBuffer b) { return std::find(v.begin(), v.end(), b) != v.end(); };
  bool need = false;
  for (auto& a : args) {
    VkBuffer b = a.buffer->buffer;
    if (has(written_, b) || (a.write && has(read_, b))) need = true;
  }
  if (need) {
    VkMemoryBarrier mb{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
    mb.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
    mb.dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_READ_BIT |
                       VK_ACCESS_TRANSFER_WRITE_BIT;
    const VkPipelineStageFlags st = VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT;
    vkCmdPipelineBarrier(cb_, st, st, 0, 1, &mb, 0, nullptr, 0, nullptr);
    written_.clear();
    read_.clear();
    ++total_barriers_;
  }
  for (auto& a : args) {
    auto& v = a.write ? written_ : read_;
    if (!has(v, a.buffer->buffer)) v.push_back(a.buffer->buffer);
  }
}

void Recorder::dispatch(const PipelineDesc& desc, std::span<const BufferArg> args, const void* push, uint32_t push_bytes,
                        uint32_t gx, uint32_t gy, uint32_t gz, const char* label) {
  if (args.size() != desc.bindings)
    throw std::logic_error("shader '" + desc.shader + "' takes " + std::to_string(desc.bindings) + " buffers, got " +
                           std::to_string(args.size()));
  if (push_bytes != desc.push_bytes)
    throw std::logic_error("shader '" + desc.shader + "' push constants: " + std::to_string(desc.push_bytes) +
                           " bytes expected, got " + std::to_string(push_bytes));
  if (gx == 0 || gy == 0 || gz == 0) return;  // empty tensor: nothing to do
  if (planning_) {
    if (planned_set_.insert(desc).second) planned_.push_back(desc);
    ++total_dispatches_;
    return;
  }
  const Pipeline& p = ctx_.pipelines().get(desc);
  begin();
  hazard(args);
  VkDescriptorSet set = allocate_set(p.set_layout);
  VkDescriptorBufferInfo infos[kMaxBindings];
  VkWriteDescriptorSet writes[kMaxBindings];
  if (args.size() > kMaxBindings) throw std::logic_error("too many bindings");
  uint64_t max_range = ctx_.info().max_storage_buffer_range;
  for (size_t i = 0; i < args.size(); ++i) {
    writes[i] = {VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET};
    writes[i].dstSet = set;
    writes[i].dstBinding = uint32_t(i);
    writes[i].descriptorCount = 1;
    writes[i].descriptorType = desc.type(uint32_t(i));
    if (writes[i].descriptorType == VK_DESCRIPTOR_TYPE_STORAGE_TEXEL_BUFFER) {
      if (!args[i].view) throw std::logic_error("binding " + std::to_string(i) + " of '" + desc.shader + "' needs a texel view");
      writes[i].pTexelBufferView = &args[i].view;
      continue;
    }
    if (args[i].range > max_range)
      throw std::logic_error("binding " + std::to_string(i) + " of '" + desc.shader + "' spans " +
                             std::to_string(args[i].range) + " bytes > maxStorageBufferRange; the op must chunk it");
    infos[i] = {args[i].buffer->buffer, args[i].offset, std::max<uint64_t>(args[i].range, 4)};
    max_binding_bytes_ = std::max(max_binding_bytes_, args[i].range);
    writes[i].pBufferInfo = &infos[i];
  }
  vkUpdateDescriptorSets(ctx_.device(), uint32_t(args.size()), writes, 0, nullptr);
  vkCmdBindPipeline(cb_, VK_PIPELINE_BIND_POINT_COMPUTE, p.pipeline);
  vkCmdBindDescriptorSets(cb_, VK_PIPELINE_BIND_POINT_COMPUTE, p.layout, 0, 1, &set, 0, nullptr);
  if (push_bytes) vkCmdPushConstants(cb_, p.layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, push_bytes, push);
  bool timed = profile_ && query_labels_.size() * 2 + 2 <= query_capacity_;
  if (timed) vkCmdWriteTimestamp(cb_, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, queries_, uint32_t(query_labels_.size() * 2));
  vkCmdDispatch(cb_, gx, gy, gz);
  if (timed) {
    vkCmdWriteTimestamp(cb_, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, queries_, uint32_t(query_labels_.size() * 2 + 1));
    query_labels_.emplace_back(label ? label : desc.shader);
  }
  ++pending_commands_;
  ++total_dispatches_;
}

void Recorder::fill(const BufferArg& dst, uint32_t value) {
  if (planning_) return;
  begin();
  BufferArg a = dst;
  a.write = true;
  hazard(std::span<const BufferArg>(&a, 1));
  vkCmdFillBuffer(cb_, dst.buffer->buffer, dst.offset, dst.range, value);
  ++pending_commands_;
}

void Recorder::copy(const BufferArg& src, const BufferArg& dst) {
  if (planning_) return;
  begin();
  BufferArg a[2] = {src, dst};
  a[0].write = false;
  a[1].write = true;
  hazard(a);
  VkBufferCopy region{src.offset, dst.offset, std::min(src.range, dst.range)};
  vkCmdCopyBuffer(cb_, src.buffer->buffer, dst.buffer->buffer, 1, &region);
  ++pending_commands_;
}

void Recorder::submit() {
  if (!recording_) return;
  if (timed_submit_) vkCmdWriteTimestamp(cb_, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, queries_, query_capacity_ + 1);
  check(vkEndCommandBuffer(cb_), "vkEndCommandBuffer");
  recording_ = false;
  struct EndRecording {  // the work is complete (or failed) once submit() leaves
    Allocator& a;
    ~EndRecording() { a.end_recording(); }
  } end_recording{ctx_.allocator()};
  VkSubmitInfo si{VK_STRUCTURE_TYPE_SUBMIT_INFO};
  si.commandBufferCount = 1;
  si.pCommandBuffers = &cb_;
  VkFence f = fence_;
  {
    std::lock_guard lock(ctx_.queue_mutex());
    check(vkQueueSubmit(ctx_.queue(), 1, &si, f), "vkQueueSubmit");
  }
  VkResult r = vkWaitForFences(ctx_.device(), 1, &f, VK_TRUE, UINT64_MAX);
  check(r, "vkWaitForFences");
  check(vkResetFences(ctx_.device(), 1, &f), "vkResetFences");
  for (auto& p : pools_) vkResetDescriptorPool(ctx_.device(), p, 0);
  if (profile_) collect_timestamps();
  if (timed_submit_) {
    uint64_t ts[2] = {0, 0};
    check(vkGetQueryPoolResults(ctx_.device(), queries_, query_capacity_, 2, sizeof ts, ts, 8,
                                VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT),
          "vkGetQueryPoolResults");
    if (ts[1] > ts[0]) ctx_.add_gpu_ns(uint64_t(double(ts[1] - ts[0]) * ctx_.info().timestamp_period_ns));
  }
  {
    std::lock_guard lock(ctx_.queue_mutex());
    vkResetCommandBuffer(cb_, 0);
  }
  written_.clear();
  read_.clear();
  pending_commands_ = 0;
  ++total_submits_;
}

void Recorder::collect_timestamps() {
  uint32_t n = uint32_t(query_labels_.size() * 2);
  if (!n) return;
  std::vector<uint64_t> ts(n);
  check(vkGetQueryPoolResults(ctx_.device(), queries_, 0, n, n * 8, ts.data(), 8,
                              VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT),
        "vkGetQueryPoolResults");
  double period = ctx_.info().timestamp_period_ns;
  for (size_t i = 0; i < query_labels_.size(); ++i) {
    double ms = double(ts[2 * i + 1] - ts[2 * i]) * period * 1e-6;
    auto it = std::find_if(timings_.begin(), timings_.end(), [&](auto& t) { return t.label == query_labels_[i]; });
    if (it == timings_.end()) it = timings_.insert(timings_.end(), OpTiming{query_labels_[i], 0, 0});
    it->ms += ms;
    ++it->count;
    if (ctx_.profiling()) ctx_.add_profile(query_labels_[i], ms);
  }
  query_labels_.clear();
}

double Recorder::gpu_ms_total() const {
  double s = 0;
  for (auto& t : timings_) s += t.ms;
  return s;
}

}  // namespace vkf::vk
