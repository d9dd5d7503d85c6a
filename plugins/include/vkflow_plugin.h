/* vkflow_plugin.h - the vkflow sampler plugin ABI. C99, self-contained: a plugin includes only this file.
 *
 * Changelog (tables only ever grow by appending; a minor bump never moves or removes anything):
 *   1.0  root entry + host; capabilities "vkflow.samplers/1", "vkflow.tensor_ops/1", "vkflow.kernels/1".
 *   1.1  vkflow_sampler_desc_t.description appended (read only when the plugin's struct_size covers it).
 *
 * Compatibility rules
 *   - The plugin exports one symbol, `vkflow_plugin_entry` (a vkflow_plugin_entry_t). Its first field is the
 *     ABI version the plugin was built against. The host refuses another major, refuses a newer minor than
 *     its own, and loads every older minor.
 *   - Every other struct passed either way starts with `uint32_t struct_size` = sizeof as the writer was
 *     built. A reader never reads past struct_size; fields it does not get take the documented default.
 *     The host's tables (host, capabilities, run api) may be larger than the plugin's headers know: a
 *     plugin only uses the fields it was built with (check struct_size before using a newer one).
 *   - Optional capabilities are fetched by versioned string id with get_capability(); NULL when absent.
 *     A capability's table is never changed incompatibly: a breaking change gets a new id ("/2").
 *   - Pure C: opaque handles, function pointers with an explicit context argument, no exceptions may
 *     cross (a C++ plugin catches everything inside its functions), no Vulkan types.
 *
 * Ownership
 *   - Strings and arrays the plugin passes to a host function are copied before it returns.
 *   - Tensor handles (vkflow_tensor_t) belong to one sample call. Every handle the plugin receives - the
 *     initial latent in vkflow_sample_call_t, each output of denoise/noise/alloc_like - is owned by the
 *     plugin until it calls release() (at most once). Handles still held when sample() returns are
 *     released by the host; using a handle after release, or from another call, is an error the host
 *     detects (VKFLOW_INVALID_ARGUMENT), never a crash.
 *   - The result tensor written to *result by sample() passes to the host (do not release it).
 *   - The host owns every table and the vkflow_host_t it hands out; they stay valid until deinit returns.
 *
 * Threads (each function below names its thread; "main thread" = the thread that loads plugins)
 *   - init and deinit run on the thread that loads/unloads plugins ("main thread"), never concurrently with
 *     a sample call of the same plugin. The host serializes loading (one init at a time, process-wide); it
 *     may load a plugin while other threads run other plugins' samplers or list samplers and nodes (the
 *     host's registries are locked), and a plugin's samplers become visible only after its init returned.
 *   - sample() runs on the sampling thread, a thread the host starts for that call; every function taking
 *     a vkflow_run_t* must be called on that thread, during that call (the host executes each such call
 *     on its own thread while the plugin's waits, so a plugin never races the host's GPU work). Different
 *     sample calls never run concurrently in one process today, but a plugin keeps its per-call state in
 *     locals, not globals, so that later hosts may run them in parallel.
 *
 * GPU work
 *   Tensors live on the GPU, and are F32 (see "vkflow.tensor_ops/1"). Tensor operations and kernel dispatches are recorded into the same command
 *   buffer as the host's own work (the model evaluation) and submitted once per step (step_done) or when a
 *   value is read back (dot, norm, read). Nothing is copied to the host unless the plugin asks.
 *
 * Cancellation
 *   Once the user cancels, every host function taking a vkflow_run_t* returns VKFLOW_CANCELLED without doing
 *   any work (denoise no longer runs the model); the plugin should return VKFLOW_CANCELLED promptly. The host
 *   also checks between steps in step_done, and while the plugin runs its own code. A plugin that has not
 *   returned one step after the cancel (its longest step so far, at least 0.5 s) is abandoned: the host
 *   reports the run as cancelled and moves on, the plugin's thread keeps running until sample() returns,
 *   and from then on every host function returns at once without effect (VKFLOW_CANCELLED, dtype -1,
 *   is_cancelled 1) and the call's tensor handles are gone. sample() must still return eventually.
 */
