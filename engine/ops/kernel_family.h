// Which family of kernels ops record. CPU Vulkan (lavapipe) runs each subgroup as one SIMD loop where a
// load whose address differs per lane is a per-lane loop, so its kernels maximise FMAs per loaded element
// (subgroup-broadcast GEMM, direct 3x3 convolution); GPUs get register-blocked tiles and im2col + GEMM.
// VKFLOW_KERNELS=cpu|gpu overrides the choice (benchmarking the other family on one device); tests use
// set_kernel_family_override so the GPU kernels are checked on lavapipe too.
#pragma once
#include <optional>

#include "engine/vk/context.h"

namespace vkf::ops {

enum class KernelFamily { Cpu, Gpu };

KernelFamily kernel_family(const vk::DeviceInfo& info);

// Testing seam: forces a family (nullopt: back to the device's own) on the calling thread only.
void set_kernel_family_override(std::optional<KernelFamily> family);

// Whether the CPU kernels (matmul_sg, conv2d_3x3) read their inputs through storage texel
// views (vk/texel_format.h): on lavapipe an imageLoad is one vector gather, a storage-buffer load a loop
// over the lanes with a bounds check each. VKFLOW_TEXEL_LOADS=0 turns it off (comparisons; read once per
// process); set_texel_loads_override is the tests' seam, per thread, so both load paths are checked.
bool texel_loads();
void set_texel_loads_override(std::optional<bool> on);

}  // namespace vkf::ops
