// The Vulkan device everything runs on: instance, chosen physical device, queue, capabilities,
// memory allocator and pipeline cache. Created once per process (or per test binary); not copyable.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <vulkan/vulkan.h>

#include "engine/vk/handle.h"

namespace vkf::vk {

class Allocator;
class PipelineCache;

struct DeviceInfo {
  uint32_t index = 0;
  std::string name;
  VkPhysicalDeviceType type = VK_PHYSICAL_DEVICE_TYPE_OTHER;
  std::string type_name;
  std::string driver;
  uint32_t api_version = 0;
  uint64_t device_local_bytes = 0;         // the largest device-local heap
  uint64_t device_local_budget_bytes = 0;  // its VK_EXT_memory_budget budget; 0 without the extension
  bool fp16_storage = false;  // storageBuffer16BitAccess
  bool fp16_math = false;     // shaderFloat16
  bool int8 = false;          // shaderInt8 + storageBuffer8BitAccess
  uint32_t subgroup_size = 0;
  uint64_t max_storage_buffer_range = 0;
  uint32_t max_shared_memory = 0;
  uint32_t max_workgroup_invocations = 0;
  uint64_t max_allocation_size = 0;
  uint64_t storage_offset_alignment = 0;
  float timestamp_period_ns = 0;
  bool timestamps = false;
  bool is_cpu() const { return type == VK_PHYSICAL_DEVICE_TYPE_CPU; }
};

// Lists every physical device (for `vkflow devices`), in the order the selection prefers.
std::vector<DeviceInfo> list_devices();

struct ContextOptions {
  int device = -1;        // -1: VKFLOW_DEVICE or best by type
  bool validate = false;  // also enabled by VKFLOW_VALIDATE=1
  bool persist_pipeline_cache = true;
  std::string pipeline_cache_dir;  // empty: $VKFLOW_PIPELINE_CACHE_DIR, else the user's cache dir + /vkflow
  // false: never map device memory, so every upload/download takes the staging-buffer path a discrete GPU
  // takes (tests exercise it on lavapipe, whose memory is all host-visible).
  bool map_device_memory = true;
  // Presentation (the editor shares this device with its window): extra instance and device extensions,
  // and a test the queue family must pass besides compute + graphics (e.g. GLFW's presentation support).
  // When set, only devices with such a family are considered.
  std::vector<std::string> instance_extensions, device_extensions;
  std::function<bool(VkInstance, VkPhysicalDevice, uint32_t family)> present_filter;
};

class Context {
 public:
  explicit Context(ContextOptions opts = {});
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  VkInstance instance() const { return instance_; }
  VkDevice device() const { return device_; }
  VkPhysicalDevice physical() const { return phys_; }
  VkQueue queue() const { return queue_; }
  uint32_t queue_family() const { return queue_family_; }
  const DeviceInfo& info() const { return info_; }
  const ContextOptions& options() const { return opts_; }
  Allocator& allocator() { return *alloc_; }
  PipelineCache& pipelines() { return *pipes_; }

  // One-shot command buffer for transfers outside model evaluation (weight upload, readback).
  VkCommandPool command_pool() const { return cmd_pool_; }
  std::mutex& queue_mutex() { return queue_mutex_; }

  // GPU op profiling (`--profile`): recorders created while it is on write timestamps around every
  // dispatch and report per-label totals here.
  struct OpProfile {
    std::string label;
    double ms = 0;
    uint64_t count = 0;
  };
  bool profiling() const { return profiling_; }
  void set_profiling(bool on) { profiling_ = on && info_.timestamps; }
  void add_profile(const std::string& label, double ms);
  std::vector<OpProfile> profile() const;  // sorted by time, largest first

  // Per-submit GPU time (the executor's per-node figures): while on (and timestamps are supported), every
  // recorder writes one timestamp pair around each command buffer — not per dispatch — and adds the
  // elapsed time to a running total, read before and after a node. Work from other threads at the same
  // time would count too; the executor runs one node at a time.
  void set_gpu_timing(bool on) { gpu_timing_ = on && info_.timestamps; }
  bool gpu_timing() const { return gpu_timing_; }
  void add_gpu_ns(uint64_t ns) { gpu_ns_ += ns; }
  double gpu_ms_total() const { return double(gpu_ns_.load()) * 1e-6; }

  // Validation layer messages (warnings and errors) seen so far; tests fail on any.
  std::vector<std::string> take_validation_messages();
  size_t validation_message_count() const { return validation_count_.load(); }
  void push_validation_message(std::string msg);

 private:
  Handle<VkInstance> instance_;
  Handle<VkDebugUtilsMessengerEXT> messenger_;
  VkPhysicalDevice phys_ = VK_NULL_HANDLE;
  Handle<VkDevice> device_;
  VkQueue queue_ = VK_NULL_HANDLE;
  uint32_t queue_family_ = 0;
  Handle<VkCommandPool> cmd_pool_;
  DeviceInfo info_;
  ContextOptions opts_;
  std::unique_ptr<Allocator> alloc_;
  std::unique_ptr<PipelineCache> pipes_;
  std::mutex queue_mutex_;
  std::mutex msg_mutex_;
  std::vector<std::string> messages_;
  std::atomic<size_t> validation_count_{0};
  bool profiling_ = false;
  std::atomic<bool> gpu_timing_{false};
  std::atomic<uint64_t> gpu_ns_{0};
  mutable std::mutex profile_mutex_;
  std::vector<OpProfile> profile_;
};

// Thrown when no Vulkan loader/device exists; the message says how to install one.
struct NoDeviceError : std::exception {
  std::string msg;
  explicit NoDeviceError(std::string m) : msg(std::move(m)) {}
  const char* what() const noexcept override { return msg.c_str(); }
};

}  // namespace vkf::vk
