#include "engine/vk/context.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <iostream>

#include "engine/vk/allocator.h"
#include "engine/vk/check.h"
#include "engine/vk/loader.h"
#include "engine/vk/pipeline.h"

namespace vkf::vk {
namespace {

const char* type_name(VkPhysicalDeviceType t) {
  switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return "discrete GPU";
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return "integrated GPU";
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return "virtual GPU";
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return "CPU";
    default: return "other";
  }
}

int type_rank(VkPhysicalDeviceType t) {  // lower is preferred
  switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return 0;
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return 1;
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return 2;
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return 3;
    default: return 4;
  }
}

bool env_flag(const char* name) {
  const char* v = std::getenv(name);
  return v && *v && std::strcmp(v, "0") != 0;
}

VKAPI_ATTR VkBool32 VKAPI_CALL debug_callback(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                              VkDebugUtilsMessageTypeFlagsEXT,
                                              const VkDebugUtilsMessengerCallbackDataEXT* data, void* user) {
  if (severity >= VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT) {
    auto* ctx = static_cast<Context*>(user);
    std::string msg = data && data->pMessage ? data->pMessage : "(no message)";
    std::cerr << "vkflow: validation: " << msg << "\n";
    ctx->push_validation_message(std::move(msg));
  }
  return VK_FALSE;
}

DeviceInfo describe(VkPhysicalDevice pd, uint32_t index) {
  DeviceInfo d;
  d.index = index;
  VkPhysicalDeviceDriverProperties driver{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES};
  VkPhysicalDeviceSubgroupProperties sub{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES, &driver};
  VkPhysicalDeviceProperties2 props{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, &sub};
  vkGetPhysicalDeviceProperties2(pd, &props);
  const auto& p = props.properties;
  d.name = p.deviceName;
  d.type = p.deviceType;
  d.type_name = type_name(p.deviceType);
  d.driver = std::string(driver.driverName) + " " + driver.driverInfo;
  d.api_version = p.apiVersion;
  d.subgroup_size = sub.subgroupSize;
  d.max_storage_buffer_range = p.limits.maxStorageBufferRange;
  d.max_shared_memory = p.limits.maxComputeSharedMemorySize;
  d.max_workgroup_invocations = p.limits.maxComputeWorkGroupInvocations;
  d.storage_offset_alignment = p.limits.minStorageBufferOffsetAlignment;
  d.timestamp_period_ns = p.limits.timestampPeriod;
  d.timestamps = p.limits.timestampComputeAndGraphics;

  VkPhysicalDeviceMaintenance3Properties m3{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES};
  VkPhysicalDeviceProperties2 props2{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, &m3};
  vkGetPhysicalDeviceProperties2(pd, &props2);
  d.max_allocation_size = m3.maxMemoryAllocationSize;

  VkPhysicalDeviceVulkan11Features f11{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES};
  VkPhysicalDeviceVulkan12Features f12{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES, &f11};
  VkPhysicalDeviceFeatures2 f{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, &f12};
  vkGetPhysicalDeviceFeatures2(pd, &f);
  d.fp16_storage = f11.storageBuffer16BitAccess;
  d.fp16_math = f12.shaderFloat16;
  d.int8 = f12.shaderInt8 && f12.storageBuffer8BitAccess;

  // VK_EXT_memory_budget, where present, says how much of each heap this process may still use.
  uint32_t next = 0;
  vkEnumerateDeviceExtensionProperties(pd, nullptr, &next, nullptr);
  std::vector<VkExtensionProperties> exts(next);
  vkEnumerateDeviceExtensionProperties(pd, nullptr, &next, exts.data());
  const bool budget = std::any_of(exts.begin(), exts.end(), [](const VkExtensionProperties& e) {
    return std::strcmp(e.extensionName, VK_EXT_MEMORY_BUDGET_EXTENSION_NAME) == 0;
  });
  VkPhysicalDeviceMemoryBudgetPropertiesEXT bud{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_BUDGET_PROPERTIES_EXT};
  VkPhysicalDeviceMemoryProperties2 mem2{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_PROPERTIES_2, budget ? &bud : nullptr};
  vkGetPhysicalDeviceMemoryProperties2(pd, &mem2);
  const VkPhysicalDeviceMemoryProperties& mem = mem2.memoryProperties;
  for (uint32_t i = 0; i < mem.memoryHeapCount; ++i)
    if (mem.memoryHeaps[i].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) {
      if (mem.memoryHeaps[i].size > d.device_local_bytes) {
        d.device_local_bytes = mem.memoryHeaps[i].size;
        d.device_local_budget_bytes = budget ? bud.heapBudget[i] : 0;
      }
    }
  return d;
}

