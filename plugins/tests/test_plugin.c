/* One test plugin, one behaviour per build (TP_MODE_<mode>, see plugins/CMakeLists.txt), for the loader's
 * error paths (tests/plugins/). Each registers a trivial sampler "tp_<mode>" that returns its denoise. */
#if defined(TP_MODE_spin)
#define _POSIX_C_SOURCE 200112L /* nanosleep under -std=c99 */
#endif
#include <math.h>
#include <stddef.h>
#include <string.h>
#if defined(TP_MODE_spin)
#include <time.h>
#endif

#include "vkflow_plugin.h"

#if defined(TP_MODE_bad_param_name) || defined(TP_MODE_bad_param_range) || defined(TP_MODE_bad_param_default) || \
    defined(TP_MODE_bad_param_nan) || defined(TP_MODE_bad_param_twice) || defined(TP_MODE_bad_param_type) ||    \
    defined(TP_MODE_bad_param_int) || defined(TP_MODE_bad_param_size) || defined(TP_MODE_bad_param_null)
#define TP_WITH_PARAM 1 /* a sampler with one declared parameter, spoilt per mode */
#endif

#define TP_STR2(x) #x
#define TP_STR(x) TP_STR2(x)

#if defined(TP_MODE_old_minor)
/* An ABI 1.0 plugin: its sampler descriptor ends before 1.1's `description` (a truncated struct). */
typedef struct {
  uint32_t struct_size;
  const char* name;
  const char* display_name;
  uint32_t flags;
  const vkflow_param_desc_t* params;
  uint32_t param_count;
  void* user_data;
  vkflow_result_t (*sample)(const vkflow_sample_call_t* call, vkflow_tensor_t* result);
} sampler_desc_v1_0;
#define TP_MINOR 0u
#elif defined(TP_MODE_newer_minor)
#define TP_MINOR (VKFLOW_ABI_MINOR + 1u)
#else
#define TP_MINOR VKFLOW_ABI_MINOR
#endif

#if defined(TP_MODE_major)
#define TP_MAJOR (VKFLOW_ABI_MAJOR + 1u)
#else
#define TP_MAJOR VKFLOW_ABI_MAJOR
#endif

static const vkflow_tensor_ops_t* ops;

#if defined(TP_MODE_spin)
/* set by the test (dlsym) once the host gave up on this sampler, so the abandoned thread ends */
VKFLOW_PLUGIN_EXPORT volatile int tp_spin_stop = 0;
VKFLOW_PLUGIN_EXPORT volatile int tp_spin_exits = 0;
#endif

#if defined(TP_MODE_undefined_symbol)
extern int vkflow_test_no_such_function(void); /* resolved by nobody: dlopen (RTLD_NOW) must refuse */
#endif

static vkflow_result_t sample(const vkflow_sample_call_t* c, vkflow_tensor_t* result) {
  vkflow_tensor_t x = c->x, D = NULL;
  int32_t i;
  const int32_t steps = (int32_t)c->sigma_count - 1;
#if defined(TP_MODE_sample_error)
  c->api->set_error(c->run, "tp: deliberate failure in step 1");
  return VKFLOW_ERROR;
#endif
#if defined(TP_MODE_bad_result)
  (void)steps;
  (void)D;
  (void)i;
  *result = (vkflow_tensor_t)(uintptr_t)0x7f00dead; /* garbage: no handle of this call */
  return VKFLOW_OK;
#endif
#if defined(TP_MODE_spin)
  /* Never calls the host after its first step: spins (sleeping) until the test sets tp_spin_stop, or 60 s. */
  (void)D;
  (void)steps;
  c->api->step_done(c->run, 0, 1, x, NULL);
  for (i = 0; i < 60000 && !tp_spin_stop; ++i) {
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, NULL);
  }
  tp_spin_exits = 1;
  *result = x;
  return VKFLOW_OK;
#endif
#if defined(TP_MODE_ignore_cancel)
  /* never looks at results: keeps calling denoise for 10000 steps, ignoring VKFLOW_CANCELLED */
  for (i = 0; i < 10000; ++i) {
    vkflow_tensor_t d2 = NULL;
    if (c->api->denoise(c->run, x, c->sigmas[0], &d2, NULL) == VKFLOW_OK) ops->release(c->run, d2);
    c->api->step_done(c->run, i, 10000, x, NULL);
  }
  *result = x;
  return VKFLOW_OK;
