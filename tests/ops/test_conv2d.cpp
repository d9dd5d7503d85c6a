#include <catch2/catch.hpp>

#include <cmath>

#include "engine/ops/conv2d.h"
#include "engine/vk/recorder.h"
#include "tests/ops/eltwise_util.h"
#include "tests/ops/gemm_tolerance.h"
#include "tests/support/gpu.h"
#include "tests/support/kernel_family.h"

using namespace vkf;

namespace {

struct Case {
  int64_t B, Cin, Cout, H, W, k;
  ops::Conv2dParams p;
  bool bias;
};

float run_case(vk::Context& ctx, const Case& c, DType dt, uint32_t seed, const ops::Conv2dChunking* chunking = nullptr) {
  Shape xs{c.B, c.Cin, c.H, c.W}, ws{c.Cout, c.Cin, c.k, c.k};
  auto x = test::random_floats(size_t(shape_numel(xs)), seed), w = test::random_floats(size_t(shape_numel(ws)), seed + 1);
  auto bias = c.bias ? test::random_floats(size_t(c.Cout), seed + 2) : std::vector<float>{};
  Tensor tx = from_host(ctx, xs, x, dt), tw = from_host(ctx, ws, w, dt);
  Tensor tb = c.bias ? from_host(ctx, {c.Cout}, bias, dt) : Tensor{};
  Tensor y = empty(ctx, ops::conv2d_out_shape(xs, ws, c.p), dt);
  vk::Recorder rec(ctx);
  if (chunking)
    ops::conv2d(rec, y, tx, tw, c.bias ? &tb : nullptr, c.p, *chunking);
  else
    ops::conv2d(rec, y, tx, tw, c.bias ? &tb : nullptr, c.p);
  rec.submit();
  if (dt == DType::F16) x = test::f16_round(x), w = test::f16_round(w), bias = test::f16_round(bias);
  return test::rel_err(to_host(ctx, y), ops::conv2d_ref(x, xs, w, ws, bias, c.p));
}

}  // namespace

TEST_CASE("conv2d matches the CPU reference: kernels 1/3/5, stride 1/2, symmetric and asymmetric padding",
          "[ops][conv2d]") {
  auto& ctx = test::gpu();
  const int family = GENERATE(0, 1, 2);  // own kernels, the other family, CPU kernels with storage-buffer loads
  test::KernelFamilyScope kernels(family);
  INFO(kernels.name());
  using P = ops::Conv2dParams;
  const Case cases[] = {
      {2, 5, 7, 13, 11, 1, P::symmetric(0), true},   // 1x1 direct path
      {1, 5, 7, 13, 11, 1, P::symmetric(0, 2), false},
      {2, 5, 7, 13, 11, 3, P::symmetric(1), true},   {1, 5, 7, 13, 11, 3, P::symmetric(1, 2), false},
      {1, 5, 7, 13, 11, 5, P::symmetric(2), true},   {2, 5, 7, 13, 11, 5, P::symmetric(0, 2), true},
      {1, 5, 7, 13, 11, 3, P{2, 0, 1, 0, 1}, true},  // SD VAE downsample: pad (0,1,0,1), 3x3 stride 2
      {1, 8, 4, 16, 16, 3, P{2, 0, 1, 0, 1}, false}, {1, 16, 12, 9, 8, 3, P::symmetric(1), true},
      // 3x3 pad 1 (direct kernel on CPUs): partial channel tiles, row tails inside a lane segment, vec4 loads
      {1, 9, 37, 6, 20, 3, P::symmetric(1), true},   {2, 6, 5, 5, 12, 3, P::symmetric(1), false},
      {1, 4, 3, 3, 64, 3, P::symmetric(1), true},
      // Small outputs, many channels (the UNet's lowest levels): pixels as GEMM rows + transpose into y
      {2, 12, 128, 2, 2, 3, P::symmetric(1), true},  {1, 20, 70, 4, 4, 1, P::symmetric(0), true},
      {1, 8, 136, 1, 1, 3, P::symmetric(1), false},  {2, 6, 130, 4, 4, 3, P{2, 0, 1, 0, 1}, true},
  };
  uint32_t seed = 100;
  for (DType dt : {DType::F32, DType::F16}) {
    if (dt == DType::F16 && !ctx.info().fp16_storage) continue;
    for (const Case& c : cases) {
      float err = run_case(ctx, c, dt, seed += 3);
      INFO("dtype " << dtype_name(dt) << " B " << c.B << " Cin " << c.Cin << " Cout " << c.Cout << " " << c.H << "x"
                    << c.W << " k " << c.k << " stride " << c.p.stride << " pad " << c.p.pad_left << ","
                    << c.p.pad_right << "," << c.p.pad_top << "," << c.p.pad_bottom << " err " << err);
      CHECK(err <= test::gemm_tolerance(dt, c.Cin * c.k * c.k));
    }
  }
  CHECK(ctx.validation_message_count() == 0);
}

TEST_CASE("conv2d chunking over channels, columns and output channels accumulates correctly", "[ops][conv2d]") {
  auto& ctx = test::gpu();
  const int family = GENERATE(0, 1, 2);  // own kernels, the other family, CPU kernels with storage-buffer loads
  test::KernelFamilyScope kernels(family);
  INFO(kernels.name());
  // 4 KiB bindings and 8 KiB im2col buffers force every chunk loop to run several times on a small problem.
  ops::Conv2dChunking small{4096, 8192};
  const Case cases[] = {
      {2, 12, 20, 10, 9, 3, ops::Conv2dParams::symmetric(1), true},  // 2 output-channel chunks
      {1, 12, 9, 10, 9, 1, ops::Conv2dParams::symmetric(0), true},
      {1, 12, 9, 10, 9, 3, ops::Conv2dParams{2, 0, 1, 0, 1}, true},
  };
  uint32_t seed = 500;
  for (const Case& c : cases) {
    float err = run_case(ctx, c, DType::F32, seed += 3, &small);
    INFO("k " << c.k << " stride " << c.p.stride << " err " << err);
    CHECK(err <= test::gemm_tolerance(DType::F32, c.Cin * c.k * c.k));
  }
  // 16 KiB bindings with 1 KiB planes: the direct 3x3 kernel splits 24 input channels (16 + 8, accumulated
  // in y) and 40 output channels (16 + 16 + 8).
  const Case direct{2, 24, 40, 16, 16, 3, ops::Conv2dParams::symmetric(1), true};
  ops::Conv2dChunking mid{16384, 65536};
  float err = run_case(ctx, direct, DType::F32, 900, &mid);
  INFO("direct 3x3 chunked err " << err);
  CHECK(err <= test::gemm_tolerance(DType::F32, 24 * 9));
  CHECK_THROWS_AS(ops::conv2d_out_shape({1, 3, 4, 4}, {2, 4, 3, 3}, {}), std::invalid_argument);
  CHECK(ctx.validation_message_count() == 0);
}
