#include "engine/ops/kernel_family.h"

#include <cstdlib>
#include <stdexcept>
#include <string>

namespace vkf::ops {
namespace {
thread_local std::optional<KernelFamily> g_override;  // per thread, like every test seam
}

KernelFamily kernel_family(const vk::DeviceInfo& info) {
  if (g_override) return *g_override;
  if (const char* env = std::getenv("VKFLOW_KERNELS"); env && *env) {
    const std::string v(env);
    if (v == "cpu") return KernelFamily::Cpu;
    if (v == "gpu") return KernelFamily::Gpu;
    throw std::invalid_argument("VKFLOW_KERNELS='" + v + "': expected cpu or gpu");
  }
  return info.is_cpu() ? KernelFamily::Cpu : KernelFamily::Gpu;
}

void set_kernel_family_override(std::optional<KernelFamily> family) { g_override = family; }

}  // namespace vkf::ops
