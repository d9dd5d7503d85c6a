#include "engine/vk/loader.h"

#include <dlfcn.h>

#include <mutex>

#include "engine/vk/context.h"

namespace vkf::vk {

#define VKFLOW_DEFINE(name) PFN_##name name = nullptr;
VKFLOW_VK_GLOBAL_FUNCS(VKFLOW_DEFINE)
VKFLOW_VK_INSTANCE_FUNCS(VKFLOW_DEFINE)
VKFLOW_VK_DEVICE_FUNCS(VKFLOW_DEFINE)
#undef VKFLOW_DEFINE

namespace {
PFN_vkGetInstanceProcAddr get_instance_proc = nullptr;
}

void load_vulkan() {
  static std::once_flag once;
  static std::string error;
  std::call_once(once, [] {
    void* lib = dlopen("libvulkan.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!lib) lib = dlopen("libvulkan.so", RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
      error = "no Vulkan loader (libvulkan.so.1) found: install one with 'apt-get install libvulkan1 mesa-vulkan-drivers'";
      return;
    }
    get_instance_proc = reinterpret_cast<PFN_vkGetInstanceProcAddr>(dlsym(lib, "vkGetInstanceProcAddr"));
    if (!get_instance_proc) {
      error = "the Vulkan loader has no vkGetInstanceProcAddr; reinstall libvulkan1";
      return;
    }
#define VKFLOW_LOAD(name) name = reinterpret_cast<PFN_##name>(get_instance_proc(nullptr, #name));
    VKFLOW_VK_GLOBAL_FUNCS(VKFLOW_LOAD)
#undef VKFLOW_LOAD
  });
  if (!error.empty()) throw NoDeviceError(error);
}

void load_instance_functions(VkInstance instance) {
#define VKFLOW_LOAD(name) name = reinterpret_cast<PFN_##name>(get_instance_proc(instance, #name));
  VKFLOW_VK_INSTANCE_FUNCS(VKFLOW_LOAD)
#undef VKFLOW_LOAD
}

void load_device_functions(VkDevice device) {
#define VKFLOW_LOAD(name) name = reinterpret_cast<PFN_##name>(vkGetDeviceProcAddr(device, #name));
  VKFLOW_VK_DEVICE_FUNCS(VKFLOW_LOAD)
#undef VKFLOW_LOAD
}

}  // namespace vkf::vk
