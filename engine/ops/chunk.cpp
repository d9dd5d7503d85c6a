#include "engine/ops/chunk.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace vkf::ops {

namespace {
thread_local uint64_t g_cap = 0;  // per thread: a test's cap never reaches a queue worker
uint64_t alignment(const vk::Context& ctx) { return std::max<uint64_t>(ctx.info().storage_offset_alignment, 4); }
}  // namespace

uint64_t binding_limit(const vk::Context& ctx) {
  uint64_t l = ctx.info().max_storage_buffer_range;
  return g_cap ? std::min(l, g_cap) : l;
}

void set_binding_limit_cap(uint64_t bytes) { g_cap = bytes; }

BoundRange bind_elems(const vk::Context& ctx, const Tensor& t, uint64_t begin, uint64_t count, bool write) {
  const uint64_t es = dtype_size(t.dtype());
  const uint64_t start = t.offset() + begin * es;
  const uint64_t aligned = start / alignment(ctx) * alignment(ctx);
  if ((start - aligned) % es != 0)
    throw std::logic_error("tensor offset " + std::to_string(t.offset()) + " is not a multiple of its element size");
  BoundRange r;
  r.arg = {&t.buffer(), aligned, start - aligned + count * es, write};
  r.first = uint32_t((start - aligned) / es);
  return r;
}

BoundRange bind_all(const vk::Context& ctx, const Tensor& t, bool write, const char* op) {
  BoundRange r = bind_elems(ctx, t, 0, uint64_t(t.numel()), write);
  if (r.arg.range > binding_limit(ctx))
    throw std::invalid_argument(std::string(op) + ": tensor " + shape_str(t.shape()) + " " + dtype_name(t.dtype()) +
                                " spans " + std::to_string(t.bytes()) +
                                " bytes, more than the device's maxStorageBufferRange (" +
                                std::to_string(binding_limit(ctx)) + ")");
  return r;
}

uint64_t max_chunk_units(const vk::Context& ctx, uint64_t unit_bytes, const char* op) {
  const uint64_t limit = binding_limit(ctx);
  const uint64_t room = limit > alignment(ctx) ? limit - alignment(ctx) : 0;
  unit_bytes = std::max<uint64_t>(unit_bytes, 1);
  if (unit_bytes > room)
    throw std::invalid_argument(std::string(op) + ": one unit of work spans " + std::to_string(unit_bytes) +
                                " bytes, more than the device's maxStorageBufferRange (" + std::to_string(limit) +
                                "); the tensor is too large for this op");
  // Also keep element indices of a chunk well inside uint32 (shaders index with uint).
  return std::min<uint64_t>(room / unit_bytes, uint64_t(1) << 31);
}

void for_each_chunk(const vk::Context& ctx, uint64_t units, uint64_t unit_bytes, const char* op,
                    const std::function<void(uint64_t, uint64_t)>& fn) {
  const uint64_t step = max_chunk_units(ctx, unit_bytes, op);
  for (uint64_t b = 0; b < units; b += step) fn(b, std::min(step, units - b));
}

bool fits_binding(const vk::Context& ctx, uint64_t bytes) {
  const uint64_t limit = binding_limit(ctx);
  return limit > alignment(ctx) && bytes <= limit - alignment(ctx);
}

void for_each_plane_chunk(const vk::Context& ctx, uint64_t planes, uint64_t rows, uint64_t plane_bytes,
                          uint64_t row_bytes, const char* op, const std::function<void(const PlaneChunk&)>& fn) {
  if (fits_binding(ctx, plane_bytes)) {
    for_each_chunk(ctx, planes, plane_bytes, op, [&](uint64_t p0, uint64_t np) { fn({p0, np, 0, rows}); });
    return;
  }
  const uint64_t step = max_chunk_units(ctx, row_bytes, op);
  for (uint64_t p = 0; p < planes; ++p)
    for (uint64_t r0 = 0; r0 < rows; r0 += step) fn({p, 1, r0, std::min(step, rows - r0)});
}

}  // namespace vkf::ops
