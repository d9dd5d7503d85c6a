// Device memory: large blocks (<= maxMemoryAllocationSize) sub-allocated first-fit, one VkBuffer per
// allocation bound at its offset. Released buffers go to a size-class pool for reuse, so model
// evaluations recycle intermediates instead of allocating.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include <vulkan/vulkan.h>

#include "engine/vk/texel_format.h"

namespace vkf::vk {

class Context;

// One device buffer: owned VkBuffer over a sub-range of a memory block. Returned to the pool when the
// last shared_ptr goes away (see Allocator::alloc).
struct Buffer {
  VkBuffer buffer = VK_NULL_HANDLE;
  uint64_t size = 0;         // usable bytes (capacity of the size class)
  uint32_t block = 0;
  uint64_t offset = 0;       // within the block
  std::byte* mapped = nullptr;  // host pointer when the memory is host-visible, else null
  uint64_t id = 0;           // unique per allocation, for hazard tracking
  // Whole-buffer storage texel views, made on first use (Allocator::texel_view), by TexelFormat - 1.
  mutable VkBufferView views[kTexelFormats] = {};
};

struct MemoryStats {
  uint64_t block_bytes = 0;  // device memory held in blocks
  uint64_t live_bytes = 0;   // bytes in buffers handed out now
  uint64_t peak_live_bytes = 0;
  uint64_t window_peak_bytes = 0;  // live high-water since reset_window_peak (the executor: per node)
  uint64_t pooled_bytes = 0;
  uint64_t allocations = 0;  // fresh sub-allocations (pool misses)
  uint64_t reuses = 0;       // pool hits
};

class Allocator {
 public:
  explicit Allocator(Context& ctx);
  ~Allocator();
  Allocator(const Allocator&) = delete;
  Allocator& operator=(const Allocator&) = delete;

  // A buffer of at least `bytes` bytes (storage + transfer usage), for GPU-side use: it may be a buffer
  // that recorded-but-unsubmitted work still touches (safe: the recorder's barriers order the reuse).
  std::shared_ptr<Buffer> alloc(uint64_t bytes);
  // A buffer the host may write right away: never one released while a recording was open, since
  // unsubmitted commands may still read it (a host write is not ordered by GPU barriers).
  std::shared_ptr<Buffer> alloc_for_upload(uint64_t bytes);
  // Long-lived data (model weights): sized exactly (256-byte granularity) instead of by size class, so
  // gigabytes of weights do not pay the up-to-25% rounding that makes intermediates reusable.
  std::shared_ptr<Buffer> alloc_exact(uint64_t bytes);
  // Allocates device memory for `bytes` of upcoming alloc_exact calls in as few blocks as the device allows,
  // so a model's weights occupy exactly their size (call with the sum of their exact_footprint).
  void reserve_exact(uint64_t bytes);
  // Memory an alloc_exact(bytes) takes from a reserve_exact block (its size class, off a power of two:
  // texel_key_size): what a caller sums to reserve exactly enough for a set of weights.
  uint64_t exact_footprint(uint64_t bytes) const;
  // Recorders bracket their open command buffers with these (see alloc_for_upload).
  void begin_recording();
  void end_recording();
  bool host_visible() const { return host_visible_; }
  // A storage texel view of the whole buffer: kernels that read through the texture path (a vector
  // gather on lavapipe, where a storage-buffer load is a per-lane loop). Null when the buffer holds more
  // texels than the device allows. Kept until the buffer is destroyed.
  VkBufferView texel_view(const Buffer& b, TexelFormat f);
  // Frees pooled buffers back to their blocks (and empty blocks to the driver).
  void trim();
  MemoryStats stats() const;
  void reset_peak();
  // A second high-water mark, so per-node measurement leaves peak_live_bytes (benchmarks) alone.
  void reset_window_peak();

 private:
  struct Block {
    VkDeviceMemory memory = VK_NULL_HANDLE;
    uint64_t size = 0;
    std::byte* mapped = nullptr;
    std::map<uint64_t, uint64_t> free;  // offset -> size
    uint64_t used = 0;
    bool exact = false;  // holds alloc_exact buffers (weights) only
  };
  void release(std::unique_ptr<Buffer> b);  // back to pool
  void destroy(std::unique_ptr<Buffer> b);  // back to block
  void destroy_buffer(const Buffer& b);     // its views, then the VkBuffer
  std::unique_ptr<Buffer> fresh(uint64_t size, bool exact);
  uint32_t new_block(uint64_t size, bool exact);  // caller holds mu_
  uint64_t size_class(uint64_t bytes) const;

  Context& ctx_;
  uint32_t memory_type_ = 0;
  bool host_visible_ = false;
  uint64_t block_size_ = 0;
  uint64_t max_alloc_ = 0;
  uint64_t alignment_ = 256;
  uint64_t max_texels_ = 0;  // maxTexelBufferElements
  uint64_t next_id_ = 1;
  std::vector<Block> blocks_;
  std::shared_ptr<Buffer> take(uint64_t bytes, bool for_upload, bool exact = false);
  std::multimap<uint64_t, std::unique_ptr<Buffer>> pool_;   // size class -> free buffer, host-writable
  std::multimap<uint64_t, std::unique_ptr<Buffer>> dirty_;  // freed during an open recording
  int open_recordings_ = 0;
  mutable std::mutex mu_;
  MemoryStats stats_;
  std::shared_ptr<bool> alive_;  // lets late-released buffers know the allocator is gone
};

}  // namespace vkf::vk