#ifndef VKFLOW_PLUGIN_H
#define VKFLOW_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VKFLOW_ABI_MAJOR 1u
#define VKFLOW_ABI_MINOR 1u
#define VKFLOW_ABI_PATCH 0u

#if defined(_WIN32)
#define VKFLOW_PLUGIN_EXPORT __declspec(dllexport)
#else
#define VKFLOW_PLUGIN_EXPORT __attribute__((visibility("default")))
#endif

/* The name of the one symbol a plugin exports. */
#define VKFLOW_PLUGIN_ENTRY_SYMBOL "vkflow_plugin_entry"

typedef struct vkflow_version_t {
  uint32_t major, minor, patch;
} vkflow_version_t;
#define VKFLOW_ABI_VERSION_INIT {VKFLOW_ABI_MAJOR, VKFLOW_ABI_MINOR, VKFLOW_ABI_PATCH}

/* Results. Negative values are failures. */
typedef int32_t vkflow_result_t;
#define VKFLOW_OK 0
#define VKFLOW_ERROR (-1)            /* failure; details via set_error (plugin) or last_error (host) */
#define VKFLOW_CANCELLED (-2)        /* the user cancelled: return it from sample() */
#define VKFLOW_INVALID_ARGUMENT (-3) /* bad handle, shape mismatch, NULL where not allowed, ... */
#define VKFLOW_UNSUPPORTED (-4)      /* e.g. a dtype the operation does not take */

/* Opaque handles. */
typedef struct vkflow_tensor_s* vkflow_tensor_t; /* a GPU tensor, valid during one sample call */
typedef struct vkflow_run_s vkflow_run_t;        /* one sample call */
typedef struct vkflow_kernel_s* vkflow_kernel_t; /* a registered compute kernel, valid until deinit */

/* ---- host (passed to init) ------------------------------------------------------------------------- */

#define VKFLOW_LOG_DEBUG 0
#define VKFLOW_LOG_INFO 1
#define VKFLOW_LOG_WARNING 2
#define VKFLOW_LOG_ERROR 3

typedef struct vkflow_host_t vkflow_host_t;
struct vkflow_host_t {
  uint32_t struct_size;
  vkflow_version_t abi_version; /* the host's ABI version */
  const char* host_name;        /* "vkflow" */
  const char* host_version;
  void* host_data;              /* the host's; do not touch */
  /* The table for capability `id` ("vkflow.tensor_ops/1", ...), or NULL when the host has none.
   * Any thread; the table stays valid until deinit returns. */
  const void* (*get_capability)(const vkflow_host_t* host, const char* id);
  /* A message for the host's log. Any thread. */
  void (*log)(const vkflow_host_t* host, int32_t level, const char* message);
};

/* ---- root entry (the exported symbol) ---------------------------------------------------------------- */

typedef struct vkflow_plugin_entry_t {
  vkflow_version_t abi_version; /* FIRST, always: VKFLOW_ABI_VERSION_INIT */
  uint32_t struct_size;         /* sizeof(vkflow_plugin_entry_t) */
  const char* plugin_id;        /* reverse-DNS, e.g. "org.example.pc_sampler" */
  const char* plugin_name;      /* for people */
  const char* plugin_version;   /* free form, e.g. "1.0.0" */
  /* Registers the plugin's samplers/kernels through the capabilities of `host`. Main thread. Returns
   * VKFLOW_OK, or an error: the host then skips the plugin (anything it registered is removed) and does
   * not call deinit. `host` stays valid until deinit returns. */
  vkflow_result_t (*init)(const vkflow_host_t* host);
  /* Called once before the library is unloaded, after every sample call returned. Main thread. May be NULL.
   * The host keeps plugins loaded until process exit and does not call it then; it is called when the host
   * unloads a plugin whose init succeeded but whose registrations failed. */
  void (*deinit)(void);
} vkflow_plugin_entry_t;

/* ---- "vkflow.samplers/1": sampler registration ----------------------------------------------------- */

#define VKFLOW_CAP_SAMPLERS "vkflow.samplers/1"

/* Sampler properties (vkflow_sampler_desc_t.flags). */
#define VKFLOW_SAMPLER_NEEDS_UNCOND 1u          /* CFG++: denoise must also return the uncond prediction */
#define VKFLOW_SAMPLER_DISCARDS_PENULTIMATE 2u  /* KSampler computes steps+1 sigmas and drops sigmas[-2] */
#define VKFLOW_SAMPLER_STOCHASTIC 4u            /* draws from the noise source (SDE, ancestral) */

