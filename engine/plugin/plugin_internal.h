// Internal to engine/plugin: a loaded library, the per-call run state behind vkflow_run_t, and the host's
// function tables. Nothing here crosses the ABI except through vkflow_plugin.h's types.
#pragma once
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
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
// Thrown for a tensor of a dtype the op does not take (-> VKFLOW_UNSUPPORTED). Every tensor the ABI hands
// out is F32, so this guards the host's own invariants rather than a plugin's input.
struct Unsupported : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace vkf::plugin

namespace vkf::plugin {

// A plugin's sample() runs on a thread of its own, so that a plugin that spins after a cancel can be
// abandoned; every host function it calls is handed to the host's sampling thread (the one that called
// the sampler) and runs there, between the plugin's calls, exactly as if the plugin ran on that thread
// (thread-local state, the recorder, the cancel check). Once the host has abandoned the call, host
// functions return at once without touching anything but this object.
struct Bridge {
  std::mutex m;
  std::condition_variable cv;
  std::mutex callers;            // a plugin calling from two threads at once is serialized, not raced
  std::function<void()>* job = nullptr;  // the pending host call (set by the plugin's thread)
  uint64_t done = 0;             // host calls completed
  bool returned = false;         // sample() returned (or threw)
  bool abandoned = false;        // the host gave up waiting after a cancel
  std::thread::id host_thread;   // the sampling thread: a call made on it runs directly
};

}  // namespace vkf::plugin

// The state of one sample() call (the ABI's opaque vkflow_run_t). Shared with the plugin's thread: it
// outlives the call when the plugin is abandoned, but then only `bridge` is used.
struct vkflow_run_s {
  vkflow_run_s(vkf::sampling::detail::Run& r, const vkf::plugin::Library& l) : run(r), lib(l) {}
  vkf::sampling::detail::Run& run;
  const vkf::plugin::Library& lib;
  std::map<uintptr_t, vkf::Tensor> handles;  // live handles of this call
  std::string error;                         // set_error
  std::string last_error = "no error";
  bool cancelled = false;
  std::exception_ptr cancel_ex;  // what to rethrow once sample() returns after a cancel
  int32_t denoise_calls = 0;
  std::chrono::steady_clock::time_point last_step{};  // when the last step ended (or the call began)
  std::chrono::steady_clock::duration longest_step{};
  vkf::plugin::Bridge bridge;
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

// Runs f() (which must not throw) on the sampling thread for the plugin's thread and returns its value;
// `abandoned` once the host gave up on the call. Every host function taking a vkflow_run_t* goes
// through here.
template <class R, class F>
R on_host(vkflow_run_t* r, R abandoned, F&& f) {
  Bridge& b = r->bridge;
  if (std::this_thread::get_id() == b.host_thread) return f();
  std::lock_guard serial(b.callers);
  std::unique_lock lk(b.m);
  if (b.abandoned) return abandoned;
  R out = abandoned;
  std::function<void()> job = [&] { out = f(); };
  b.job = &job;
  const uint64_t ticket = b.done + 1;
  b.cv.notify_all();
  b.cv.wait(lk, [&] { return b.done >= ticket || b.abandoned; });
  if (b.done < ticket) b.job = nullptr;  // abandoned before the host took it
  return b.done >= ticket ? out : abandoned;
}

// Runs f() for a host function named `fn` on the sampling thread: cancelled -> VKFLOW_CANCELLED without
// calling it; exceptions become result codes with last_error set (none crosses the ABI).
template <class F>
vkflow_result_t guarded(vkflow_run_t* r, const char* fn, F&& f) {
  if (!r) return VKFLOW_INVALID_ARGUMENT;
  return on_host(r, vkflow_result_t(VKFLOW_CANCELLED), [&]() -> vkflow_result_t {
    if (poll_cancel(r)) return VKFLOW_CANCELLED;
    try {
      return f();
    } catch (const Unsupported& e) {
      r->last_error = std::string(fn) + ": " + e.what();
      return VKFLOW_UNSUPPORTED;
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
  });
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
