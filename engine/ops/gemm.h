// Internal GEMM recording shared by matmul/linear and conv2d: strided sub-block GEMM on regions of tensors,
// binding each region at an offset aligned down to minStorageBufferOffsetAlignment (the remainder goes to
// the shader as an element offset), with tile sizes from a per-device tuning table.
#pragma once
#include <cstdint>

#include "engine/tensor/tensor.h"
#include "engine/vk/context.h"
#include "engine/vk/recorder.h"

namespace vkf::ops::gemm {

// Register-blocking configuration (specialization constants of shaders/matmul.comp).
struct Tile {
  uint32_t wg;   // invocations per workgroup
  uint32_t tm;   // rows per invocation
  uint32_t tn4;  // groups of 4 columns per invocation
  uint32_t wn;   // invocations along N (wg / wn along M)
  bool pack_nn = false;  // repack a [K, N] B as [N, K] first (CPUs: the NT kernel streams rows)
  bool sg = false;       // transposed-B calls use shaders/matmul_sg.comp (wg == wn == subgroup size)
  uint32_t bm() const { return tm * (wg / wn); }
  uint32_t bn() const { return 4 * tn4 * wn; }
};
// Per-device choice (CPU/lavapipe vs GPU); VKFLOW_GEMM_TILE="wg,tm,tn4,wn" overrides it (tuning only).
Tile tile_for(const vk::DeviceInfo& info);

// Elements [off, off + count) of a tensor.
struct Region {
  const Tensor* t = nullptr;
  uint64_t off = 0, count = 0;
};

enum BiasMode : uint32_t { kNoBias = 0, kBiasPerCol = 1, kBiasPerRow = 2 };

struct Call {
  Region a, b, c;              // A [batch][M x K] (ld lda), B [batch][K x N] or [N x K] (ldb), C (ldc)
  const Tensor* bias = nullptr;
  uint32_t bias_off = 0;       // element offset into bias
  BiasMode bias_mode = kNoBias;
  bool accumulate = false;     // C += A*B (bias is then usually off)
  bool trans_b = false;
  uint32_t M = 0, N = 0, K = 0, lda = 0, ldb = 0, ldc = 0;
  uint32_t batch = 1, sa = 0, sb = 0, sc = 0;  // batch strides in elements (sb = 0: B shared)
  const char* label = "matmul";
};

// Records one dispatch; every region must fit the device's storage-buffer range (callers chunk).
void record(vk::Recorder& rec, const Call& call);

// Binds a region at its offset aligned down to the device's storage offset alignment; `elem_off` receives
// the region's first element relative to the binding.
vk::BufferArg bind(const vk::DeviceInfo& info, const Region& r, bool write, uint32_t& elem_off);

// dst[z] = src[z]^T for `batch` row-major KxN matrices (dst is [batch, N, K]), chunked to the binding limit.
void transpose(vk::Recorder& rec, const Tensor& src, const Tensor& dst, int64_t batch, int64_t K, int64_t N);

// Largest region (in bytes) a caller may hand to record(): the binding limit less alignment slack.
uint64_t max_region_bytes(const vk::DeviceInfo& info);

}  // namespace vkf::ops::gemm
