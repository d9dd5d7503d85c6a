// Binding tensor sub-ranges and splitting work into dispatches whose bindings each stay within
// maxStorageBufferRange (128 MiB on lavapipe). Offsets are aligned down to the device's storage-buffer
// offset alignment; the element skip this causes travels to the shader as `first` (push constant), which
// also makes unaligned views (slice0 of odd-sized f16 rows) bindable.
#pragma once
#include <cstdint>
#include <functional>

#include "engine/tensor/tensor.h"
#include "engine/vk/context.h"
#include "engine/vk/recorder.h"

namespace vkf::ops {

struct BoundRange {
  vk::BufferArg arg;
  uint32_t first = 0;  // index (in elements) of element `begin` inside the binding
};

// Largest binding range ops plan for: the device's maxStorageBufferRange, or less under a test cap.
uint64_t binding_limit(const vk::Context& ctx);
// Testing seam: caps binding_limit (never raises it) so chunk boundaries can be exercised with small
// tensors; 0 removes the cap. Applies to the calling thread only: tests only.
void set_binding_limit_cap(uint64_t bytes);

// Binds elements [begin, begin+count) of the contiguous tensor t.
BoundRange bind_elems(const vk::Context& ctx, const Tensor& t, uint64_t begin, uint64_t count, bool write);
// Whole tensor (the binding must fit maxStorageBufferRange; error names `op`).
BoundRange bind_all(const vk::Context& ctx, const Tensor& t, bool write, const char* op);

// Largest number of units a chunk may hold when one unit spans `unit_bytes` bytes of the largest binding
// (leaves room for the alignment slack). Throws naming `op` when a single unit is already too big.
uint64_t max_chunk_units(const vk::Context& ctx, uint64_t unit_bytes, const char* op);

// Calls fn(begin, count) for consecutive chunks covering [0, units), each at most max_chunk_units.
void for_each_chunk(const vk::Context& ctx, uint64_t units, uint64_t unit_bytes, const char* op,
                    const std::function<void(uint64_t begin, uint64_t count)>& fn);

// True when a binding of `bytes` (plus alignment slack) fits binding_limit.
bool fits_binding(const vk::Context& ctx, uint64_t bytes);

// Splits `planes` planes of `rows` rows each: whole planes per chunk while one plane fits (plane_bytes: the
// largest per-plane span of any binding of the op), else bands of rows within one plane (row_bytes: the
// largest per-row span; throws naming `op` when one row is already too big).
struct PlaneChunk {
  uint64_t plane0, planes, row0, rows;
};
void for_each_plane_chunk(const vk::Context& ctx, uint64_t planes, uint64_t rows, uint64_t plane_bytes,
                          uint64_t row_bytes, const char* op, const std::function<void(const PlaneChunk&)>& fn);

}  // namespace vkf::ops
