#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "engine/ops/conv2d.h"
#include "engine/ops/gemm.h"
#include "engine/ops/kernel_family.h"
#include "engine/ops/op_common.h"

namespace vkf::ops {
namespace {
struct Im2colPush {
  uint32_t Kc, Nc, n0, H, W, Wo, kh, kw, stride, pl, pt, xoff;
};

// 3x3 / stride 1 / pad 1 on CPU devices (lavapipe): shaders/conv2d_3x3.comp computes the output directly,
// skipping the im2col pass and reusing each loaded input element for 3 taps x TM channels (about 2x the
// im2col + GEMM path on `vkflow bench ops`). Images bigger than a binding are split into chunks of input
// channels (accumulated in y) and output channels. Returns false (the caller falls back to im2col + GEMM)
// for other shapes and for GPUs. VKFLOW_CONV_DIRECT=0 disables it, VKFLOW_CONV_TILE="tm,tn" overrides the
// tile (benchmarking only).
bool conv3x3_direct(vk::Recorder& rec, const Tensor& y, const Tensor& x, const Tensor& w, const Tensor* bias,
                    const Conv2dParams& p, uint64_t R) {
  const auto& info = rec.context().info();
  const uint32_t L = info.subgroup_size;  // a workgroup is one subgroup (weights travel by broadcast)
  if (kernel_family(info) != KernelFamily::Cpu || L < 4 || L > 16 || w.dim(2) != 3 || w.dim(3) != 3 || p.stride != 1 || p.pad_left != 1 ||
      p.pad_right != 1 || p.pad_top != 1 || p.pad_bottom != 1)
    return false;
  static const bool direct_off = [] {  // tuning switches: read once per process
    const char* e = std::getenv("VKFLOW_CONV_DIRECT");
    return e && std::string(e) == "0";
  }();
  static const char* const tile_env = std::getenv("VKFLOW_CONV_TILE");
  if (direct_off) return false;
  const int64_t B = x.dim(0), C = x.dim(1), H = x.dim(2), W = x.dim(3), CO = w.dim(0), HW = H * W;
  // Tile: TM = 16 channels; lane segments of 32 pixels were fastest at 320ch 64x64 (~15.5 GFLOP/s vs ~12 for
  // 16 and ~10 for 8; TM 8..32 and TN 4..32 tried), but that pipeline takes ~14 s to compile on lavapipe
  // (once, then Mesa's shader cache has it), so only convs big enough to repay it (>= 1e8 multiply-adds,
  // SD-size layers) use it. Otherwise the widest of 16 / 8 that divides W, so no lane idles on a row tail.
  uint32_t tm = 2 * L, tn = 16;
  if (W % 32 == 0 && double(C) * double(CO) * double(HW) * 9.0 >= 1e8) tn = 32;
  if (W % tn != 0) tn = 8;
  if (const char* env = tile_env) {
    if (std::sscanf(env, "%u,%u", &tm, &tn) != 2 || tm == 0 || tm % L || tn == 0 || tn > 32)
      throw std::invalid_argument(std::string("VKFLOW_CONV_TILE='") + env + "': expected tm,tn with tm % " +
                                  std::to_string(L) + " == 0, tn <= 32");
  }
  const uint64_t es = dtype_size(x.dtype()), plane = uint64_t(HW) * es, wrow = uint64_t(C * 9) * es;
  const uint32_t tiles_x = uint32_t((W + tn - 1) / tn);  // lane segments per row
  const uint64_t gx = (uint64_t(H) * tiles_x + L - 1) / L;
  // Images narrower than 8 or with fewer segments than lanes waste most of each workgroup: measured 2-4x
  // slower than im2col + GEMM at 2x2 and 4x4 (and 2-5x faster from 8x8 up).
  if (W < 8 || uint64_t(H) * tiles_x < L || plane > R || gx > 65535) return false;
  // Input-channel chunks bound the x binding; output-channel chunks (whole workgroups) bound y and w.
  int64_t cc = std::min<int64_t>(C, int64_t(R / plane));
  int64_t mc = std::min<int64_t>({CO, int64_t(R / plane), int64_t(R / wrow), int64_t(65535) * tm});
  if (mc < CO) mc = mc / tm * tm;
  if (mc == 0) return false;
  struct {
    uint32_t C, H, W, CO, tiles_x, xoff, woff, yoff, boff, flags, ldw;
  } push{0, uint32_t(H), uint32_t(W), 0, tiles_x, 0, 0, 0, 0, 0, uint32_t(C * 9)};
  for (int64_t b = 0; b < B; ++b)
    for (int64_t m0 = 0; m0 < CO; m0 += mc)
      for (int64_t c0 = 0; c0 < C; c0 += cc) {
        const int64_t m = std::min(mc, CO - m0), cn = std::min(cc, C - c0);
        push.C = uint32_t(cn), push.CO = uint32_t(m);
        push.flags = (bias && c0 == 0 ? 1u : 0u) | (c0 > 0 ? 2u : 0u);
        vk::BufferArg args[5] = {
            gemm::bind(info, {&x, uint64_t((b * C + c0) * HW), uint64_t(cn * HW)}, false, push.xoff),
            gemm::bind(info, {&w, uint64_t(m0 * C * 9 + c0 * 9), uint64_t((m - 1) * C * 9 + cn * 9)}, false, push.woff),
            gemm::bind(info, {&y, uint64_t((b * CO + m0) * HW), uint64_t(m * HW)}, true, push.yoff), {}, {}};
        args[3] = bias ? gemm::bind(info, {bias, uint64_t(m0), uint64_t(m)}, false, push.boff) : args[1];
        const uint32_t vec = W % 4 == 0 && tn % 4 == 0 && push.xoff % 4 == 0 ? 4 : 1;  // vec4 window loads
        vk::PipelineDesc d{variant("conv2d_3x3", x.dtype()), 4, sizeof push, {{0, L}, {3, tm}, {4, tn}, {5, vec}}};
        // The TEX variant: x and w through whole-buffer texel views, offsets from the buffers' starts.
        const uint64_t xabs = x.offset() / es + uint64_t((b * C + c0) * HW), wabs = w.offset() / es + uint64_t(m0 * C * 9 + c0 * 9);
        auto& alloc = rec.context().allocator();
        const bool f16 = x.dtype() == DType::F16;
        using TF = vk::TexelFormat;
        VkBufferView xv = VK_NULL_HANDLE, xr = VK_NULL_HANDLE, wr = VK_NULL_HANDLE;
        if (vec == 4 && texel_loads() && xabs % 4 == 0 && xabs <= UINT32_MAX && wabs <= UINT32_MAX) {
          xv = alloc.texel_view(x.buffer(), f16 ? TF::Rgba16f : TF::Rgba32f);
          xr = alloc.texel_view(x.buffer(), f16 ? TF::R16f : TF::R32f);
          wr = alloc.texel_view(w.buffer(), f16 ? TF::R16f : TF::R32f);
        }
        uint32_t nargs = 4;
        auto pc = push;
        if (xv && xr && wr) {
          args[0] = {&x.buffer(), 0, x.buffer().size, false, xv};
          args[1] = {&w.buffer(), 0, w.buffer().size, false, wr};
          args[4] = {&x.buffer(), 0, x.buffer().size, false, xr};
          pc.xoff = uint32_t(xabs), pc.woff = uint32_t(wabs);
          d.shader = f16 ? "conv2d_3x3_f16_tex" : "conv2d_3x3_tex";
          d.bindings = nargs = 5;
          d.texel[0] = f16 ? TF::Rgba16f : TF::Rgba32f;
          d.texel[1] = d.texel[4] = f16 ? TF::R16f : TF::R32f;
        }
        rec.dispatch(d, std::span<const vk::BufferArg>(args, nargs), &pc, sizeof pc, uint32_t(gx),
                     uint32_t((m + tm - 1) / tm), 1, "conv2d_3x3");
      }
  return true;
}
gemm::Region cr_of(const Tensor& col, int64_t count) { return {&col, 0, uint64_t(count)}; }

// Share of a GEMM's computed M x N block that is real output, with blocks of bm x bn.
double tile_use(int64_t M, int64_t N, const gemm::Tile& t) {
  const auto up = [](int64_t v, int64_t b) { return double((v + b - 1) / b * b); };
  return double(M) / up(M, t.bm()) * double(N) / up(N, t.bn());
}
}  // namespace

void conv2d(vk::Recorder& rec, const Tensor& y, const Tensor& x, const Tensor& w, const Tensor* bias,
            const Conv2dParams& p) {
  conv2d(rec, y, x, w, bias, p, Conv2dChunking{});
}

void conv2d(vk::Recorder& rec, const Tensor& y, const Tensor& x, const Tensor& w, const Tensor* bias,
            const Conv2dParams& p, const Conv2dChunking& chunking) {
  Shape ys = conv2d_out_shape(x.shape(), w.shape(), p);
  const std::string what = "conv2d(x " + shape_str(x.shape()) + ", w " + shape_str(w.shape()) + ")";
  require(y.shape() == ys, what + ": output must be " + shape_str(ys) + ", got " + shape_str(y.shape()));
  require(x.dtype() == w.dtype() && x.dtype() == y.dtype() && (x.dtype() == DType::F32 || x.dtype() == DType::F16),
          what + ": x, w, y must all be f32 or all f16");
  const int64_t B = ys[0], C = x.dim(1), H = x.dim(2), W = x.dim(3), CO = ys[1], KH = w.dim(2), KW = w.dim(3);
  const int64_t HWo = ys[2] * ys[3], HW = H * W, khw = KH * KW, Ktot = C * khw;
  if (bias)
    require(bias->rank() == 1 && bias->dim(0) == CO && bias->dtype() == x.dtype(),
            what + ": bias must be [" + std::to_string(CO) + "] of the same dtype, got " + shape_str(bias->shape()));
  if (y.numel() == 0) return;
  const auto& info = rec.context().info();
  const uint64_t R = chunking.region_bytes ? chunking.region_bytes : gemm::max_region_bytes(info), es = dtype_size(x.dtype());
  if (conv3x3_direct(rec, y, x, w, bias, p, R)) return;
  // A 1x1 conv multiplies x in place (B = x as [Cin, H*W]), except where the GEMM prefers B^T rows (CPUs):
  // there the im2col pass is exactly that transpose.
  const bool direct = KH == 1 && KW == 1 && p.stride == 1 && !p.pad_left && !p.pad_right && !p.pad_top &&
                      !p.pad_bottom && !gemm::tile_for(info).pack_nn;
  require(uint64_t(HW) * es <= R && uint64_t(HWo) * es <= R && uint64_t(Ktot) * es <= R,
          what + ": one channel plane exceeds the device's storage buffer range");

  // Input channels per chunk (x binding), multiple of 4 when split so weight sub-blocks stay vec4-aligned.
  int64_t cc = std::min<int64_t>(C, int64_t(R / (uint64_t(HW) * es)));
  if (cc < C && cc >= 4) cc &= ~int64_t(3);
  // Output columns per chunk: bounded im2col buffer (a direct 1x1 conv reads x in place).
  int64_t nc = HWo;
  if (!direct) {
    uint64_t budget = std::min(chunking.col_bytes, R);
    nc = std::clamp<int64_t>(int64_t(budget / (uint64_t(cc * khw) * es)), 1, HWo);
    if (nc < HWo && nc >= 4) nc &= ~int64_t(3);
  }
  // Output channels per chunk (y and weight bindings, grid height).
  gemm::Tile tile = gemm::tile_for(info);
  int64_t mc = std::min<int64_t>({CO, int64_t(R / (uint64_t(HWo) * es)), int64_t(R / (uint64_t(Ktot) * es)),
                                  int64_t(65535) * tile.bm()});

  // Small outputs (the UNet's 4x4 .. 1x1 levels): C = W x col^T has few columns (HWo) next to the tile's
  // bn (64 on lavapipe), so most lanes would compute padding. There, with one chunk in every direction,
  // compute y^T [HWo, CO] = col x W^T instead (pixels as rows, the tile's shorter side) into a scratch
  // tensor and transpose it into y: one small extra pass for up to ~16x less wasted work.
  const bool pixel_rows = !direct && cc == C && nc == HWo && mc == CO && uint64_t(HWo * CO) * es <= R &&
                          tile_use(HWo, CO, tile) > 1.25 * tile_use(CO, HWo, tile);
  Tensor col, yt;
  if (!direct) col = empty(rec.context(), {cc * khw * nc}, x.dtype());
  if (pixel_rows) yt = empty(rec.context(), {1, HWo, CO}, x.dtype());
  vk::PipelineDesc im2col{variant("conv2d_im2col", x.dtype()), 2, sizeof(Im2colPush), {{0, 64}}};
  gemm::Call call;
  call.label = "conv2d";
  call.lda = uint32_t(Ktot), call.ldc = uint32_t(HWo);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t n0 = 0; n0 < HWo; n0 += nc) {
      const int64_t n = std::min(nc, HWo - n0);
      for (int64_t c0 = 0; c0 < C; c0 += cc) {
        const int64_t cn = std::min(cc, C - c0), kc = cn * khw;
        gemm::Region xr{&x, uint64_t((b * C + c0) * HW), uint64_t(cn * HW)};
        if (direct) {
          call.b = {&x, xr.off + uint64_t(n0), uint64_t((cn - 1) * HW + n)};
          call.ldb = uint32_t(HW);
          call.trans_b = false;
        } else {
          call.trans_b = true;
          Im2colPush ip{uint32_t(kc), uint32_t(n), uint32_t(n0), uint32_t(H), uint32_t(W), uint32_t(ys[3]),
                        uint32_t(KH), uint32_t(KW), uint32_t(p.stride), uint32_t(p.pad_left), uint32_t(p.pad_top), 0};
          gemm::Region cr{&col, 0, uint64_t(kc * n)};
          uint32_t unused = 0;
          vk::BufferArg args[2] = {gemm::bind(info, xr, false, ip.xoff), gemm::bind(info, cr, true, unused)};
          auto g = grid_1d(uint64_t(kc * n), 64);
          rec.dispatch(im2col, std::span<const vk::BufferArg>(args, 2), &ip, sizeof ip, g.x, g.y, 1, "conv2d_im2col");
          call.b = cr;
          call.ldb = uint32_t(kc);
        }
        if (pixel_rows) {
          gemm::Call t = call;
          t.M = uint32_t(HWo), t.N = uint32_t(CO), t.K = uint32_t(kc);
          t.a = cr_of(col, kc * n), t.lda = uint32_t(kc);
          t.b = {&w, 0, uint64_t(CO * Ktot)}, t.ldb = uint32_t(Ktot), t.trans_b = true;
          t.c = {&yt, 0, uint64_t(HWo * CO)}, t.ldc = uint32_t(CO);
          t.bias = bias, t.bias_mode = bias ? gemm::kBiasPerCol : gemm::kNoBias, t.bias_off = 0;
          t.accumulate = false;
          gemm::record(rec, t);
          gemm::transpose(rec, yt, y.slice0(b, b + 1), 1, HWo, CO);
          continue;
        }
        for (int64_t m0 = 0; m0 < CO; m0 += mc) {
          const int64_t m = std::min(mc, CO - m0);
          call.M = uint32_t(m), call.N = uint32_t(n), call.K = uint32_t(kc);
          call.a = {&w, uint64_t(m0 * Ktot + c0 * khw), uint64_t((m - 1) * Ktot + kc)};
          call.c = {&y, uint64_t((b * CO + m0) * HWo + n0), uint64_t((m - 1) * HWo + n)};
          call.bias = bias && c0 == 0 ? bias : nullptr;
          call.bias_mode = call.bias ? gemm::kBiasPerRow : gemm::kNoBias;
          call.bias_off = uint32_t(m0);
          call.accumulate = c0 > 0;
          gemm::record(rec, call);
        }
      }
    }
}

Tensor conv2d(vk::Recorder& rec, const Tensor& x, const Tensor& w, const Tensor* bias, const Conv2dParams& p) {
  Tensor y = empty(rec.context(), conv2d_out_shape(x.shape(), w.shape(), p), x.dtype());
  conv2d(rec, y, x, w, bias, p);
  return y;
}

}  // namespace vkf::ops
