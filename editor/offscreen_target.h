// Render targets that are not swapchain images: device images the editor's render pass draws into, each
// with a persistently mapped host buffer the frame is copied to (for presenting through X11Shm and for
// screenshots). Used on CPU devices, where "device" and host memory are the same RAM anyway.
#pragma once
#include <cstdint>
#include <vector>

#include <vulkan/vulkan.h>

namespace vkf::editor {

class OffscreenTarget {
 public:
  // `count` images of `format` (4 bytes per pixel) and `extent`; the render pass must end in
  // TRANSFER_SRC_OPTIMAL.
  OffscreenTarget(VkPhysicalDevice pd, VkDevice dev, VkRenderPass pass, VkFormat format, VkExtent2D extent, uint32_t count);
  ~OffscreenTarget();
  OffscreenTarget(const OffscreenTarget&) = delete;
  OffscreenTarget& operator=(const OffscreenTarget&) = delete;

  uint32_t count() const { return uint32_t(slots_.size()); }
  VkFramebuffer framebuffer(uint32_t i) const { return slots_[i].fb; }
  // Records the copy of image i into its host buffer, made visible to the host.
  void record_readback(VkCommandBuffer cmd, uint32_t i) const;
  // Tightly packed rows (width * 4 bytes) of image i, valid once the readback has completed.
  const uint8_t* pixels(uint32_t i) const { return static_cast<const uint8_t*>(slots_[i].mapped); }

 private:
  struct Slot {
    VkImage image = VK_NULL_HANDLE;
    VkDeviceMemory image_mem = VK_NULL_HANDLE;
    VkImageView view = VK_NULL_HANDLE;
    VkFramebuffer fb = VK_NULL_HANDLE;
    VkBuffer buf = VK_NULL_HANDLE;
    VkDeviceMemory buf_mem = VK_NULL_HANDLE;
    void* mapped = nullptr;
  };
  void release();
  VkDevice dev_;
  VkExtent2D extent_;
  std::vector<Slot> slots_;
};

}  // namespace vkf::editor