Handle<VkInstance> create_instance(bool validate, bool& have_debug_utils,
                                   const std::vector<std::string>& extra_exts = {}) {
  load_vulkan();
  VkApplicationInfo app{VK_STRUCTURE_TYPE_APPLICATION_INFO};
  app.pApplicationName = "vkflow";
  app.apiVersion = VK_API_VERSION_1_2;
  std::vector<const char*> layers, exts;
  for (auto& e : extra_exts) exts.push_back(e.c_str());
  have_debug_utils = false;
  if (validate) {
    uint32_t n = 0;
    vkEnumerateInstanceLayerProperties(&n, nullptr);
    std::vector<VkLayerProperties> lp(n);
    vkEnumerateInstanceLayerProperties(&n, lp.data());
    bool found = std::any_of(lp.begin(), lp.end(), [](auto& l) {
      return std::strcmp(l.layerName, "VK_LAYER_KHRONOS_validation") == 0;
    });
    if (found) {
      layers.push_back("VK_LAYER_KHRONOS_validation");
      exts.push_back(VK_EXT_DEBUG_UTILS_EXTENSION_NAME);
      have_debug_utils = true;
    } else {
      std::cerr << "vkflow: VKFLOW_VALIDATE set but VK_LAYER_KHRONOS_validation is not installed "
                   "(apt-get install vulkan-validationlayers)\n";
    }
  }
  VkInstanceCreateInfo ci{VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO};
  ci.pApplicationInfo = &app;
  ci.enabledLayerCount = uint32_t(layers.size());
  ci.ppEnabledLayerNames = layers.data();
  ci.enabledExtensionCount = uint32_t(exts.size());
  ci.ppEnabledExtensionNames = exts.data();
  VkInstance inst = VK_NULL_HANDLE;
  VkResult r = vkCreateInstance(&ci, nullptr, &inst);
  if (r == VK_ERROR_INCOMPATIBLE_DRIVER || r == VK_ERROR_INITIALIZATION_FAILED)
    throw NoDeviceError("no Vulkan driver found: install one with 'apt-get install mesa-vulkan-drivers' (or your GPU vendor's driver)");
  check(r, "vkCreateInstance");
  load_instance_functions(inst);
  return Handle<VkInstance>(inst, [](VkInstance i) { vkDestroyInstance(i, nullptr); });
}

std::vector<std::pair<VkPhysicalDevice, DeviceInfo>> sorted_devices(VkInstance inst) {
  uint32_t n = 0;
  vkEnumeratePhysicalDevices(inst, &n, nullptr);
  std::vector<VkPhysicalDevice> pds(n);
  vkEnumeratePhysicalDevices(inst, &n, pds.data());
  std::vector<std::pair<VkPhysicalDevice, DeviceInfo>> out;
  for (uint32_t i = 0; i < n; ++i) {
    DeviceInfo d = describe(pds[i], i);
    if (d.api_version < VK_API_VERSION_1_2) continue;
    out.emplace_back(pds[i], d);
  }
  std::stable_sort(out.begin(), out.end(),
                   [](auto& a, auto& b) { return type_rank(a.second.type) < type_rank(b.second.type); });
  for (uint32_t i = 0; i < out.size(); ++i) out[i].second.index = i;
  return out;
}

}  // namespace

