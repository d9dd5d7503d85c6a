#include "engine/ops/gemm.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>

#include "engine/ops/kernel_family.h"
#include "engine/ops/op_common.h"

namespace vkf::ops::gemm {

namespace {
// CPU (lavapipe), non-transposed B (rare: matmul repacks B as B^T unless M or K is tiny): one 8-wide SIMD
// subgroup per workgroup, 12 rows x 8 columns per invocation.
constexpr Tile kCpuNN{8, 12, 2, 2, true};

Tile tile_for_device(const vk::DeviceInfo& info) {
  // CPU (lavapipe), transposed B: shaders/matmul_sg.comp, a workgroup of one subgroup owning TM = 3L rows of
  // A x 8 rows of B per lane (A rows shared by subgroupBroadcast, so each loaded B element feeds 24 FMAs).
  // 1024^3 f32 on lavapipe (`vkflow bench ops`, GFLOP/s): TMxTN 24x8 45.7, 16x8 43, 16x12 42.7, 32x8 34,
  // 16x16 34, 24x12 35.5, 40x8 28.5, 32x4 32; the 12x8-per-lane kernel (matmul.comp) 28.
  const uint32_t L = info.subgroup_size;
  const bool cpu = kernel_family(info) == KernelFamily::Cpu;
  if (cpu && L >= 4 && L <= 16) return {L, 3 * L, 2, L, true, true};
  if (cpu) return kCpuNN;
  // GPUs: 256 invocations, 4x8 micro-tile, 64x128 block.
  return {256, 4, 2, 16, false};
}
}  // namespace

Tile tile_for(const vk::DeviceInfo& info) {
  static const char* const tile_env = std::getenv("VKFLOW_GEMM_TILE");  // read once per process
  if (const char* env = tile_env) {
    Tile t = tile_for_device(info);
    if (std::sscanf(env, "%u,%u,%u,%u", &t.wg, &t.tm, &t.tn4, &t.wn) == 4 && t.wn && t.wg % t.wn == 0 && t.tm && t.tn4) {
      t.sg = kernel_family(info) == KernelFamily::Cpu && t.wg == t.wn && t.wg == info.subgroup_size && t.tm % t.wg == 0;
      return t;
    }
    throw std::invalid_argument(std::string("VKFLOW_GEMM_TILE='") + env + "': expected wg,tm,tn4,wn with wg % wn == 0");
  }
  return tile_for_device(info);
}

uint64_t max_region_bytes(const vk::DeviceInfo& info) {
  return info.max_storage_buffer_range - std::max<uint64_t>(info.storage_offset_alignment, 16);
}

namespace {
struct Push {
  uint32_t M, N, K, lda, ldb, ldc, sa, sb, sc, oa, ob, oc, obias, flags;
};

}  // namespace

vk::BufferArg bind(const vk::DeviceInfo& info, const Region& r, bool write, uint32_t& elem_off) {
  uint64_t align = std::max<uint64_t>(info.storage_offset_alignment, 4);
  uint64_t es = dtype_size(r.t->dtype());
  uint64_t begin = r.t->offset() + r.off * es;
  uint64_t aligned = begin / align * align;
  elem_off = uint32_t((begin - aligned) / es);
  return {&r.t->buffer(), aligned, begin - aligned + std::max<uint64_t>(r.count, 1) * es, write};
}

namespace {

// matmul_sg's TEX variant: A and B through whole-buffer texel views, their element offsets counted from the
// buffer's start. Keeps the storage-buffer form when a view is impossible (a buffer past the texel limit,
// mixed dtypes) or a row start would not be a whole texel.
void use_texel_views(vk::Recorder& rec, const Call& c, vk::PipelineDesc& d, vk::BufferArg* args, Push& p) {
  const DType dt = c.c.t->dtype();
  if (c.a.t->dtype() != dt || c.b.t->dtype() != dt) return;
  const bool f16 = dt == DType::F16;
  const uint64_t es = dtype_size(dt);
  auto& alloc = rec.context().allocator();
  const uint64_t oa = c.a.t->offset() / es + c.a.off, ob = c.b.t->offset() / es + c.b.off;
  if (oa % 4 || ob % 4 || oa > UINT32_MAX || ob > UINT32_MAX) return;
  const vk::TexelFormat fmt = f16 ? vk::TexelFormat::Rgba16f : vk::TexelFormat::Rgba32f;
  VkBufferView va = alloc.texel_view(c.a.t->buffer(), fmt), vb = alloc.texel_view(c.b.t->buffer(), fmt);
  if (!va || !vb) return;
  args[0] = {&c.a.t->buffer(), 0, c.a.t->buffer().size, false, va};
  args[1] = {&c.b.t->buffer(), 0, c.b.t->buffer().size, false, vb};
  p.oa = uint32_t(oa), p.ob = uint32_t(ob);
  d.shader = f16 ? "matmul_sg_f16_tex" : "matmul_sg_tex";
  d.texel[0] = d.texel[1] = fmt;
}
}  // namespace

void record(vk::Recorder& rec, const Call& c) {
  if (c.M == 0 || c.N == 0 || c.batch == 0) return;
  const auto& info = rec.context().info();
  Push p{c.M, c.N, c.K, c.lda, c.ldb, c.ldc, c.sa, c.sb, c.sc, 0, 0, 0, c.bias_off,
         uint32_t(c.bias_mode) | (c.accumulate ? 4u : 0u)};
  vk::BufferArg args[4] = {bind(info, c.a, false, p.oa), bind(info, c.b, false, p.ob), bind(info, c.c, true, p.oc),
                           {}};
  args[3] = c.bias ? in(*c.bias) : args[0];  // unused bias slot aliases A (never read)
  // vec4 loads need every row start of A and B 16-byte (f32) / 8-byte (f16) aligned in element terms.
  bool vec4 = c.lda % 4 == 0 && c.ldb % 4 == 0 && p.oa % 4 == 0 && p.ob % 4 == 0 && c.sa % 4 == 0 && c.sb % 4 == 0 &&
              (c.trans_b ? c.K >= 4 : c.N >= 4);
  Tile t = tile_for(info);
  if (t.sg && !c.trans_b) t = kCpuNN;
  vk::PipelineDesc d{variant("matmul", c.c.t->dtype()) + (c.trans_b ? "_tb" : ""), 4, sizeof(Push),
                     {{0, t.wg}, {3, t.tm}, {4, t.tn4}, {5, t.wn}, {6, vec4 ? 4u : 1u}}};
  if (t.sg) d = {variant("matmul_sg", c.c.t->dtype()), 4, sizeof(Push), {{0, t.wg}, {3, t.tm}, {4, 4 * t.tn4}, {6, vec4 ? 4u : 1u}}};
  if (t.sg && vec4 && texel_loads()) use_texel_views(rec, c, d, args, p);
  uint32_t gx = (c.N + t.bn() - 1) / t.bn(), gy = (c.M + t.bm() - 1) / t.bm();
  if (gy > 65535 || c.batch > 65535 || gx > 65535)
    throw std::logic_error("gemm: grid too large (" + std::to_string(gx) + "x" + std::to_string(gy) + "x" +
                           std::to_string(c.batch) + "); the caller must chunk");
  rec.dispatch(d, std::span<const vk::BufferArg>(args, 4), &p, sizeof p, gx, gy, c.batch, c.label);
}

void transpose(vk::Recorder& rec, const Tensor& src, const Tensor& dst, int64_t batch, int64_t K, int64_t N) {
  const auto& info = rec.context().info();
  const uint64_t per = std::max<uint64_t>(uint64_t(K * N) * dtype_size(src.dtype()), 1);
  const int64_t group = std::max<int64_t>(1, int64_t(max_region_bytes(info) / per));
  struct {
    uint32_t K, N, count, soff, doff;
  } p{uint32_t(K), uint32_t(N), 0, 0, 0};
  vk::PipelineDesc d{variant("matmul_transpose", src.dtype()), 2, sizeof p, {{0, 64}}};
  for (int64_t z0 = 0; z0 < batch; z0 += group) {
    const uint64_t n = uint64_t(std::min(group, batch - z0) * K * N);
    vk::BufferArg args[2] = {bind(info, {&src, uint64_t(z0 * K * N), n}, false, p.soff),
                             bind(info, {&dst, uint64_t(z0 * K * N), n}, true, p.doff)};
    p.count = uint32_t(n);
    auto g = grid_1d(n, 64);
    rec.dispatch(d, std::span<const vk::BufferArg>(args, 2), &p, sizeof p, g.x, g.y, 1, "matmul_transpose");
  }
}

}  // namespace vkf::ops::gemm
