#include "engine/ops/kernel_family.h"

#include <cstdlib>
#include <stdexcept>
#include <string>

namespace vkf::ops {
namespace {
thread_local std::optional<KernelFamily> g_override;  // per thread, like every test seam
thread_local std::optional<bool> g_texel_override;
}

KernelFamily kernel_family(const vk::DeviceInfo& info) {
  if (g_override) return *g_override;
  // Read once per process: ops ask for every dispatch they record.
  static const std::string env = [] {
    const char* e = std::getenv("VKFLOW_KERNELS");
    return std::string(e ? e : "");
  }();
  if (!env.empty()) {
    const std::string& v = env;
    if (v == "cpu") return KernelFamily::Cpu;
    if (v == "gpu") return KernelFamily::Gpu;
    throw std::invalid_argument("VKFLOW_KERNELS='" + v + "': expected cpu or gpu");
  }
  return info.is_cpu() ? KernelFamily::Cpu : KernelFamily::Gpu;
}

void set_kernel_family_override(std::optional<KernelFamily> family) { g_override = family; }

bool texel_loads() {
  if (g_texel_override) return *g_texel_override;
  static const bool on = [] {
    const char* e = std::getenv("VKFLOW_TEXEL_LOADS");
    return !(e && std::string(e) == "0");
  }();
  return on;
}

void set_texel_loads_override(std::optional<bool> on) { g_texel_override = on; }

}  // namespace vkf::ops
