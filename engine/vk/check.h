#pragma once
#include <stdexcept>
#include <string>
#include <vulkan/vulkan.h>

namespace vkf::vk {

const char* result_name(VkResult r);

struct VulkanError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

inline void check(VkResult r, const char* what) {
  if (r != VK_SUCCESS) throw VulkanError(std::string(what) + " failed: " + result_name(r));
}

}  // namespace vkf::vk