#define VKFLOW_PARAM_FLOAT 0u
#define VKFLOW_PARAM_INT 1u
#define VKFLOW_PARAM_BOOL 2u /* 0 or 1 */

/* A declared parameter: an input of the sampler's own node. min <= default <= max, finite. */
typedef struct vkflow_param_desc_t {
  uint32_t struct_size;
  const char* name;    /* [A-Za-z0-9_], unique within the sampler */
  const char* tooltip; /* may be NULL */
  uint32_t type;       /* VKFLOW_PARAM_* */
  double default_value, min_value, max_value, step;
} vkflow_param_desc_t;

struct vkflow_run_api_t;

/* What sample() receives. Valid during the call. */
typedef struct vkflow_sample_call_t {
  uint32_t struct_size;
  vkflow_run_t* run;                   /* the context every run/tensor/kernel function takes */
  const struct vkflow_run_api_t* api;  /* denoise, noise, progress, errors */
  vkflow_tensor_t x;                   /* the initial latent (F32), owned by the plugin (see Ownership) */
  const double* sigmas;                /* descending, sigma_count >= 2, usually ending in 0 */
  uint32_t sigma_count;
  const double* params; /* values of the declared parameters, in declaration order */
  uint32_t param_count;
  void* user_data; /* vkflow_sampler_desc_t.user_data */
} vkflow_sample_call_t;

typedef struct vkflow_sampler_desc_t {
  uint32_t struct_size;
  const char* name;         /* what graphs use: 1-64 of [A-Za-z0-9_.-]; unique among all samplers */
  const char* display_name; /* may be NULL (= name) */
  uint32_t flags;           /* VKFLOW_SAMPLER_* */
  const vkflow_param_desc_t* params;
  uint32_t param_count;
  void* user_data;
  /* Runs the sampler from call->x over call->sigmas and writes the final latent (same shape, F32) to
   * *result. Sampling thread. Returns VKFLOW_OK, VKFLOW_CANCELLED, or an error (set_error first for a
   * message). A result containing NaN or Inf is reported as an error naming the plugin. */
  vkflow_result_t (*sample)(const vkflow_sample_call_t* call, vkflow_tensor_t* result);
  /* --- 1.1 --- */
  const char* description; /* may be NULL */
} vkflow_sampler_desc_t;

typedef struct vkflow_samplers_t {
  uint32_t struct_size;
  /* Main thread, only during init. Registers a sampler. Everything is copied except user_data and sample, which must
   * stay valid until deinit. Fails (VKFLOW_INVALID_ARGUMENT, reason in the host log) for a malformed
   * descriptor or a name that is already registered. */
  vkflow_result_t (*register_sampler)(const vkflow_host_t* host, const vkflow_sampler_desc_t* desc);
} vkflow_samplers_t;

/* Per call: the model, the noise source, progress. All on the sampling thread, during the call. */
typedef struct vkflow_run_api_t {
  uint32_t struct_size;
  /* Sampling thread. The guided prediction D(x, sigma) -> *denoised (a new handle). `uncond` may be NULL; when not, it
   * receives the unconditional prediction if the sampler declared VKFLOW_SAMPLER_NEEDS_UNCOND, else NULL. Both
   * outputs are F32, whatever precision the model runs in. */
  vkflow_result_t (*denoise)(vkflow_run_t* run, vkflow_tensor_t x, double sigma, vkflow_tensor_t* denoised,
                             vkflow_tensor_t* uncond);
  /* Sampling thread. The next unit-normal noise tensor of the latent's shape (the same source and call order the built-in
   * samplers use, so a seed reproduces), as a new handle. */
  vkflow_result_t (*noise)(vkflow_run_t* run, double sigma, double sigma_next, vkflow_tensor_t* out);
  /* Sampling thread. Ends step `step` (0-based) of `total` (-1: unknown): submits the step's work, reports progress (and
   * previews x / denoised, which may be NULL) and returns VKFLOW_CANCELLED when the user cancelled. */
  vkflow_result_t (*step_done)(vkflow_run_t* run, int32_t step, int32_t total, vkflow_tensor_t x,
                               vkflow_tensor_t denoised);
  /* Sampling thread. Nonzero once the user cancelled. */
  int32_t (*is_cancelled)(vkflow_run_t* run);
  /* Sampling thread. The message the host reports when sample() fails (copied). */
  void (*set_error)(vkflow_run_t* run, const char* message);
  /* Sampling thread. Why the last failing host call of this run failed; valid until the next call. Never NULL. */
  const char* (*last_error)(vkflow_run_t* run);
} vkflow_run_api_t;

