// Host <-> device copies outside a recording: a memcpy when the memory is mapped (lavapipe, integrated
// GPUs), else a temporary host-visible staging buffer and a one-shot copy submit.
#pragma once
#include <cstdint>
#include <span>

#include "engine/vk/allocator.h"

namespace vkf::vk {
class Context;
void write_buffer(Context& ctx, const Buffer& dst, uint64_t offset, std::span<const std::byte> data);
void read_buffer(Context& ctx, const Buffer& src, uint64_t offset, std::span<std::byte> out);
}  // namespace vkf::vk