std::vector<DeviceInfo> list_devices() {
  bool dbg = false;
  auto inst = create_instance(false, dbg);
  std::vector<DeviceInfo> out;
  for (auto& [pd, d] : sorted_devices(inst)) out.push_back(d);
  return out;
}

Context::Context(ContextOptions opts) : opts_(opts) {
  bool validate = opts.validate || env_flag("VKFLOW_VALIDATE");
  bool dbg = false;
  instance_ = create_instance(validate, dbg, opts.instance_extensions);
  if (dbg) {
    VkDebugUtilsMessengerCreateInfoEXT mi{VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT};
    mi.messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT;
    mi.messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                     VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT;
    mi.pfnUserCallback = debug_callback;
    mi.pUserData = this;
    VkDebugUtilsMessengerEXT m = VK_NULL_HANDLE;
    check(vkCreateDebugUtilsMessengerEXT(instance_, &mi, nullptr, &m), "vkCreateDebugUtilsMessengerEXT");
    VkInstance inst = instance_;
    messenger_ = Handle<VkDebugUtilsMessengerEXT>(m, [inst](VkDebugUtilsMessengerEXT h) {
      vkDestroyDebugUtilsMessengerEXT(inst, h, nullptr);
    });
  }

  auto devs = sorted_devices(instance_);
  if (devs.empty())
    throw NoDeviceError("no Vulkan 1.2 device found: install one with 'apt-get install mesa-vulkan-drivers' (lavapipe, CPU) or your GPU vendor's driver");
  int want = opts.device;
  if (want < 0) {
    if (const char* e = std::getenv("VKFLOW_DEVICE"); e && *e) {
      char* end = nullptr;
      long v = std::strtol(e, &end, 10);
      if (*end != '\0' || v < 0) throw std::runtime_error(std::string("VKFLOW_DEVICE='") + e + "' is not a device index");
      want = int(v);
    }
  }
  if (want >= 0 && size_t(want) >= devs.size())
    throw std::runtime_error("device " + std::to_string(want) + " does not exist (" + std::to_string(devs.size()) +
                             " available; see 'vkflow devices')");
  // The queue family: with a present filter one with graphics + compute that presents; else prefer a
  // compute-only family, else any with compute.
  auto pick_family = [&](VkPhysicalDevice pd) -> int {
    uint32_t nq = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(pd, &nq, nullptr);
    std::vector<VkQueueFamilyProperties> qf(nq);
    vkGetPhysicalDeviceQueueFamilyProperties(pd, &nq, qf.data());
    const VkQueueFlags gc = VK_QUEUE_COMPUTE_BIT | VK_QUEUE_GRAPHICS_BIT;
    if (opts.present_filter) {
      for (uint32_t i = 0; i < nq; ++i)
        if ((qf[i].queueFlags & gc) == gc && opts.present_filter(instance_, pd, i)) return int(i);
      return -1;
    }
    for (uint32_t i = 0; i < nq; ++i)
      if ((qf[i].queueFlags & VK_QUEUE_COMPUTE_BIT) && !(qf[i].queueFlags & VK_QUEUE_GRAPHICS_BIT)) return int(i);
    for (uint32_t i = 0; i < nq; ++i)
      if (qf[i].queueFlags & VK_QUEUE_COMPUTE_BIT) return int(i);
    return -1;
  };
  int family = -1;
  if (want < 0)  // the first device (in preference order) with a usable family
    for (size_t i = 0; i < devs.size() && family < 0; ++i)
      if ((family = pick_family(devs[i].first)) >= 0) want = int(i);
  if (want < 0) want = 0;
  phys_ = devs[want].first;
  info_ = devs[want].second;
  if (family < 0) family = pick_family(phys_);
  if (family < 0)
    throw NoDeviceError("device '" + info_.name + "' has no " +
                        (opts.present_filter ? "queue that computes and presents" : "compute queue"));
  queue_family_ = uint32_t(family);
  uint32_t nq = 0;
  vkGetPhysicalDeviceQueueFamilyProperties(phys_, &nq, nullptr);
  std::vector<VkQueueFamilyProperties> qf(nq);
  vkGetPhysicalDeviceQueueFamilyProperties(phys_, &nq, qf.data());
  if (qf[queue_family_].timestampValidBits == 0) info_.timestamps = false;

  float prio = 1.0f;
  VkDeviceQueueCreateInfo qci{VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO};
  qci.queueFamilyIndex = queue_family_;
  qci.queueCount = 1;
  qci.pQueuePriorities = &prio;
  VkPhysicalDeviceVulkan11Features f11{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES};
  VkPhysicalDeviceVulkan12Features f12{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES, &f11};
  f11.storageBuffer16BitAccess = info_.fp16_storage;
  f12.shaderFloat16 = info_.fp16_math;
  f12.shaderInt8 = info_.int8;
  f12.storageBuffer8BitAccess = info_.int8;
  VkPhysicalDeviceFeatures2 feats{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, &f12};
  VkDeviceCreateInfo dci{VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO, &feats};
  dci.queueCreateInfoCount = 1;
  dci.pQueueCreateInfos = &qci;
  std::vector<const char*> dev_exts;
  for (auto& e : opts.device_extensions) dev_exts.push_back(e.c_str());
  dci.enabledExtensionCount = uint32_t(dev_exts.size());
  dci.ppEnabledExtensionNames = dev_exts.data();
  VkDevice dev = VK_NULL_HANDLE;
  check(vkCreateDevice(phys_, &dci, nullptr, &dev), "vkCreateDevice");
  load_device_functions(dev);
  device_ = Handle<VkDevice>(dev, [](VkDevice d) {
    vkDeviceWaitIdle(d);
    vkDestroyDevice(d, nullptr);
  });
  vkGetDeviceQueue(device_, queue_family_, 0, &queue_);

  VkCommandPoolCreateInfo pci{VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO};
  pci.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT;
  pci.queueFamilyIndex = queue_family_;
  VkCommandPool pool = VK_NULL_HANDLE;
  check(vkCreateCommandPool(device_, &pci, nullptr, &pool), "vkCreateCommandPool");
  cmd_pool_ = Handle<VkCommandPool>(pool, [dev](VkCommandPool p) { vkDestroyCommandPool(dev, p, nullptr); });

  alloc_ = std::make_unique<Allocator>(*this);
  pipes_ = std::make_unique<PipelineCache>(*this, opts.persist_pipeline_cache, opts.pipeline_cache_dir);
}

Context::~Context() {
  if (device_) vkDeviceWaitIdle(device_);
  pipes_.reset();
  alloc_.reset();
}

void Context::add_profile(const std::string& label, double ms) {
  std::lock_guard lock(profile_mutex_);
  auto it = std::find_if(profile_.begin(), profile_.end(), [&](auto& p) { return p.label == label; });
  if (it == profile_.end()) it = profile_.insert(profile_.end(), OpProfile{label, 0, 0});
  it->ms += ms;
  ++it->count;
}

std::vector<Context::OpProfile> Context::profile() const {
  std::lock_guard lock(profile_mutex_);
  auto p = profile_;
  std::sort(p.begin(), p.end(), [](auto& a, auto& b) { return a.ms > b.ms; });
  return p;
}

void Context::push_validation_message(std::string msg) {
  std::lock_guard lock(msg_mutex_);
  messages_.push_back(std::move(msg));
  ++validation_count_;
}

std::vector<std::string> Context::take_validation_messages() {
  std::lock_guard lock(msg_mutex_);
  return std::exchange(messages_, {});
}

}  // namespace vkf::vk