/* ---- "vkflow.tensor_ops/1": GPU tensor arithmetic -------------------------------------------------- */

#define VKFLOW_CAP_TENSOR_OPS "vkflow.tensor_ops/1"
#define VKFLOW_MAX_DIMS 8
#define VKFLOW_LINCOMB_MAX_TERMS 8
#define VKFLOW_DTYPE_F32 0
#define VKFLOW_DTYPE_F16 1

/* All on the sampling thread with the call's run. `dst` may be one of the inputs (element-wise ops read
 * and write the same index). Operands of one op have the same shape. Arithmetic is fp32 on the GPU;
 * scalar coefficients are given in double and rounded to float once, as the built-in samplers do.
 *
 * Dtypes: every tensor that crosses this ABI is F32 - the initial latent, denoise's outputs (a model run
 * with f16 weights and activations, `--weights f16`, is converted to F32 before the plugin sees it), the
 * noise, and everything alloc_like makes from them. VKFLOW_DTYPE_F16 is reserved for a later capability;
 * an op handed a tensor of a dtype it does not take returns VKFLOW_UNSUPPORTED. */
typedef struct vkflow_tensor_ops_t {
  uint32_t struct_size;
  /* Sampling thread, during the call whose run it takes. A new tensor of like's shape and dtype; contents
   * unspecified. */
  vkflow_result_t (*alloc_like)(vkflow_run_t* run, vkflow_tensor_t like, vkflow_tensor_t* out);
  /* Sampling thread, during the call. Ends the plugin's ownership of t (NULL is ignored). */
  void (*release)(vkflow_run_t* run, vkflow_tensor_t t);
  /* Sampling thread, during the call (answered after a cancel too). Shape into dims[0..*rank); dims must
   * hold VKFLOW_MAX_DIMS. */
  vkflow_result_t (*shape)(vkflow_run_t* run, vkflow_tensor_t t, int64_t* dims, uint32_t* rank);
  /* Sampling thread, during the call. VKFLOW_DTYPE_* (always F32 in ABI 1.x), or -1 for an invalid handle. */
  int32_t (*dtype)(vkflow_run_t* run, vkflow_tensor_t t);
  /* Sampling thread, during the call. dst = src. */
  vkflow_result_t (*copy)(vkflow_run_t* run, vkflow_tensor_t dst, vkflow_tensor_t src);
  /* Sampling thread, during the call. Every element of dst = value. */
  vkflow_result_t (*fill)(vkflow_run_t* run, vkflow_tensor_t dst, double value);
  /* Sampling thread, during the call. dst = a * src */
  vkflow_result_t (*scale)(vkflow_run_t* run, vkflow_tensor_t dst, vkflow_tensor_t src, double a);
  /* Sampling thread, during the call. y = y + a * x */
  vkflow_result_t (*axpy)(vkflow_run_t* run, vkflow_tensor_t y, double a, vkflow_tensor_t x);
  /* Sampling thread, during the call. dst = sum_k coeffs[k] * terms[k] + bias, 1 <= count <=
   * VKFLOW_LINCOMB_MAX_TERMS: the fused op the built-in samplers use (zero coefficients are skipped), so
   * equal inputs give bit-equal results. */
  vkflow_result_t (*lincomb)(vkflow_run_t* run, vkflow_tensor_t dst, uint32_t count, const double* coeffs,
                             const vkflow_tensor_t* terms, double bias);
  /* Sampling thread, during the call. dst = a * b, element-wise. */
  vkflow_result_t (*mul)(vkflow_run_t* run, vkflow_tensor_t dst, vkflow_tensor_t a, vkflow_tensor_t b);
  /* Sampling thread, during the call. dst = a / b, element-wise. */
  vkflow_result_t (*div)(vkflow_run_t* run, vkflow_tensor_t dst, vkflow_tensor_t a, vkflow_tensor_t b);
  /* Sampling thread, during the call. dst = sqrt(a), element-wise. */
  vkflow_result_t (*sqrt)(vkflow_run_t* run, vkflow_tensor_t dst, vkflow_tensor_t a);
  /* Sampling thread, during the call. dst = min(max(a, lo), hi), lo <= hi. */
  vkflow_result_t (*clamp)(vkflow_run_t* run, vkflow_tensor_t dst, vkflow_tensor_t a, double lo, double hi);
  /* Sampling thread, during the call. Host scalars: the reduction runs on the GPU (fp32 accumulation:
   * per-thread strided sums, a tree per workgroup, then one workgroup over the partials), recorded after
   * the earlier ops; then the host submits, waits and reads back only the scalar. A submit + wait per
   * call: use a few per step, not per op. */
  vkflow_result_t (*dot)(vkflow_run_t* run, vkflow_tensor_t a, vkflow_tensor_t b, double* out);
  /* Sampling thread, during the call. The L2 norm, as dot (one submit + wait). */
  vkflow_result_t (*norm)(vkflow_run_t* run, vkflow_tensor_t a, double* out);
  /* Sampling thread, during the call. Copies count == numel floats out of / into t (a submit + wait for
   * read). For debugging and tests. */
  vkflow_result_t (*read)(vkflow_run_t* run, vkflow_tensor_t t, float* dst, int64_t count);
  vkflow_result_t (*write)(vkflow_run_t* run, vkflow_tensor_t t, const float* src, int64_t count);
} vkflow_tensor_ops_t;

