// `vkflow bench ops`: an FMA-only ceiling, then op benchmarks (GEMM, conv2d, ...) reported as median time
// (GPU timestamps and wall clock), GFLOP/s and the fraction of the ceiling they reach.
#pragma once
#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "engine/vk/context.h"
#include "engine/vk/recorder.h"

namespace vkf::bench {

struct Options {
  int repeat = 5;      // timed runs per case (after one warm-up)
  bool quick = false;  // smaller sizes (smoke test)
  std::string only;    // run only cases whose name contains this (the ceiling always runs)
};

struct Timing {
  double gpu_ms = 0;   // median of the GPU timestamp sums (0 when the device has no timestamps)
  double wall_ms = 0;  // median of record+submit+wait wall time
};

// Runs `record` (which records one workload) 1 + repeat times, one submit each; returns medians.
Timing time_workload(vk::Context& ctx, int repeat, const std::function<void(vk::Recorder&)>& record);

struct Result {
  std::string name;
  double flops = 0;  // floating-point operations of one run (2 per multiply-add)
  Timing t;
};

// One benchmark case. New op benchmarks (attention, ...) are added to the table in ops_bench.cpp.
struct Case {
  const char* name;
  Result (*run)(vk::Context& ctx, const Options& opt);
};
const std::vector<Case>& op_cases();

Result fma_ceiling(vk::Context& ctx, const Options& opt);
Result gemm_f32(vk::Context& ctx, const Options& opt);
Result gemm_f16(vk::Context& ctx, const Options& opt);
Result gemm_f32_nt(vk::Context& ctx, const Options& opt);
Result conv3x3(vk::Context& ctx, const Options& opt);

// Runs the ceiling and every case, printing a table to `out`. Returns false if any case failed.
bool run_ops(vk::Context& ctx, const Options& opt, std::ostream& out);

}  // namespace vkf::bench
