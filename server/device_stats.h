// The Vulkan device's memory for GET /system_stats (ComfyUI's devices[].vram_total / vram_free): total is
// the largest device-local heap; free is VK_EXT_memory_budget's budget for this process minus its usage
// where the driver has the extension, else the heap's size (nothing known about use). Queried per call.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

namespace vkf::server {

struct DeviceMemory {
  uint32_t index = 0;       // as `vkflow devices` and --device number them
  std::string name, type;   // deviceName; "discrete", "integrated", "virtual", "cpu" or "other"
  uint64_t total = 0;       // the largest device-local heap
  uint64_t free = 0;        // budget - usage with the extension; else total
  uint64_t used = 0;        // this process's usage of that heap (extension only; else 0)
  bool budget = false;      // the figures come from VK_EXT_memory_budget
};

// Device `index` (-1: VKFLOW_DEVICE, else the preferred one, as the engine chooses); nullopt when there is
// no Vulkan loader or no such device.
std::optional<DeviceMemory> device_memory(int index);

}  // namespace vkf::server