/* ---- "vkflow.kernels/1": the plugin's own compute shaders -------------------------------------------- */

#define VKFLOW_CAP_KERNELS "vkflow.kernels/1"
#define VKFLOW_KERNEL_SPIRV 0u /* code = SPIR-V words, code_size in bytes */
#define VKFLOW_KERNEL_GLSL 1u  /* code = GLSL compute source (#version 450), compiled by the host */
#define VKFLOW_KERNEL_MAX_BINDINGS 8
#define VKFLOW_KERNEL_MAX_PUSH_BYTES 128

/* Binding layout a kernel must use (entry point "main"):
 *   layout(std430, set = 0, binding = i) buffer B<i> { float v[]; };   i = 0 .. binding_count-1
 *   layout(push_constant) uniform P { ... };                            push_bytes (<= 128, multiple of 4)
 *   layout(local_size_x = ..., local_size_y = ..., local_size_z = ...) in;   chosen by the kernel
 * Binding i is the whole of tensors[i] (F32, element 0 first). Bounds are the kernel's job: pass numel in
 * the push constants. */
typedef struct vkflow_kernel_desc_t {
  uint32_t struct_size;
  const char* name; /* for messages and profiles; unique within the plugin */
  uint32_t language;
  const void* code;
  size_t code_size; /* bytes; GLSL: 0 means NUL-terminated */
  uint32_t binding_count;
  uint32_t push_bytes;
} vkflow_kernel_desc_t;

typedef struct vkflow_kernels_t {
  uint32_t struct_size;
  /* Only during init, main thread. GLSL is compiled here: a compile error fails init's call with the
   * compiler log in the host log. */
  vkflow_result_t (*register_kernel)(const vkflow_host_t* host, const vkflow_kernel_desc_t* desc,
                                     vkflow_kernel_t* out);
  /* Sampling thread, during the call whose run it takes. Records a dispatch of groups_x * groups_y * groups_z workgroups on `tensors` (count == the kernel's
   * binding_count). Bit i of write_mask marks binding i as written (the host orders work by it). */
  vkflow_result_t (*dispatch)(vkflow_run_t* run, vkflow_kernel_t kernel, const vkflow_tensor_t* tensors,
                              uint32_t count, uint32_t write_mask, const void* push, uint32_t push_bytes,
                              uint32_t groups_x, uint32_t groups_y, uint32_t groups_z);
} vkflow_kernels_t;

#ifdef __cplusplus
}
#endif

#endif /* VKFLOW_PLUGIN_H */
