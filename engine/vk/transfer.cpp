#include "engine/vk/transfer.h"

#include <cstring>
#include <stdexcept>

#include "engine/vk/check.h"
#include "engine/vk/context.h"
#include "engine/vk/handle.h"
#include "engine/vk/loader.h"

namespace vkf::vk {
namespace {

struct Staging {
  Handle<VkBuffer> buffer;
  Handle<VkDeviceMemory> memory;
  std::byte* mapped = nullptr;
};

Staging make_staging(Context& ctx, uint64_t size) {
  VkDevice dev = ctx.device();
  VkBufferCreateInfo bi{VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
  bi.size = size;
  bi.usage = VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
  VkBuffer b = VK_NULL_HANDLE;
  check(vkCreateBuffer(dev, &bi, nullptr, &b), "vkCreateBuffer(staging)");
  Staging s;
  s.buffer = Handle<VkBuffer>(b, [dev](VkBuffer h) { vkDestroyBuffer(dev, h, nullptr); });
  VkMemoryRequirements req;
  vkGetBufferMemoryRequirements(dev, b, &req);
  VkPhysicalDeviceMemoryProperties mp;
  vkGetPhysicalDeviceMemoryProperties(ctx.physical(), &mp);
  const VkMemoryPropertyFlags want = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
  int type = -1;
  for (uint32_t i = 0; i < mp.memoryTypeCount && type < 0; ++i)
    if ((req.memoryTypeBits & (1u << i)) && (mp.memoryTypes[i].propertyFlags & want) == want) type = int(i);
  if (type < 0) throw std::runtime_error("no host-visible memory for staging");
  VkMemoryAllocateInfo ai{VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO};
  ai.allocationSize = req.size;
  ai.memoryTypeIndex = uint32_t(type);
  VkDeviceMemory m = VK_NULL_HANDLE;
  check(vkAllocateMemory(dev, &ai, nullptr, &m), "vkAllocateMemory(staging)");
  s.memory = Handle<VkDeviceMemory>(m, [dev](VkDeviceMemory h) { vkFreeMemory(dev, h, nullptr); });
  check(vkBindBufferMemory(dev, b, m, 0), "vkBindBufferMemory(staging)");
  void* p = nullptr;
  check(vkMapMemory(dev, m, 0, VK_WHOLE_SIZE, 0, &p), "vkMapMemory(staging)");
  s.mapped = static_cast<std::byte*>(p);
  return s;
}

void one_shot_copy(Context& ctx, VkBuffer src, uint64_t src_off, VkBuffer dst, uint64_t dst_off, uint64_t size) {
  VkDevice dev = ctx.device();
  VkCommandBufferAllocateInfo ai{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
  ai.commandPool = ctx.command_pool();
  ai.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
  ai.commandBufferCount = 1;
  std::lock_guard lock(ctx.queue_mutex());  // command pool + queue are externally synchronised
  VkCommandBuffer cb = VK_NULL_HANDLE;
  check(vkAllocateCommandBuffers(dev, &ai, &cb), "vkAllocateCommandBuffers");
  VkCommandPool pool = ctx.command_pool();
  Handle<VkCommandBuffer> owned(cb, [dev, pool](VkCommandBuffer h) { vkFreeCommandBuffers(dev, pool, 1, &h); });
  VkCommandBufferBeginInfo bi{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
  bi.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
  check(vkBeginCommandBuffer(cb, &bi), "vkBeginCommandBuffer");
  VkBufferCopy region{src_off, dst_off, size};
  vkCmdCopyBuffer(cb, src, dst, 1, &region);
  check(vkEndCommandBuffer(cb), "vkEndCommandBuffer");
  VkFenceCreateInfo fi{VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
  VkFence f = VK_NULL_HANDLE;
  check(vkCreateFence(dev, &fi, nullptr, &f), "vkCreateFence");
  Handle<VkFence> fence(f, [dev](VkFence h) { vkDestroyFence(dev, h, nullptr); });
  VkSubmitInfo si{VK_STRUCTURE_TYPE_SUBMIT_INFO};
  si.commandBufferCount = 1;
  si.pCommandBuffers = &cb;
  check(vkQueueSubmit(ctx.queue(), 1, &si, f), "vkQueueSubmit(copy)");
  check(vkWaitForFences(dev, 1, &f, VK_TRUE, UINT64_MAX), "vkWaitForFences(copy)");
}

}  // namespace

void write_buffer(Context& ctx, const Buffer& dst, uint64_t offset, std::span<const std::byte> data) {
  if (offset + data.size() > dst.size) throw std::out_of_range("write_buffer past the end of the buffer");
  if (data.empty()) return;
  if (dst.mapped) {
    std::memcpy(dst.mapped + offset, data.data(), data.size());
    return;
  }
  Staging s = make_staging(ctx, data.size());
  std::memcpy(s.mapped, data.data(), data.size());
  one_shot_copy(ctx, s.buffer, 0, dst.buffer, offset, data.size());
}

void read_buffer(Context& ctx, const Buffer& src, uint64_t offset, std::span<std::byte> out) {
  if (offset + out.size() > src.size) throw std::out_of_range("read_buffer past the end of the buffer");
  if (out.empty()) return;
  if (src.mapped) {
    std::memcpy(out.data(), src.mapped + offset, out.size());
    return;
  }
  Staging s = make_staging(ctx, out.size());
  one_shot_copy(ctx, src.buffer, offset, s.buffer, 0, out.size());
  std::memcpy(out.data(), s.mapped, out.size());
}

}  // namespace vkf::vk
