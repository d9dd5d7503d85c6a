// Vulkan entry points loaded at run time with dlopen("libvulkan.so.1"), so a machine without a Vulkan
// loader gets a clear error instead of a dynamic-linker failure. Engine code inside vkf::vk calls these
// namespace-scoped pointers; they shadow the global prototypes of <vulkan/vulkan.h>.
#pragma once
#include <vulkan/vulkan.h>

#define VKFLOW_VK_GLOBAL_FUNCS(X) \
  X(vkCreateInstance)             \
  X(vkEnumerateInstanceLayerProperties) \
  X(vkEnumerateInstanceExtensionProperties)

#define VKFLOW_VK_INSTANCE_FUNCS(X)          \
  X(vkDestroyInstance)                       \
  X(vkEnumeratePhysicalDevices)              \
  X(vkGetPhysicalDeviceProperties)           \
  X(vkGetPhysicalDeviceProperties2)          \
  X(vkGetPhysicalDeviceFeatures2)            \
  X(vkGetPhysicalDeviceMemoryProperties)     \
  X(vkGetPhysicalDeviceMemoryProperties2)    \
  X(vkGetPhysicalDeviceQueueFamilyProperties) \
  X(vkEnumerateDeviceExtensionProperties)    \
  X(vkCreateDevice)                          \
  X(vkGetDeviceProcAddr)                     \
  X(vkCreateDebugUtilsMessengerEXT)          \
  X(vkDestroyDebugUtilsMessengerEXT)

#define VKFLOW_VK_DEVICE_FUNCS(X)        \
  X(vkDestroyDevice)                     \
  X(vkGetDeviceQueue)                    \
  X(vkDeviceWaitIdle)                    \
  X(vkAllocateMemory)                    \
  X(vkFreeMemory)                        \
  X(vkMapMemory)                         \
  X(vkUnmapMemory)                       \
  X(vkCreateBuffer)                      \
  X(vkDestroyBuffer)                     \
  X(vkCreateBufferView)                  \
  X(vkDestroyBufferView)                 \
  X(vkGetBufferMemoryRequirements)       \
  X(vkBindBufferMemory)                  \
  X(vkCreateShaderModule)                \
  X(vkDestroyShaderModule)               \
  X(vkCreateDescriptorSetLayout)         \
  X(vkDestroyDescriptorSetLayout)        \
  X(vkCreatePipelineLayout)              \
  X(vkDestroyPipelineLayout)             \
  X(vkCreateComputePipelines)            \
  X(vkDestroyPipeline)                   \
  X(vkCreatePipelineCache)               \
  X(vkDestroyPipelineCache)              \
  X(vkGetPipelineCacheData)              \
  X(vkCreateDescriptorPool)              \
  X(vkDestroyDescriptorPool)             \
  X(vkResetDescriptorPool)               \
  X(vkAllocateDescriptorSets)            \
  X(vkUpdateDescriptorSets)              \
  X(vkCreateCommandPool)                 \
  X(vkDestroyCommandPool)                \
  X(vkAllocateCommandBuffers)            \
  X(vkFreeCommandBuffers)                \
  X(vkBeginCommandBuffer)                \
  X(vkEndCommandBuffer)                  \
  X(vkResetCommandBuffer)                \
  X(vkCmdBindPipeline)                   \
  X(vkCmdBindDescriptorSets)             \
  X(vkCmdPushConstants)                  \
  X(vkCmdDispatch)                       \
  X(vkCmdPipelineBarrier)                \
  X(vkCmdCopyBuffer)                     \
  X(vkCmdFillBuffer)                     \
  X(vkCmdWriteTimestamp)                 \
  X(vkCmdResetQueryPool)                 \
  X(vkCreateQueryPool)                   \
  X(vkDestroyQueryPool)                  \
  X(vkGetQueryPoolResults)               \
  X(vkCreateFence)                       \
  X(vkDestroyFence)                      \
  X(vkWaitForFences)                     \
  X(vkResetFences)                       \
  X(vkQueueSubmit)

namespace vkf::vk {

#define VKFLOW_DECLARE(name) extern PFN_##name name;
VKFLOW_VK_GLOBAL_FUNCS(VKFLOW_DECLARE)
VKFLOW_VK_INSTANCE_FUNCS(VKFLOW_DECLARE)
VKFLOW_VK_DEVICE_FUNCS(VKFLOW_DECLARE)
#undef VKFLOW_DECLARE

// Loads libvulkan and the global entry points; throws NoDeviceError with install advice on failure.
void load_vulkan();
void load_instance_functions(VkInstance instance);
void load_device_functions(VkDevice device);

}  // namespace vkf::vk
