// Internal to engine/plugin: a loaded library, the per-call run state behind vkflow_run_t, and the host's
// function tables. Nothing here crosses the ABI except through vkflow_plugin.h's types.
#pragma once
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/sampling/sampler.h"
#include "engine/sampling/sampler_impl.h"
#include "vkflow_plugin.h"

namespace vkf::plugin {

struct Kernel {
  std::string name, shader;  // the plugin's name; the runtime shader it was registered as
  uint32_t bindings = 0, push_bytes = 0;
};

// One dlopen'ed plugin. Kept alive (shared_ptr) by every sampler it registered, so a run in progress keeps
// its code mapped even if the sampler is removed meanwhile.
struct Library {
  std::string path;
  std::string who;  // "plugin 'org.x' (path)" for messages
  void* handle = nullptr;
  const vkflow_plugin_entry_t* entry = nullptr;
  vkflow_version_t abi{};  // what the plugin was built against
  vkflow_host_t host{};
  bool in_init = false, initialized = false;
  std::string registration_error;               // first failed register_* call during init
  std::vector<sampling::SamplerDesc> pending;   // samplers registered during init, committed after it
  std::vector<std::unique_ptr<Kernel>> kernels;
  Library() = default;
  Library(const Library&) = delete;
  Library& operator=(const Library&) = delete;
  ~Library();
};

// Thrown inside host functions for a bad argument (-> VKFLOW_INVALID_ARGUMENT).
struct BadArgument : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace vkf::plugin

// The state of one sample() call (the ABI's opaque vkflow_run_t).
struct vkflow_run_s {
  vkf::sampling::detail::Run& run;
  const vkf::plugin::Library& lib;
  std::map<uintptr_t, vkf::Tensor> handles;  // live handles of this call
  std::string error;                         // set_error
  std::string last_error = "no error";
  bool cancelled = false;
  std::exception_ptr cancel_ex;  // what to rethrow once sample() returns after a cancel
  int32_t denoise_calls = 0;
};

namespace vkf::plugin {

// Handles are ids from one process-wide counter: a handle of another call (or a released one) is never
// found, so its use is VKFLOW_INVALID_ARGUMENT, not a crash.
vkflow_tensor_t put_tensor(vkflow_run_t* r, Tensor t);
const Tensor& get_tensor(vkflow_run_t* r, vkflow_tensor_t h, const char* what);
// Re-points handle h at t (an op "writing into" h yields a new tensor: aliasing inputs stays safe).
void set_tensor(vkflow_run_t* r, vkflow_tensor_t h, Tensor t);
// True once the run is cancelled (polls the run's cancel flag and check function).
bool poll_cancel(vkflow_run_t* r);

// Runs f() for a host function named `fn`: cancelled -> VKFLOW_CANCELLED without calling it; exceptions
// become result codes with last_error set (none crosses the ABI).
template <class F>
vkflow_result_t guarded(vkflow_run_t* r, const char* fn, F&& f) {
  if (!r) return VKFLOW_INVALID_ARGUMENT;
  if (poll_cancel(r)) return VKFLOW_CANCELLED;
  try {
    return f();
  } catch (const BadArgument& e) {
    r->last_error = std::string(fn) + ": " + e.what();
    return VKFLOW_INVALID_ARGUMENT;
  } catch (const std::exception& e) {
    if (poll_cancel(r)) return VKFLOW_CANCELLED;
    r->last_error = std::string(fn) + ": " + e.what();
    return VKFLOW_ERROR;
  } catch (...) {
    if (poll_cancel(r)) return VKFLOW_CANCELLED;
    r->last_error = std::string(fn) + ": unknown error";
    return VKFLOW_ERROR;
  }
}

const vkflow_run_api_t* run_api();
const vkflow_tensor_ops_t* tensor_ops();
const vkflow_kernels_t* kernels_table();

// The SamplerDesc::run of a plugin sampler: wraps desc.sample; errors, NaN results and cancels become
// exceptions naming the sampler and the plugin.
std::function<Tensor(sampling::detail::Run&, Tensor)> make_plugin_run(std::shared_ptr<const Library> lib,
                                                                      const vkflow_sampler_desc_t& desc);

// The host's sqrt kernel (GLSL compiled at first use): dst = sqrt(a).
void record_sqrt(vk::Recorder& rec, const Tensor& a, const Tensor& dst);

}  // namespace vkf::plugin