#endif
  for (i = 0; i < steps; ++i) {
    vkflow_result_t rc = c->api->denoise(c->run, x, c->sigmas[i], &D, NULL);
    if (rc != VKFLOW_OK) return rc;
    ops->release(c->run, x);
    x = D;
    rc = c->api->step_done(c->run, i, steps, x, D);
    if (rc != VKFLOW_OK) return rc;
  }
#if defined(TP_MODE_nan)
  {
    const double k[1] = {0.0};
    ops->lincomb(c->run, x, 1, k, &x, 0.0);
    ops->fill(c->run, x, NAN);
  }
#endif
  *result = x;
  return VKFLOW_OK;
}

static vkflow_result_t init(const vkflow_host_t* host) {
  const vkflow_samplers_t* reg = (const vkflow_samplers_t*)host->get_capability(host, VKFLOW_CAP_SAMPLERS);
  ops = (const vkflow_tensor_ops_t*)host->get_capability(host, VKFLOW_CAP_TENSOR_OPS);
  if (!reg || !ops) return VKFLOW_UNSUPPORTED;
  /* capabilities are asked for by exact versioned id: anything else is NULL */
  if (host->get_capability(host, "vkflow.no_such_thing/1") != NULL ||
      host->get_capability(host, "vkflow.tensor_ops/2") != NULL ||
      host->get_capability(host, "vkflow.tensor_ops") != NULL || host->get_capability(host, "") != NULL ||
      host->get_capability(host, NULL) != NULL)
    return VKFLOW_ERROR;
#if defined(TP_MODE_undefined_symbol)
  if (vkflow_test_no_such_function() != 0) return VKFLOW_ERROR;
#endif
#if defined(TP_MODE_no_sampler)
  (void)sample;
  (void)reg;
  return VKFLOW_OK; /* "succeeds" without registering anything */
#endif
#if defined(TP_MODE_bad_kernel)
  {
    const vkflow_kernels_t* kt = (const vkflow_kernels_t*)host->get_capability(host, VKFLOW_CAP_KERNELS);
    vkflow_kernel_desc_t k;
    vkflow_kernel_t out = NULL;
    vkflow_result_t rc;
    if (!kt) return VKFLOW_UNSUPPORTED;
    memset(&k, 0, sizeof k);
    k.struct_size = sizeof k;
    k.name = "broken";
    k.language = VKFLOW_KERNEL_GLSL;
    k.code = "#version 450\nlayout(local_size_x = 64) in;\nvoid main() { undeclared_thing = 1; }\n";
    k.binding_count = 1;
    rc = kt->register_kernel(host, &k, &out);
    if (rc != VKFLOW_OK) return rc;
  }
#endif
#if defined(TP_MODE_init_fail)
  (void)sample;
  host->log(host, VKFLOW_LOG_ERROR, "tp: init refuses on purpose");
  return VKFLOW_ERROR;
#elif defined(TP_MODE_old_minor)
  {
    sampler_desc_v1_0 d;
    memset(&d, 0, sizeof d);
    d.struct_size = sizeof d;
    d.name = "tp_old_minor";
    d.sample = sample;
    return reg->register_sampler(host, (const vkflow_sampler_desc_t*)(const void*)&d);
  }
#else
  {
    vkflow_sampler_desc_t d;
    memset(&d, 0, sizeof d);
    d.struct_size = sizeof d;
    vkflow_param_desc_t p[2];
    (void)p;
    d.name = "tp_" TP_STR(TP_MODE_NAME);
#if defined(TP_MODE_dup_builtin)
    d.name = "euler";
#elif defined(TP_MODE_dup_other)
    d.name = "tp_ok"; /* registered by test_plugin_ok, another plugin */
#endif
    d.sample = sample;
#if defined(TP_MODE_bad_desc)
    d.flags = 0x100u; /* an unknown flag bit */
#endif
    /* One well-formed FLOAT parameter; the bad_param_* modes spoil one aspect of it. */
    memset(p, 0, sizeof p);
    p[0].struct_size = p[1].struct_size = sizeof p[0];
    p[0].name = p[1].name = "strength";
    p[0].type = p[1].type = VKFLOW_PARAM_FLOAT;
    p[0].default_value = p[1].default_value = 0.5;
    p[0].max_value = p[1].max_value = 1.0;
    p[0].step = p[1].step = 0.01;
#if defined(TP_MODE_rollback) || defined(TP_WITH_PARAM)
    d.params = p;
    d.param_count = 1;
#endif
#if defined(TP_MODE_bad_param_name)
    p[0].name = "has space";
#elif defined(TP_MODE_bad_param_range)
    p[0].min_value = 2.0; /* min > max */
#elif defined(TP_MODE_bad_param_default)
    p[0].default_value = 7.0; /* outside [min, max] */
#elif defined(TP_MODE_bad_param_nan)
    p[0].max_value = NAN;
#elif defined(TP_MODE_bad_param_twice)
    d.param_count = 2; /* "strength" declared twice */
#elif defined(TP_MODE_bad_param_type)
    p[0].type = 7u;
#elif defined(TP_MODE_bad_param_int)
    p[0].type = VKFLOW_PARAM_INT; /* an INT with fractional default 0.5 */
#elif defined(TP_MODE_bad_param_size)
    p[0].struct_size = 8u; /* smaller than any ABI's parameter struct */
#elif defined(TP_MODE_bad_param_null)
    d.params = NULL; /* param_count 1 with no array */
#endif
    {
      vkflow_result_t rc = reg->register_sampler(host, &d);
#if defined(TP_MODE_dup_name)
      rc = reg->register_sampler(host, &d); /* the same name twice */
#elif defined(TP_MODE_rollback)
      /* A second sampler: the test registers "tp_rollback_b" itself while this plugin's first sampler is
       * being added, so adding this one fails after "tp_rollback" (and its node) went in: both roll back. */
      if (rc == VKFLOW_OK) {
        d.name = "tp_rollback_b";
        d.param_count = 0;
        rc = reg->register_sampler(host, &d);
      }
#endif
      return rc;
    }
  }
#endif
}

