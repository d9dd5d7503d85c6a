// `vkflow devices`: every Vulkan device in selection order with the capabilities ops care about.
#include <iostream>

#include "engine/cli/command.h"
#include "engine/vk/context.h"

namespace vkf::cli {
namespace {

int run_devices(std::vector<std::string> args) {
  for (auto& a : args) {
    if (a == "--help" || a == "-h") {
      std::cout << "usage: vkflow devices\n\nLists Vulkan devices in the order vkflow prefers them (discrete GPU >\n"
                   "integrated > virtual > CPU). Pick one with --device N or VKFLOW_DEVICE=N.\n";
      return kExitOk;
    }
    throw UsageError("unexpected argument '" + a + "'");
  }
  auto devs = vk::list_devices();
  if (devs.empty()) throw vk::NoDeviceError("no Vulkan 1.2 device found: install one with 'apt-get install mesa-vulkan-drivers'");
  for (auto& d : devs) {
    std::cout << "[" << d.index << "] " << d.name << "\n"
              << "    type: " << d.type_name << "   driver: " << d.driver << "\n"
              << "    vulkan: " << VK_API_VERSION_MAJOR(d.api_version) << "." << VK_API_VERSION_MINOR(d.api_version) << "."
              << VK_API_VERSION_PATCH(d.api_version) << "   memory: " << (d.device_local_bytes >> 20) << " MiB\n"
              << "    fp16: " << (d.fp16_storage ? "yes" : "no") << " (math " << (d.fp16_math ? "yes" : "no")
              << ")   int8: " << (d.int8 ? "yes" : "no") << "   subgroup: " << d.subgroup_size << "\n"
              << "    maxStorageBufferRange: " << (d.max_storage_buffer_range >> 20) << " MiB"
              << "   maxComputeSharedMemorySize: " << (d.max_shared_memory >> 10) << " KiB\n";
  }
  return kExitOk;
}

Registrar reg({"devices", "list Vulkan devices and their capabilities", run_devices});

}  // namespace
}  // namespace vkf::cli
