/* A test plugin that hands its sample call to the test (tests/plugins/test_plugin_ops.cpp): the test
 * installs a probe through the exported tp_probe_install and, inside sample(), exercises the tensor-ops and
 * kernels tables exactly as a plugin sees them (fetched here with get_capability). It also registers one
 * GLSL kernel: out[i] = alpha * a[i] + b[i] * b[i] over n elements, 64 threads per workgroup, and one
 * shipped as SPIR-V (probe_kernel.comp, compiled at build time into tp_probe_spv.h): out[i] = alpha * a[i]
 * - b[i]. Besides "tp_ops_probe" (no flags) it registers "tp_probe_uncond" (NEEDS_UNCOND) and
 * "tp_probe_discard" (DISCARDS_PENULTIMATE), which call the same probe. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tp_probe_spv.h"
#include "vkflow_plugin.h"

typedef void (*tp_probe_fn)(void* ctx, const vkflow_sample_call_t* call, const vkflow_host_t* host,
                            vkflow_kernel_t kernel);

static const vkflow_host_t* g_host;
static vkflow_kernel_t g_kernel, g_spirv_kernel;
static tp_probe_fn g_probe;
static void* g_probe_ctx;

VKFLOW_PLUGIN_EXPORT vkflow_kernel_t tp_probe_spirv_kernel(void) { return g_spirv_kernel; }

VKFLOW_PLUGIN_EXPORT void tp_probe_install(tp_probe_fn fn, void* ctx) {
  g_probe = fn;
  g_probe_ctx = ctx;
}

static const char* kKernel =
    "#version 450\n"
    "layout(local_size_x = 64) in;\n"
    "layout(std430, set = 0, binding = 0) readonly buffer A { float a[]; };\n"
    "layout(std430, set = 0, binding = 1) readonly buffer B { float b[]; };\n"
    "layout(std430, set = 0, binding = 2) writeonly buffer O { float o[]; };\n"
    "layout(push_constant) uniform P { uint n; float alpha; };\n"
    "void main() {\n"
    "  uint i = gl_GlobalInvocationID.x;\n"
    "  if (i < n) o[i] = alpha * a[i] + b[i] * b[i];\n"
    "}\n";

static vkflow_result_t sample(const vkflow_sample_call_t* c, vkflow_tensor_t* result) {
  if (g_probe) g_probe(g_probe_ctx, c, g_host, g_kernel);
  *result = c->x;
  return VKFLOW_OK;
}

static vkflow_result_t init(const vkflow_host_t* host) {
  const vkflow_samplers_t* reg = (const vkflow_samplers_t*)host->get_capability(host, VKFLOW_CAP_SAMPLERS);
  const vkflow_kernels_t* kt = (const vkflow_kernels_t*)host->get_capability(host, VKFLOW_CAP_KERNELS);
  vkflow_kernel_desc_t k;
  vkflow_sampler_desc_t d;
  vkflow_result_t rc;
  if (!reg || !kt) return VKFLOW_UNSUPPORTED;
  g_host = host;
  memset(&k, 0, sizeof k);
  k.struct_size = sizeof k;
  k.name = "axpb2";
  k.language = VKFLOW_KERNEL_GLSL;
  k.code = kKernel;
  k.binding_count = 3;
  k.push_bytes = 8;
  rc = kt->register_kernel(host, &k, &g_kernel);
  if (rc != VKFLOW_OK) return rc;
  k.name = "amb_spirv";
  k.language = VKFLOW_KERNEL_SPIRV;
  k.code = tp_probe_spv;
  k.code_size = sizeof tp_probe_spv;
  rc = kt->register_kernel(host, &k, &g_spirv_kernel);
  if (rc != VKFLOW_OK) return rc;
  memset(&d, 0, sizeof d);
  d.struct_size = sizeof d;
  d.name = "tp_ops_probe";
  d.sample = sample;
  rc = reg->register_sampler(host, &d);
  if (rc != VKFLOW_OK) return rc;
  d.name = "tp_probe_uncond";
  d.flags = VKFLOW_SAMPLER_NEEDS_UNCOND;
  rc = reg->register_sampler(host, &d);
  if (rc != VKFLOW_OK) return rc;
  d.name = "tp_probe_discard";
  d.flags = VKFLOW_SAMPLER_DISCARDS_PENULTIMATE;
  return reg->register_sampler(host, &d);
}

VKFLOW_PLUGIN_EXPORT const vkflow_plugin_entry_t vkflow_plugin_entry = {
    VKFLOW_ABI_VERSION_INIT, sizeof(vkflow_plugin_entry_t), "org.vkflow.test.ops_probe", "ops probe", "1.0.0",
    init, NULL};