#if defined(TP_MODE_bad_entry)
/* garbage in the entry: a struct_size smaller than any ABI's entry */
VKFLOW_PLUGIN_EXPORT const vkflow_plugin_entry_t vkflow_plugin_entry = {
    {TP_MAJOR, TP_MINOR, 0}, 4u, "org.vkflow.test.bad_entry", "test plugin", "0", init, NULL};
#elif defined(TP_MODE_no_init)
VKFLOW_PLUGIN_EXPORT const vkflow_plugin_entry_t vkflow_plugin_entry = {
    {TP_MAJOR, TP_MINOR, 0}, sizeof(vkflow_plugin_entry_t), "org.vkflow.test.no_init", "test plugin", "0", NULL, NULL};
VKFLOW_PLUGIN_EXPORT vkflow_result_t (*tp_keep_init(void))(const vkflow_host_t*) { return init; }
#elif defined(TP_MODE_dup_id)
/* the plugin id of test_plugin_ok, from another file */
VKFLOW_PLUGIN_EXPORT const vkflow_plugin_entry_t vkflow_plugin_entry = {
    {TP_MAJOR, TP_MINOR, 0}, sizeof(vkflow_plugin_entry_t), "org.vkflow.test.ok", "test plugin", "0", init, NULL};
#elif !defined(TP_MODE_no_entry)
VKFLOW_PLUGIN_EXPORT const vkflow_plugin_entry_t vkflow_plugin_entry = {
    {TP_MAJOR, TP_MINOR, 0}, sizeof(vkflow_plugin_entry_t), "org.vkflow.test." TP_STR(TP_MODE_NAME),
    "test plugin", "0", init, NULL};
#else
VKFLOW_PLUGIN_EXPORT const vkflow_plugin_entry_t vkflow_plugin_entry_misspelt = {
    VKFLOW_ABI_VERSION_INIT, sizeof(vkflow_plugin_entry_t), "org.vkflow.test.no_entry", "x", "0", init, NULL};
#endif
