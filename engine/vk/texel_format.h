// Formats of the whole-buffer storage texel views kernels may read buffers through (PipelineDesc::texel,
// Allocator::texel_view): on lavapipe an imageLoad is one vector gather, where a storage-buffer load is a
// loop over the lanes with a bounds check each.
#pragma once
#include <cstdint>

#include <vulkan/vulkan.h>

namespace vkf::vk {

enum class TexelFormat : uint8_t { None = 0, Rgba32f, Rgba16f, R32f, R16f };
inline constexpr int kTexelFormats = 4;

inline VkFormat vk_format(TexelFormat f) {
  switch (f) {
    case TexelFormat::Rgba32f: return VK_FORMAT_R32G32B32A32_SFLOAT;
    case TexelFormat::Rgba16f: return VK_FORMAT_R16G16B16A16_SFLOAT;
    case TexelFormat::R32f: return VK_FORMAT_R32_SFLOAT;
    case TexelFormat::R16f: return VK_FORMAT_R16_SFLOAT;
    default: return VK_FORMAT_UNDEFINED;
  }
}

inline uint32_t texel_bytes(TexelFormat f) {
  switch (f) {
    case TexelFormat::Rgba32f: return 16;
    case TexelFormat::Rgba16f: return 8;
    case TexelFormat::R32f: return 4;
    case TexelFormat::R16f: return 2;
    default: return 0;
  }
}

// The size a VkBuffer is created with for `bytes` of use: never a power of two. llvmpipe compiles a shader
// variant per "is the bound image's resource a power of two wide" (lp_sampler_static_texture_state_image),
// and a texel view's resource is its whole buffer; with every buffer (and the pipeline warm-up's scratch
// buffer) off powers of two, one variant serves every dispatch and the one compiled ahead is the one used.
inline uint64_t texel_key_size(uint64_t bytes) {
  return bytes >= 2 && (bytes & (bytes - 1)) == 0 ? bytes + 256 : bytes;
}

}  // namespace vkf::vk
