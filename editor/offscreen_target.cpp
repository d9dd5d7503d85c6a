#include "editor/offscreen_target.h"

#include <stdexcept>
#include <string>

namespace vkf::editor {
namespace {

void check(VkResult r, const char* what) {
  if (r != VK_SUCCESS) throw std::runtime_error(std::string("vkflow-editor: ") + what + " failed (VkResult " + std::to_string(int(r)) + ")");
}

uint32_t memory_type(VkPhysicalDevice pd, uint32_t bits, VkMemoryPropertyFlags need, VkMemoryPropertyFlags prefer) {
  VkPhysicalDeviceMemoryProperties mp;
  vkGetPhysicalDeviceMemoryProperties(pd, &mp);
  uint32_t found = UINT32_MAX;
  for (uint32_t i = 0; i < mp.memoryTypeCount; ++i) {
    const auto f = mp.memoryTypes[i].propertyFlags;
    if (!(bits & (1u << i)) || (f & need) != need) continue;
    if ((f & prefer) == prefer) return i;
    if (found == UINT32_MAX) found = i;
  }
  if (found == UINT32_MAX) throw std::runtime_error("vkflow-editor: no suitable memory type for the frame images");
  return found;
}

}  // namespace

OffscreenTarget::OffscreenTarget(VkPhysicalDevice pd, VkDevice dev, VkRenderPass pass, VkFormat format, VkExtent2D extent,
                                 uint32_t count)
    : dev_(dev), extent_(extent) {
  try {
    for (uint32_t n = 0; n < count; ++n) {
      Slot& s = slots_.emplace_back();
      VkImageCreateInfo ii{VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO};
      ii.imageType = VK_IMAGE_TYPE_2D;
      ii.format = format;
      ii.extent = {extent.width, extent.height, 1};
      ii.mipLevels = ii.arrayLayers = 1;
      ii.samples = VK_SAMPLE_COUNT_1_BIT;
      ii.tiling = VK_IMAGE_TILING_OPTIMAL;
      ii.usage = VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT | VK_IMAGE_USAGE_TRANSFER_SRC_BIT;
      ii.initialLayout = VK_IMAGE_LAYOUT_UNDEFINED;
      check(vkCreateImage(dev, &ii, nullptr, &s.image), "vkCreateImage");
      VkMemoryRequirements req;
      vkGetImageMemoryRequirements(dev, s.image, &req);
      VkMemoryAllocateInfo mai{VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO};
      mai.allocationSize = req.size;
      mai.memoryTypeIndex = memory_type(pd, req.memoryTypeBits, 0, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT);
      check(vkAllocateMemory(dev, &mai, nullptr, &s.image_mem), "vkAllocateMemory");
      check(vkBindImageMemory(dev, s.image, s.image_mem, 0), "vkBindImageMemory");
      VkImageViewCreateInfo vi{VK_STRUCTURE_TYPE_IMAGE_VIEW_CREATE_INFO};
      vi.image = s.image;
      vi.viewType = VK_IMAGE_VIEW_TYPE_2D;
      vi.format = format;
      vi.subresourceRange = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1};
      check(vkCreateImageView(dev, &vi, nullptr, &s.view), "vkCreateImageView");
      VkFramebufferCreateInfo fi{VK_STRUCTURE_TYPE_FRAMEBUFFER_CREATE_INFO};
      fi.renderPass = pass;
      fi.attachmentCount = 1;
      fi.pAttachments = &s.view;
      fi.width = extent.width;
      fi.height = extent.height;
      fi.layers = 1;
      check(vkCreateFramebuffer(dev, &fi, nullptr, &s.fb), "vkCreateFramebuffer");

      VkBufferCreateInfo bci{VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
      bci.size = VkDeviceSize(extent.width) * extent.height * 4;
      bci.usage = VK_BUFFER_USAGE_TRANSFER_DST_BIT;
      check(vkCreateBuffer(dev, &bci, nullptr, &s.buf), "vkCreateBuffer");
      vkGetBufferMemoryRequirements(dev, s.buf, &req);
      mai.allocationSize = req.size;
      mai.memoryTypeIndex = memory_type(pd, req.memoryTypeBits, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT,
                                        VK_MEMORY_PROPERTY_HOST_CACHED_BIT);
      check(vkAllocateMemory(dev, &mai, nullptr, &s.buf_mem), "vkAllocateMemory");
      check(vkBindBufferMemory(dev, s.buf, s.buf_mem, 0), "vkBindBufferMemory");
      check(vkMapMemory(dev, s.buf_mem, 0, VK_WHOLE_SIZE, 0, &s.mapped), "vkMapMemory");
    }
  } catch (...) {
    release();
    throw;
  }
}

OffscreenTarget::~OffscreenTarget() { release(); }

void OffscreenTarget::release() {
  for (auto& s : slots_) {
    if (s.mapped) vkUnmapMemory(dev_, s.buf_mem);
    if (s.buf) vkDestroyBuffer(dev_, s.buf, nullptr);
    if (s.buf_mem) vkFreeMemory(dev_, s.buf_mem, nullptr);
    if (s.fb) vkDestroyFramebuffer(dev_, s.fb, nullptr);
    if (s.view) vkDestroyImageView(dev_, s.view, nullptr);
    if (s.image) vkDestroyImage(dev_, s.image, nullptr);
    if (s.image_mem) vkFreeMemory(dev_, s.image_mem, nullptr);
  }
  slots_.clear();
}

void OffscreenTarget::record_readback(VkCommandBuffer cmd, uint32_t i) const {
  const Slot& s = slots_[i];
  VkBufferImageCopy bc{};
  bc.imageSubresource = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1};
  bc.imageExtent = {extent_.width, extent_.height, 1};
  vkCmdCopyImageToBuffer(cmd, s.image, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, s.buf, 1, &bc);
  VkBufferMemoryBarrier b{VK_STRUCTURE_TYPE_BUFFER_MEMORY_BARRIER};
  b.srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT;
  b.dstAccessMask = VK_ACCESS_HOST_READ_BIT;
  b.srcQueueFamilyIndex = b.dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED;
  b.buffer = s.buf;
  b.size = VK_WHOLE_SIZE;
  vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_HOST_BIT, 0, 0, nullptr, 1, &b, 0, nullptr);
}

}  // namespace vkf::editor
