#include "engine/vk/allocator.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "engine/vk/check.h"
#include "engine/vk/context.h"
#include "engine/vk/loader.h"

namespace vkf::vk {
namespace {
uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }
constexpr VkBufferUsageFlags kBufferUsage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_STORAGE_TEXEL_BUFFER_BIT |
                                            VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
}  // namespace

Allocator::Allocator(Context& ctx) : ctx_(ctx), alive_(std::make_shared<bool>(true)) {
  VkPhysicalDeviceMemoryProperties mp;
  vkGetPhysicalDeviceMemoryProperties(ctx.physical(), &mp);
  // Probe which memory types a storage buffer may live in.
  VkBufferCreateInfo bi{VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
  bi.size = 1024;
  bi.usage = kBufferUsage;
  VkBuffer probe = VK_NULL_HANDLE;
  check(vkCreateBuffer(ctx.device(), &bi, nullptr, &probe), "vkCreateBuffer");
  VkMemoryRequirements req;
  vkGetBufferMemoryRequirements(ctx.device(), probe, &req);
  vkDestroyBuffer(ctx.device(), probe, nullptr);
  alignment_ = std::max<uint64_t>({req.alignment, ctx.info().storage_offset_alignment, 256});
  VkPhysicalDeviceProperties props;
  vkGetPhysicalDeviceProperties(ctx.physical(), &props);
  max_texels_ = props.limits.maxTexelBufferElements;

  // On CPU/integrated devices device-local memory is host-visible: map it and skip staging copies.
  // On discrete GPUs use plain device-local memory (the host-visible BAR window is small).
  const VkMemoryPropertyFlags uma = VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT | VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
                                    VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
  bool want_uma = ctx.info().type != VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU;
  int chosen = -1;
  for (uint32_t i = 0; i < mp.memoryTypeCount && want_uma && chosen < 0; ++i)
    if ((req.memoryTypeBits & (1u << i)) && (mp.memoryTypes[i].propertyFlags & uma) == uma) chosen = int(i);
  for (uint32_t i = 0; i < mp.memoryTypeCount && chosen < 0; ++i)
    if ((req.memoryTypeBits & (1u << i)) && (mp.memoryTypes[i].propertyFlags & VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT))
      chosen = int(i);
  if (chosen < 0) throw std::runtime_error("no device-local memory type for storage buffers");
  memory_type_ = uint32_t(chosen);
  host_visible_ = ctx.options().map_device_memory && (mp.memoryTypes[chosen].propertyFlags & (VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT)) ==
                  (VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT);
  max_alloc_ = ctx.info().max_allocation_size ? ctx.info().max_allocation_size : (1ull << 30);
  // 64 MiB blocks: small enough that the memory held tracks the working set of one evaluation (SD1.5 at
  // 512x512 needs ~50-90 MiB of intermediates), large enough that allocations stay rare (buffers are pooled).
  block_size_ = std::min<uint64_t>(64ull << 20, max_alloc_);
}

Allocator::~Allocator() {
  *alive_ = false;
  std::lock_guard lock(mu_);
  for (auto* m : {&pool_, &dirty_})
    for (auto& [sz, b] : *m) destroy_buffer(*b);
  pool_.clear();
  dirty_.clear();
  for (auto& blk : blocks_)
    if (blk.memory) {
      if (blk.mapped) vkUnmapMemory(ctx_.device(), blk.memory);
      vkFreeMemory(ctx_.device(), blk.memory, nullptr);
    }
}

uint64_t Allocator::size_class(uint64_t bytes) const {
  // Quarter-power-of-two classes: at most 25% waste, good reuse across similar shapes.
  bytes = std::max<uint64_t>(bytes, 256);
  uint64_t p = 1;
  while (p * 2 <= bytes) p *= 2;
  uint64_t step = std::max<uint64_t>(p / 4, 256);
  return align_up(bytes, step);
}

uint32_t Allocator::new_block(uint64_t size, bool exact) {
  Block blk;
  blk.size = size;
  blk.exact = exact;
  VkMemoryAllocateInfo ai{VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO};
  ai.allocationSize = blk.size;
  ai.memoryTypeIndex = memory_type_;
  VkResult r = vkAllocateMemory(ctx_.device(), &ai, nullptr, &blk.memory);
  if (r != VK_SUCCESS)
    throw std::runtime_error("out of device memory allocating " + std::to_string(blk.size >> 20) + " MiB block (" +
                             result_name(r) + "); in use: " + std::to_string(stats_.live_bytes >> 20) + " MiB");
  if (host_visible_) {
    void* p = nullptr;
    check(vkMapMemory(ctx_.device(), blk.memory, 0, VK_WHOLE_SIZE, 0, &p), "vkMapMemory");
    blk.mapped = static_cast<std::byte*>(p);
  }
  blk.free[0] = blk.size;
  stats_.block_bytes += blk.size;
  blocks_.push_back(std::move(blk));
  return uint32_t(blocks_.size() - 1);
}

uint64_t Allocator::exact_footprint(uint64_t bytes) const {
  return align_up(texel_key_size(align_up(std::max<uint64_t>(bytes, 256), 256)), alignment_);
}

void Allocator::reserve_exact(uint64_t bytes) {
  std::lock_guard lock(mu_);
  bytes = align_up(bytes, alignment_);
  while (bytes > 0) {
    const uint64_t sz = std::min(bytes, max_alloc_ / alignment_ * alignment_);
    new_block(sz, true);
    bytes -= sz;
  }
}

std::unique_ptr<Buffer> Allocator::fresh(uint64_t size, bool exact) {
  VkBufferCreateInfo bi{VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
  bi.size = texel_key_size(size);
  bi.usage = kBufferUsage;
  VkBuffer buf = VK_NULL_HANDLE;
  check(vkCreateBuffer(ctx_.device(), &bi, nullptr, &buf), "vkCreateBuffer");
  VkMemoryRequirements req;
  vkGetBufferMemoryRequirements(ctx_.device(), buf, &req);
  uint64_t need = align_up(req.size, alignment_);
  // First fit over the blocks of the same kind: weights (exact) and intermediates never share a block, so
  // the weights' blocks stay packed and the intermediates' blocks track the working set.
  for (uint32_t bi_ = 0; bi_ < blocks_.size(); ++bi_) {
    auto& blk = blocks_[bi_];
    if (blk.exact != exact || !blk.memory) continue;
    for (auto it = blk.free.begin(); it != blk.free.end(); ++it) {
      uint64_t off = align_up(it->first, alignment_);
      uint64_t pad = off - it->first;
      if (it->second < pad + need) continue;
      uint64_t start = it->first, len = it->second;
      blk.free.erase(it);
      if (pad) blk.free[start] = pad;
      if (len > pad + need) blk.free[off + need] = len - pad - need;
      check(vkBindBufferMemory(ctx_.device(), buf, blk.memory, off), "vkBindBufferMemory");
      blk.used += need;
      return std::make_unique<Buffer>(Buffer{buf, size, bi_, off, blk.mapped ? blk.mapped + off : nullptr, next_id_++});
    }
  }
  // A new block: exact-size for weights (reserve_exact normally made room already), else a standard
  // block, or a dedicated one when the request is larger than that.
  uint32_t idx = 0;
  try {
    idx = new_block(exact ? need : std::max(block_size_, need), exact);
  } catch (...) {
    vkDestroyBuffer(ctx_.device(), buf, nullptr);
    throw;
  }
  auto& blk = blocks_[idx];
  blk.free.clear();
  if (blk.size > need) blk.free[need] = blk.size - need;
  blk.used = need;
  check(vkBindBufferMemory(ctx_.device(), buf, blk.memory, 0), "vkBindBufferMemory");
  return std::make_unique<Buffer>(Buffer{buf, size, idx, 0, blk.mapped, next_id_++});
}

std::shared_ptr<Buffer> Allocator::alloc(uint64_t bytes) { return take(bytes, false); }
std::shared_ptr<Buffer> Allocator::alloc_for_upload(uint64_t bytes) { return take(bytes, true); }
std::shared_ptr<Buffer> Allocator::alloc_exact(uint64_t bytes) { return take(bytes, true, true); }

void Allocator::begin_recording() {
  std::lock_guard lock(mu_);
  ++open_recordings_;
}

void Allocator::end_recording() {
  std::lock_guard lock(mu_);
  if (--open_recordings_ == 0) pool_.merge(dirty_);  // nothing pending any more: all host-writable
}

std::shared_ptr<Buffer> Allocator::take(uint64_t bytes, bool for_upload, bool exact) {
  uint64_t cls = exact ? align_up(std::max<uint64_t>(bytes, 256), 256) : size_class(bytes);
  std::lock_guard lock(mu_);
  std::unique_ptr<Buffer> b;
  // The smallest pooled buffer of at least this class, up to twice its size: reusing a somewhat larger
  // buffer beats holding one more (SD1.5 UNet at 512x512 f16: intermediates' blocks 256 -> 192 MiB).
  auto from = [&](std::multimap<uint64_t, std::unique_ptr<Buffer>>& m) {
    auto it = exact ? m.find(cls) : m.lower_bound(cls);
    if (it == m.end() || it->first > 2 * cls) return false;
    b = std::move(it->second);
    m.erase(it);
    return true;
  };
  // GPU-side users take dirty buffers first, keeping clean ones for host uploads.
  if ((!for_upload && from(dirty_)) || from(pool_)) {
    stats_.pooled_bytes -= b->size;
    b->id = next_id_++;  // a reused buffer is a new value for hazard tracking
    ++stats_.reuses;
  } else {
    b = fresh(cls, exact);
    ++stats_.allocations;
  }
  stats_.live_bytes += b->size;
  stats_.peak_live_bytes = std::max(stats_.peak_live_bytes, stats_.live_bytes);
  stats_.window_peak_bytes = std::max(stats_.window_peak_bytes, stats_.live_bytes);
  std::weak_ptr<bool> alive = alive_;
  // The shared_ptr's deleter hands the record back to the pool (or frees it if the allocator is gone).
  return std::shared_ptr<Buffer>(b.release(), [this, alive](Buffer* p) {
    std::unique_ptr<Buffer> owned(p);
    if (auto a = alive.lock(); a && *a) release(std::move(owned));
  });
}

void Allocator::release(std::unique_ptr<Buffer> b) {
  std::lock_guard lock(mu_);
  stats_.live_bytes -= b->size;
  stats_.pooled_bytes += b->size;
  uint64_t sz = b->size;
  (open_recordings_ > 0 ? dirty_ : pool_).emplace(sz, std::move(b));
}

void Allocator::destroy_buffer(const Buffer& b) {
  for (VkBufferView& v : b.views)
    if (v) vkDestroyBufferView(ctx_.device(), v, nullptr), v = VK_NULL_HANDLE;
  vkDestroyBuffer(ctx_.device(), b.buffer, nullptr);
}

VkBufferView Allocator::texel_view(const Buffer& b, TexelFormat f) {
  const uint64_t texel = texel_bytes(f);
  if (!texel || b.size / texel > max_texels_ || b.size < texel) return VK_NULL_HANDLE;
  std::lock_guard lock(mu_);
  VkBufferView& v = b.views[int(f) - 1];
  if (!v) {
    VkBufferViewCreateInfo vi{VK_STRUCTURE_TYPE_BUFFER_VIEW_CREATE_INFO};
    vi.buffer = b.buffer;
    vi.format = vk_format(f);
    vi.offset = 0;
    vi.range = b.size / texel * texel;
    check(vkCreateBufferView(ctx_.device(), &vi, nullptr, &v), "vkCreateBufferView");
  }
  return v;
}

void Allocator::destroy(std::unique_ptr<Buffer> b) {
  auto& blk = blocks_[b->block];
  VkMemoryRequirements req;
  vkGetBufferMemoryRequirements(ctx_.device(), b->buffer, &req);
  uint64_t need = align_up(req.size, alignment_);
  destroy_buffer(*b);
  auto [it, ok] = blk.free.emplace(b->offset, need);
  // coalesce with neighbours
  if (auto nx = std::next(it); nx != blk.free.end() && it->first + it->second == nx->first) {
    it->second += nx->second;
    blk.free.erase(nx);
  }
  if (it != blk.free.begin()) {
    auto pv = std::prev(it);
    if (pv->first + pv->second == it->first) {
      pv->second += it->second;
      blk.free.erase(it);
    }
  }
  blk.used -= need;
}

void Allocator::trim() {
  std::lock_guard lock(mu_);
  if (open_recordings_ > 0) return;  // pending work may still use pooled memory
  for (auto& [sz, b] : pool_) destroy(std::move(b));
  pool_.clear();
  stats_.pooled_bytes = 0;
  for (auto& blk : blocks_)
    if (blk.memory && blk.used == 0) {
      if (blk.mapped) vkUnmapMemory(ctx_.device(), blk.memory);
      vkFreeMemory(ctx_.device(), blk.memory, nullptr);
      stats_.block_bytes -= blk.size;
      blk.memory = VK_NULL_HANDLE;
      blk.mapped = nullptr;
      blk.free.clear();
      blk.size = 0;
    }
}

MemoryStats Allocator::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

void Allocator::reset_peak() {
  std::lock_guard lock(mu_);
  stats_.peak_live_bytes = stats_.live_bytes;
}

void Allocator::reset_window_peak() {
  std::lock_guard lock(mu_);
  stats_.window_peak_bytes = stats_.live_bytes;
}

}  // namespace vkf::vk
