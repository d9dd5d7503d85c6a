#include <algorithm>

#include "engine/ops/gemm.h"
#include "engine/ops/matmul.h"
#include "engine/ops/op_common.h"

namespace vkf::ops {

void matmul(vk::Recorder& rec, const Tensor& c, const Tensor& a, const Tensor& b, const Tensor* bias, bool trans_b) {
  const std::string what = "matmul(a " + shape_str(a.shape()) + ", b " + shape_str(b.shape()) +
                           (trans_b ? " transposed" : "") + ", c " + shape_str(c.shape()) + ")";
  require(a.rank() >= 2 && b.rank() >= 2, what + ": a and b need rank >= 2");
  require(a.dtype() == b.dtype() && a.dtype() == c.dtype() && (a.dtype() == DType::F32 || a.dtype() == DType::F16),
          what + ": a, b, c must all be f32 or all f16");
  const int64_t M = a.dim(-2), K = a.dim(-1);
  const int64_t N = trans_b ? b.dim(-2) : b.dim(-1), Kb = trans_b ? b.dim(-1) : b.dim(-2);
  require(K == Kb, what + ": inner dimensions differ (" + std::to_string(K) + " vs " + std::to_string(Kb) + ")");
  Shape lead(a.shape().begin(), a.shape().end() - 2);
  const bool b_shared = b.rank() == 2;
  require(b_shared || Shape(b.shape().begin(), b.shape().end() - 2) == lead,
          what + ": b must be 2-D (shared) or have a's batch dims");
  Shape want = lead;
  want.push_back(M);
  want.push_back(N);
  require(c.shape() == want, what + ": c must have shape " + shape_str(want));
  if (bias) {
    require(bias->rank() == 1 && bias->dim(0) == N, what + ": bias must be [" + std::to_string(N) + "], got " +
                                                        shape_str(bias->shape()));
    require(bias->dtype() == a.dtype(), what + ": bias dtype differs");
  }
  int64_t batch = shape_numel(lead);
  if (c.numel() == 0) return;
  const auto& info = rec.context().info();
  if (!trans_b && gemm::tile_for(info).pack_nn && M * (b_shared ? batch : 1) >= 16 && K >= 4) {
    // CPU: repack B as B^T (O(K*N), small next to the O(M*K*N) product) and run the streaming NT kernel.
    Shape bts = b_shared ? Shape{} : lead;
    bts.push_back(N);
    bts.push_back(K);
    Tensor bt = empty(rec.context(), bts, b.dtype());
    gemm::transpose(rec, b, bt, b_shared ? 1 : batch, K, N);
    matmul(rec, c, a, bt, bias, true);
    return;
  }

  // Shared B: all batches are one tall A (rows contiguous), which chunks more freely.
  int64_t rows = M, nb = batch;
  if (b_shared) rows = M * batch, nb = 1;
  const uint64_t R = gemm::max_region_bytes(info), es = dtype_size(a.dtype());
  const uint64_t b_bytes = uint64_t(K * N) * es;
  require(b_bytes <= R, what + ": b (" + std::to_string(b_bytes) + " bytes per batch) exceeds the device's storage "
                              "buffer range; split the weight");
  gemm::Tile tile = gemm::tile_for(info);
  uint64_t row_bytes = std::max<uint64_t>(uint64_t(std::max(K, N)) * es, 1);
  int64_t rows_per = int64_t(std::min<uint64_t>(R / row_bytes, uint64_t(65535) * tile.bm()));
  require(rows_per >= 1, what + ": a single row exceeds the storage buffer range");

  gemm::Call call;
  call.bias = bias;
  call.bias_mode = bias ? gemm::kBiasPerCol : gemm::kNoBias;
  call.trans_b = trans_b;
  call.N = uint32_t(N), call.K = uint32_t(K), call.lda = uint32_t(K), call.ldb = uint32_t(trans_b ? K : N);
  call.ldc = uint32_t(N);
  if (rows_per >= rows) {
    // Whole batches per dispatch (as many as fit one binding).
    uint64_t per = std::max<uint64_t>({uint64_t(M * K) * es, b_shared ? 0 : b_bytes, uint64_t(M * N) * es, 1});
    int64_t group = std::clamp<int64_t>(int64_t(R / per), 1, 65535);
    for (int64_t z0 = 0; z0 < nb; z0 += group) {
      int64_t g = std::min(group, nb - z0);
      call.M = uint32_t(rows), call.batch = uint32_t(g);
      call.sa = uint32_t(M * K), call.sb = b_shared ? 0 : uint32_t(K * N), call.sc = uint32_t(M * N);
      call.a = {&a, uint64_t(z0 * M * K), uint64_t(g * rows * K)};
      call.b = {&b, b_shared ? 0 : uint64_t(z0 * K * N), uint64_t((b_shared ? 1 : g) * K * N)};
      call.c = {&c, uint64_t(z0 * M * N), uint64_t(g * rows * N)};
      gemm::record(rec, call);
    }
    return;
  }
  // Row chunks within each batch (a single batch's A or C is larger than one binding).
  for (int64_t z = 0; z < nb; ++z)
    for (int64_t r0 = 0; r0 < rows; r0 += rows_per) {
      int64_t r = std::min(rows_per, rows - r0);
      call.M = uint32_t(r), call.batch = 1, call.sa = call.sb = call.sc = 0;
      call.a = {&a, uint64_t((z * rows + r0) * K), uint64_t(r * K)};
      call.b = {&b, b_shared ? 0 : uint64_t(z * K * N), uint64_t(K * N)};
      call.c = {&c, uint64_t((z * rows + r0) * N), uint64_t(r * N)};
      gemm::record(rec, call);
    }
}

Tensor matmul(vk::Recorder& rec, const Tensor& a, const Tensor& b, const Tensor* bias, bool trans_b) {
  require(a.rank() >= 2 && b.rank() >= 2, "matmul: a " + shape_str(a.shape()) + " and b " + shape_str(b.shape()) +
                                              " need rank >= 2");
  Shape s = a.shape();
  s.back() = trans_b ? b.dim(-2) : b.dim(-1);
  Tensor c = empty(rec.context(), s, a.dtype());
  matmul(rec, c, a, b, bias, trans_b);
  return c;
}

void linear(vk::Recorder& rec, const Tensor& y, const Tensor& x, const Tensor& w, const Tensor* bias) {
  require(x.rank() >= 1 && w.rank() == 2 && x.dim(-1) == w.dim(1),
          "linear: x " + shape_str(x.shape()) + " does not match weight " + shape_str(w.shape()) + " ([N, K])");
  Shape ys = x.shape();
  ys.back() = w.dim(0);
  require(y.shape() == ys, "linear: output must be " + shape_str(ys) + ", got " + shape_str(y.shape()));
  int64_t rows = x.numel() / std::max<int64_t>(x.dim(-1), 1);
  if (x.dim(-1) == 0) rows = shape_numel(Shape(x.shape().begin(), x.shape().end() - 1));
  matmul(rec, y.reshape({rows, w.dim(0)}), x.reshape({rows, x.dim(-1)}), w, bias, /*trans_b=*/true);
}

Tensor linear(vk::Recorder& rec, const Tensor& x, const Tensor& w, const Tensor* bias) {
  require(x.rank() >= 1 && w.rank() == 2, "linear: x " + shape_str(x.shape()) + ", weight " + shape_str(w.shape()));
  Shape ys = x.shape();
  ys.back() = w.dim(0);
  Tensor y = empty(rec.context(), ys, x.dtype());
  linear(rec, y, x, w, bias);
  return y;
}

}  // namespace vkf::ops
