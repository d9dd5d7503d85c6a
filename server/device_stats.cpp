#include "server/device_stats.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <vector>

#include "engine/vk/loader.h"

namespace vkf::server {
namespace {
using namespace vkf::vk;  // the loader's entry points shadow <vulkan/vulkan.h>'s prototypes

// The engine's preference (engine/vk/context.cpp), so indices match --device and `vkflow devices`;
// [server] tests check the order against vk::list_devices().
int type_rank(VkPhysicalDeviceType t) {
  switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return 0;
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return 1;
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return 2;
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return 3;
    default: return 4;
  }
}

const char* type_name(VkPhysicalDeviceType t) {
  switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return "discrete";
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return "integrated";
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return "virtual";
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return "cpu";
    default: return "other";
  }
}

// One instance for the life of the process (creating one per request costs milliseconds on every ICD).
struct Devices {
  VkInstance instance = VK_NULL_HANDLE;
  std::vector<VkPhysicalDevice> sorted;  // Vulkan 1.2 devices in the engine's order
  ~Devices() {
    if (instance) vkDestroyInstance(instance, nullptr);
  }
};

Devices* devices() {
  static std::mutex mu;
  static std::unique_ptr<Devices> d;
  static bool tried = false;
  std::lock_guard lk(mu);
  if (tried) return d.get();
  tried = true;
  try {
    load_vulkan();
  } catch (const std::exception&) {
    return nullptr;  // no loader: /system_stats still answers
  }
  VkApplicationInfo app{VK_STRUCTURE_TYPE_APPLICATION_INFO};
  app.pApplicationName = "vkflow serve";
  app.apiVersion = VK_API_VERSION_1_2;
  VkInstanceCreateInfo ci{VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO};
  ci.pApplicationInfo = &app;
  auto out = std::make_unique<Devices>();
  if (vkCreateInstance(&ci, nullptr, &out->instance) != VK_SUCCESS) return nullptr;
  load_instance_functions(out->instance);
  uint32_t n = 0;
  vkEnumeratePhysicalDevices(out->instance, &n, nullptr);
  std::vector<VkPhysicalDevice> pds(n);
  vkEnumeratePhysicalDevices(out->instance, &n, pds.data());
  std::vector<std::pair<int, VkPhysicalDevice>> ranked;
  for (auto pd : pds) {
    VkPhysicalDeviceProperties p;
    vkGetPhysicalDeviceProperties(pd, &p);
    if (p.apiVersion >= VK_API_VERSION_1_2) ranked.emplace_back(type_rank(p.deviceType), pd);
  }
  std::stable_sort(ranked.begin(), ranked.end(), [](auto& a, auto& b) { return a.first < b.first; });
  for (auto& [_, pd] : ranked) out->sorted.push_back(pd);
  d = std::move(out);
  return d.get();
}

bool has_budget_extension(VkPhysicalDevice pd) {
  uint32_t n = 0;
  vkEnumerateDeviceExtensionProperties(pd, nullptr, &n, nullptr);
  std::vector<VkExtensionProperties> exts(n);
  vkEnumerateDeviceExtensionProperties(pd, nullptr, &n, exts.data());
  return std::any_of(exts.begin(), exts.end(), [](const VkExtensionProperties& e) {
    return std::strcmp(e.extensionName, VK_EXT_MEMORY_BUDGET_EXTENSION_NAME) == 0;
  });
}

}  // namespace

std::optional<DeviceMemory> device_memory(int index) {
  if (index < 0) {
    const char* e = std::getenv("VKFLOW_DEVICE");
    index = e && *e ? std::atoi(e) : 0;
  }
  Devices* d = devices();
  if (!d || index < 0 || size_t(index) >= d->sorted.size()) return std::nullopt;
  VkPhysicalDevice pd = d->sorted[size_t(index)];
  VkPhysicalDeviceProperties p;
  vkGetPhysicalDeviceProperties(pd, &p);
  DeviceMemory m;
  m.index = static_cast<uint32_t>(index);
  m.name = p.deviceName;
  m.type = type_name(p.deviceType);
  m.budget = has_budget_extension(pd);
  VkPhysicalDeviceMemoryBudgetPropertiesEXT bud{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_BUDGET_PROPERTIES_EXT};
  VkPhysicalDeviceMemoryProperties2 mem2{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_PROPERTIES_2, m.budget ? &bud : nullptr};
  vkGetPhysicalDeviceMemoryProperties2(pd, &mem2);
  const VkPhysicalDeviceMemoryProperties& mem = mem2.memoryProperties;
  uint64_t heap = 0;
  for (uint32_t i = 0; i < mem.memoryHeapCount; ++i) {
    if (!(mem.memoryHeaps[i].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) || mem.memoryHeaps[i].size <= heap) continue;
    heap = mem.memoryHeaps[i].size;
    m.total = heap;
    m.free = heap;
    if (m.budget) {  // the budget already leaves out what other processes use
      m.used = bud.heapUsage[i];
      m.free = bud.heapBudget[i] > m.used ? bud.heapBudget[i] - m.used : 0;
    }
  }
  return m;
}

}  // namespace vkf::server
