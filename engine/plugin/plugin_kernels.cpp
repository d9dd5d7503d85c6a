// "vkflow.kernels/1": plugin compute kernels. register_kernel (init time, CPU only) compiles GLSL with
// glslang or validates the shipped SPIR-V, and adds it as a runtime shader; dispatch records it into the
// run's recorder like any built-in op (the pipeline is built at first use and cached).
#include <atomic>
#include <cstring>
#include <mutex>

#include "engine/ops/chunk.h"
#include "engine/ops/op_common.h"
#include "engine/plugin/kernel_code.h"
#include "engine/plugin/plugin_internal.h"
#include "engine/vk/pipeline.h"

namespace vkf::plugin {
namespace {

std::atomic<uint32_t> g_kernel_serial{0};

vkflow_result_t k_register(const vkflow_host_t* host, const vkflow_kernel_desc_t* desc, vkflow_kernel_t* out) {
  if (!host || !host->host_data) return VKFLOW_INVALID_ARGUMENT;
  auto* lib = static_cast<Library*>(host->host_data);
  auto fail = [&](const std::string& why) {
    if (lib->registration_error.empty()) lib->registration_error = why;
    return VKFLOW_INVALID_ARGUMENT;
  };
  if (!lib->in_init) return fail("register_kernel called outside init");
  if (!desc || !out) return fail("register_kernel: desc/out is NULL");
  if (desc->struct_size < offsetof(vkflow_kernel_desc_t, push_bytes) + sizeof(uint32_t))
    return fail("kernel descriptor: struct_size " + std::to_string(desc->struct_size) + " is too small");
  const std::string name = desc->name ? desc->name : "";
  const std::string what = "kernel '" + name + "'";
  if (!sampling::is_valid_registry_name(name)) return fail(what + ": invalid name");
  for (const auto& k : lib->kernels)
    if (k->name == name) return fail(what + " registered twice");
  if (desc->binding_count < 1 || desc->binding_count > VKFLOW_KERNEL_MAX_BINDINGS)
    return fail(what + ": binding_count must be 1.." + std::to_string(VKFLOW_KERNEL_MAX_BINDINGS));
  if (desc->push_bytes > VKFLOW_KERNEL_MAX_PUSH_BYTES || desc->push_bytes % 4)
    return fail(what + ": push_bytes must be a multiple of 4 <= " + std::to_string(VKFLOW_KERNEL_MAX_PUSH_BYTES));
  if (!desc->code) return fail(what + ": no code");
  try {
    std::vector<uint32_t> spirv;
    if (desc->language == VKFLOW_KERNEL_GLSL) {
      const char* src = static_cast<const char*>(desc->code);
      spirv = compile_glsl_compute(desc->code_size ? std::string(src, desc->code_size) : std::string(src), what);
    } else if (desc->language == VKFLOW_KERNEL_SPIRV) {
      if (desc->code_size == 0 || desc->code_size % 4) return fail(what + ": SPIR-V size must be a positive multiple of 4");
      spirv.resize(desc->code_size / 4);
      std::memcpy(spirv.data(), desc->code, desc->code_size);
    } else {
      return fail(what + ": unknown language " + std::to_string(desc->language));
    }
    validate_spirv(spirv, what);
    auto k = std::make_unique<Kernel>();
    k->name = name;
    k->shader = "plugin" + std::to_string(++g_kernel_serial) + "_" + name;
    k->bindings = desc->binding_count;
    k->push_bytes = desc->push_bytes;
    add_runtime_shader(k->shader, std::move(spirv));
    *out = reinterpret_cast<vkflow_kernel_t>(k.get());
    lib->kernels.push_back(std::move(k));
    return VKFLOW_OK;
  } catch (const std::exception& e) {
    return fail(e.what());
  }
}

vkflow_result_t k_dispatch(vkflow_run_t* r, vkflow_kernel_t kernel, const vkflow_tensor_t* tensors, uint32_t count,
                           uint32_t write_mask, const void* push, uint32_t push_bytes, uint32_t gx, uint32_t gy,
                           uint32_t gz) {
  return guarded(r, "dispatch", [&] {
    const Kernel* k = nullptr;
    for (const auto& own : r->lib.kernels)
      if (reinterpret_cast<vkflow_kernel_t>(own.get()) == kernel) k = own.get();
    if (!k) throw BadArgument("not a kernel of this plugin");
    if (count != k->bindings || !tensors)
      throw BadArgument("kernel '" + k->name + "' takes " + std::to_string(k->bindings) + " tensors, got " + std::to_string(count));
    if (push_bytes != k->push_bytes || (push_bytes && !push))
      throw BadArgument("kernel '" + k->name + "' takes " + std::to_string(k->push_bytes) + " push bytes, got " + std::to_string(push_bytes));
    if (gx == 0 || gy == 0 || gz == 0 || gx > 65535 || gy > 65535 || gz > 65535)
      throw BadArgument("workgroup counts must be 1..65535");
    std::vector<vk::BufferArg> args;
    std::vector<Tensor> fresh(count);
    for (uint32_t i = 0; i < count; ++i) {
      const Tensor& t = get_tensor(r, tensors[i], "tensors[i]");
      if (t.dtype() != DType::F32) throw Unsupported("kernel bindings are F32 tensors");
      if (!ops::fits_binding(r->run.rec().context(), t.bytes()))
        throw BadArgument("tensor too large for one storage binding");
      args.push_back({&t.buffer(), t.offset(), t.bytes(), (write_mask >> i & 1u) != 0});
    }
    vk::PipelineDesc d{k->shader, k->bindings, k->push_bytes, {}};
    r->run.rec().dispatch(d, std::span<const vk::BufferArg>(args), push, push_bytes, gx, gy, gz, k->name.c_str());
    return VKFLOW_OK;
  });
}

const vkflow_kernels_t kKernels = {sizeof(vkflow_kernels_t), k_register, k_dispatch};

const char* kSqrtGlsl = R"(#version 450
layout(local_size_x = 256) in;
layout(std430, set = 0, binding = 0) readonly buffer A { float a[]; };
layout(std430, set = 0, binding = 1) writeonly buffer D { float d[]; };
layout(push_constant) uniform P { uint n; uint first_a; uint first_d; };
void main() {
  uint i = gl_GlobalInvocationID.x + gl_GlobalInvocationID.y * gl_NumWorkGroups.x * 256u;
  if (i < n) d[first_d + i] = sqrt(a[first_a + i]);
}
)";

}  // namespace

const vkflow_kernels_t* kernels_table() { return &kKernels; }

void record_sqrt(vk::Recorder& rec, const Tensor& a, const Tensor& dst) {
  static std::once_flag once;
  std::call_once(once, [] { add_runtime_shader("vkflow_plugin_sqrt", compile_glsl_compute(kSqrtGlsl, "sqrt")); });
  const uint64_t n = uint64_t(a.numel());
  const vk::PipelineDesc d{"vkflow_plugin_sqrt", 2, 12, {}};
  ops::for_each_chunk(rec.context(), n, 4, "sqrt", [&](uint64_t b, uint64_t cnt) {
    const ops::BoundRange ra = ops::bind_elems(rec.context(), a, b, cnt, false);
    const ops::BoundRange rd = ops::bind_elems(rec.context(), dst, b, cnt, true);
    struct {
      uint32_t n, fa, fd;
    } p{uint32_t(cnt), ra.first, rd.first};
    const auto g = ops::grid_1d(cnt, 256);
    rec.dispatch(d, {ra.arg, rd.arg}, &p, sizeof p, g.x, g.y, 1, "plugin_sqrt");
  });
}

}  // namespace vkf::plugin
