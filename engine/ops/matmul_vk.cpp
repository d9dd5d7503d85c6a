#include <algorithm>

#include "engine/ops/chunk.h"
#include "engine/ops/gemm.h"
#include "engine/ops/matmul.h"
#include "engine/ops/op_common.h"

namespace vkf::ops {

namespace {
struct BigB {
  int64_t nb, rows, M, N, K;
  bool b_shared;
  uint64_t Re;  // elements per region
  int64_t max_rows;
};

// Per batch, B is larger than one binding. trans_b (B [N, K], rows contiguous): chunk over N, binding a
// run of B rows and writing the matching C columns (ldc = N, region starting at the first column).
// Otherwise (B [K, N]): chunk over K, binding a run of B rows and the matching A columns (lda = K), the
// chunks after the first accumulating into C (bias added once, by the first).
void record_big_b(vk::Recorder& rec, gemm::Call call, const Tensor& a, const Tensor& b, const Tensor& c,
                  const Tensor* bias, const BigB& g, const std::string& what) {
  const uint64_t Re = g.Re, N = uint64_t(g.N), K = uint64_t(g.K);
  const uint64_t es = dtype_size(a.dtype());
  const uint64_t align = std::max<uint64_t>(rec.context().info().storage_offset_alignment, 4) / es;
  call.batch = 1, call.sa = call.sb = call.sc = 0;
  if (call.trans_b) {
    const uint64_t nn = std::min(N, Re / K);  // B rows (= C columns) per chunk
    require(nn >= 1, what + ": one row of b (" + std::to_string(K) + " values) exceeds one storage-buffer binding");
    for (int64_t z = 0; z < g.nb; ++z)
      for (uint64_t n0 = 0; n0 < N; n0 += nn) {
        const uint64_t cn = std::min(nn, N - n0);
        // A rows r: r*K elements; C rows r of cn columns at stride N: (r-1)*N + cn elements.
        const int64_t rows_per = std::min<int64_t>({int64_t(Re / K), int64_t((Re - cn) / N + 1), g.max_rows});
        require(rows_per >= 1, what + ": a single row exceeds the storage buffer range");
        Tensor bias_view;
        call.N = uint32_t(cn);
        if (bias) {  // bind only this chunk's bias values (from an aligned start) when the bias is aligned
          const uint64_t b0 = bias->offset() % (align * es) == 0 ? n0 / align * align : 0;
          bias_view = bias->slice0(int64_t(b0), int64_t(n0 + cn));
          call.bias = &bias_view, call.bias_off = uint32_t(n0 - b0);
        }
        call.b = {&b, (g.b_shared ? 0 : uint64_t(z) * N * K) + n0 * K, cn * K};
        for (int64_t r0 = 0; r0 < g.rows; r0 += rows_per) {
          const uint64_t r = uint64_t(std::min(rows_per, g.rows - r0)), row = uint64_t(z * g.rows + r0);
          call.M = uint32_t(r);
          call.a = {&a, row * K, r * K};
          call.c = {&c, row * N + n0, (r - 1) * N + cn};
          gemm::record(rec, call);
        }
      }
    return;
  }
  const uint64_t kc = std::min(K, Re / N);  // B rows (= A columns) per chunk
  require(kc >= 1, what + ": one row of b (" + std::to_string(N) + " values) exceeds one storage-buffer binding");
  // A rows r of kc columns at stride K: (r-1)*K + kc elements; C rows r: r*N.
  const int64_t rows_per = std::min<int64_t>({int64_t((Re - kc) / K + 1), int64_t(Re / N), g.max_rows});
  require(rows_per >= 1, what + ": a single row exceeds the storage buffer range");
  for (int64_t z = 0; z < g.nb; ++z)
    for (int64_t r0 = 0; r0 < g.rows; r0 += rows_per) {
      const uint64_t r = uint64_t(std::min(rows_per, g.rows - r0)), row = uint64_t(z * g.rows + r0);
      call.M = uint32_t(r);
      call.c = {&c, row * N, r * N};
      for (uint64_t k0 = 0; k0 < K; k0 += kc) {
        const uint64_t ck = std::min(kc, K - k0);
        call.K = uint32_t(ck);
        call.a = {&a, row * K + k0, (r - 1) * K + ck};
        call.b = {&b, (g.b_shared ? 0 : uint64_t(z) * K * N) + k0 * N, ck * N};
        call.accumulate = k0 > 0;
        call.bias = k0 == 0 ? bias : nullptr;
        call.bias_mode = k0 == 0 && bias ? gemm::kBiasPerCol : gemm::kNoBias;
        gemm::record(rec, call);
      }
    }
}
}  // namespace

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
  auto& ctx = rec.context();
  const auto& info = ctx.info();
  const uint64_t es = dtype_size(a.dtype());
  // Region budget: the gemm layer's (device range less alignment slack), lowered under a test binding cap.
  const uint64_t R = std::min(gemm::max_region_bytes(info), max_chunk_units(ctx, 16, what.c_str()) * 16);
  const uint64_t b_bytes = uint64_t(K * N) * es;
  if (!trans_b && gemm::tile_for(info).pack_nn && M * (b_shared ? batch : 1) >= 16 && K >= 4 && b_bytes <= R) {
    // CPU: repack B as B^T (O(K*N), small next to the O(M*K*N) product) and run the streaming NT kernel.
    // (A B larger than one binding takes the K-chunked NN path below instead.)
    const int64_t nbm = b_shared ? 1 : batch;
    Tensor b3 = b.reshape({nbm, K, N}), bt = empty(ctx, {nbm, N, K}, b.dtype());
    const int64_t group = std::max<int64_t>(1, int64_t(R / std::max<uint64_t>(b_bytes, 1)));
    for (int64_t z0 = 0; z0 < nbm; z0 += group) {  // gemm::transpose groups to the uncapped range: chunk here
      const int64_t z1 = std::min(nbm, z0 + group);
      gemm::transpose(rec, b3.slice0(z0, z1), bt.slice0(z0, z1), z1 - z0, K, N);
    }
    Shape bts = b_shared ? Shape{} : lead;
    bts.push_back(N);
    bts.push_back(K);
    matmul(rec, c, a, bt.reshape(bts), bias, true);
    return;
  }

  // Shared B: all batches are one tall A (rows contiguous), which chunks more freely.
  int64_t rows = M, nb = batch;
  if (b_shared) rows = M * batch, nb = 1;
  gemm::Tile tile = gemm::tile_for(info);
  const uint64_t Re = R / es;  // elements per region
  const int64_t max_rows = int64_t(65535) * tile.bm();
  gemm::Call call;
  call.bias = bias;
  call.bias_mode = bias ? gemm::kBiasPerCol : gemm::kNoBias;
  call.trans_b = trans_b;
  call.N = uint32_t(N), call.K = uint32_t(K), call.lda = uint32_t(K), call.ldb = uint32_t(trans_b ? K : N);
  call.ldc = uint32_t(N);
  if (b_bytes > R) {
    record_big_b(rec, call, a, b, c, bias, {nb, rows, M, N, K, b_shared, Re, max_rows}, what);
    return;
  }
  uint64_t row_bytes = std::max<uint64_t>(uint64_t(std::max(K, N)) * es, 1);
  int64_t rows_per = int64_t(std::min<uint64_t>(R / row_bytes, uint64_t(max_rows)));
  require(rows_per >= 1, what + ": a single row exceeds the storage buffer range");

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
