#include "engine/bench/ops_bench.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <exception>

#include "engine/bench/attention_bench.h"
#include "engine/ops/conv2d.h"
#include "engine/ops/matmul.h"
#include "engine/ops/op_common.h"
#include "engine/tensor/tensor.h"

namespace vkf::bench {
namespace {

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

std::vector<float> ramp(size_t n, float scale) {  // deterministic, cheap, non-trivial data
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = scale * float(int((i * 2654435761u) >> 7) % 2001 - 1000) * 1e-3f;
  return v;
}

Result gemm_case(vk::Context& ctx, const Options& opt, DType dt, const char* name, bool trans_b = false) {
  const int64_t n = opt.quick ? 256 : 1024;
  Result r{name, 2.0 * double(n) * double(n) * double(n), {}};
  if (dt == DType::F16 && !ctx.info().fp16_storage) {
    r.name += " (skipped: no 16-bit storage)";
    return r;
  }
  Tensor a = from_host(ctx, {n, n}, ramp(size_t(n * n), 1.0f), dt);
  Tensor b = from_host(ctx, {n, n}, ramp(size_t(n * n), 0.5f), dt);
  Tensor c = empty(ctx, {n, n}, dt);
  r.t = time_workload(ctx, opt.repeat, [&](vk::Recorder& rec) { ops::matmul(rec, c, a, b, nullptr, trans_b); });
  return r;
}

}  // namespace

Timing time_workload(vk::Context& ctx, int repeat, const std::function<void(vk::Recorder&)>& record) {
  std::vector<double> gpu, wall;
  for (int i = 0; i <= std::max(repeat, 1); ++i) {
    vk::Recorder rec(ctx, /*profile=*/true);
    auto t0 = std::chrono::steady_clock::now();
    record(rec);
    rec.submit();
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    if (i == 0) continue;  // warm-up: pipeline creation, first-touch of buffers
    wall.push_back(ms);
    gpu.push_back(rec.gpu_ms_total());
  }
  return {median(gpu), median(wall)};
}

Result fma_ceiling(vk::Context& ctx, const Options& opt) {
  // Enough invocations to fill every core / SM, a long FMA chain each.
  const bool cpu = ctx.info().is_cpu();
  const uint32_t local = cpu ? 8 : 256, groups = cpu ? 64 : 4096, iters = opt.quick ? 1024 : (cpu ? 65536 : 16384);
  struct Push {
    uint32_t iters;
    float mul, add;
  } p{iters, 0.999f, 1e-3f};
  Tensor o = empty(ctx, {int64_t(local) * groups}, DType::F32);
  Result r{"fma ceiling", 2.0 * 12 * 8 * double(iters) * local * groups, {}};
  vk::PipelineDesc d{"bench_fma_peak", 1, sizeof(Push), {{0, local}}};
  r.t = time_workload(ctx, opt.repeat, [&](vk::Recorder& rec) {
    rec.dispatch(d, {ops::out(o)}, &p, sizeof p, groups, 1, 1, "fma_peak");
  });
  return r;
}

Result gemm_f32(vk::Context& ctx, const Options& opt) { return gemm_case(ctx, opt, DType::F32, "gemm f32 NxNxN"); }
Result gemm_f16(vk::Context& ctx, const Options& opt) { return gemm_case(ctx, opt, DType::F16, "gemm f16 NxNxN"); }
Result gemm_f32_nt(vk::Context& ctx, const Options& opt) {
  return gemm_case(ctx, opt, DType::F32, "gemm f32 NxNxN, B^T (linear)", true);
}

Result conv3x3(vk::Context& ctx, const Options& opt) {
  const int64_t c = opt.quick ? 64 : 320, hw = opt.quick ? 32 : 64;
  Result r{"conv2d 3x3 320->320 64x64", 2.0 * double(c * c * 9) * double(hw * hw), {}};
  if (opt.quick) r.name = "conv2d 3x3 64->64 32x32";
  Tensor x = from_host(ctx, {1, c, hw, hw}, ramp(size_t(c * hw * hw), 1.0f));
  Tensor w = from_host(ctx, {c, c, 3, 3}, ramp(size_t(c * c * 9), 0.05f));
  Tensor bias = from_host(ctx, {c}, ramp(size_t(c), 0.1f));
  Tensor y = empty(ctx, {1, c, hw, hw});
  ops::Conv2dParams cp;
  cp.pad_left = cp.pad_right = cp.pad_top = cp.pad_bottom = 1;
  r.t = time_workload(ctx, opt.repeat, [&](vk::Recorder& rec) { ops::conv2d(rec, y, x, w, &bias, cp); });
  return r;
}

const std::vector<Case>& op_cases() {
  static const std::vector<Case> cases = {
      {"gemm_f32", gemm_f32},
      {"gemm_f16", gemm_f16},
      {"gemm_f32_nt", gemm_f32_nt},
      {"conv3x3", conv3x3},
      {"attention_self", attention_self},
      {"attention_cross", attention_cross},
      {"attention_self_f16", attention_self_f16},
  };
  return cases;
}

bool run_ops(vk::Context& ctx, const Options& opt, std::ostream& out) {
  const auto& info = ctx.info();
  out << "device: " << info.name << (info.timestamps ? "" : "  (no GPU timestamps: gpu column is 0)") << "\n"
      << "median of " << opt.repeat << " runs" << (opt.quick ? ", quick sizes" : "") << "\n\n";
  char line[256];
  std::snprintf(line, sizeof line, "%-34s %10s %10s %10s %10s %8s\n", "case", "gpu ms", "wall ms", "GFLOP/s",
                "(wall)", "ceiling");
  out << line;
  auto print = [&](const Result& r, double ceiling) {
    double g = r.t.gpu_ms > 0 ? r.flops / (r.t.gpu_ms * 1e6) : 0, w = r.t.wall_ms > 0 ? r.flops / (r.t.wall_ms * 1e6) : 0;
    double best = g > 0 ? g : w;
    std::snprintf(line, sizeof line, "%-34s %10.3f %10.3f %10.2f %10.2f %7.1f%%\n", r.name.c_str(), r.t.gpu_ms,
                  r.t.wall_ms, g, w, ceiling > 0 ? 100.0 * best / ceiling : 100.0);
    out << line << std::flush;
    return best;
  };
  Result peak = fma_ceiling(ctx, opt);
  double ceiling = print(peak, 0);
  bool ok = true;
  for (const auto& c : op_cases()) {
    if (!opt.only.empty() && std::string(c.name).find(opt.only) == std::string::npos) continue;
    try {
      print(c.run(ctx, opt), ceiling);
    } catch (const std::exception& e) {
      out << c.name << ": FAILED: " << e.what() << "\n";
      ok = false;
    }
  }
  return ok;
}

}  // namespace vkf::bench
