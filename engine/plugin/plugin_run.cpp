// One plugin sample() call: the vkflow_run_api_t table (denoise, noise, step_done, errors), handle
// bookkeeping, and the wrapper that turns the plugin's result codes into engine exceptions.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <iostream>
#include <optional>

#include "engine/ops/nonfinite.h"
#include "engine/plugin/plugin_internal.h"

namespace vkf::plugin {
namespace {

std::atomic<uintptr_t> g_next_handle{1};

vkflow_result_t api_denoise(vkflow_run_t* r, vkflow_tensor_t x, double sigma, vkflow_tensor_t* denoised,
                            vkflow_tensor_t* uncond) {
  return guarded(r, "denoise", [&] {
    if (!denoised) throw BadArgument("denoised is NULL");
    if (!std::isfinite(sigma) || sigma < 0.0) throw BadArgument("sigma " + std::to_string(sigma) + " is not a finite value >= 0");
    const Tensor& xt = get_tensor(r, x, "x");
    if (xt.shape() != r->run.shape) throw BadArgument("x has shape " + shape_str(xt.shape()) + ", the latent " + shape_str(r->run.shape));
    const bool want_uncond = uncond != nullptr && r->run.desc && r->run.desc->needs_uncond;
    sampling::Denoised d = r->run.denoise(xt, sigma, want_uncond);
    ++r->denoise_calls;
    *denoised = put_tensor(r, d.denoised);
    // only a sampler that declared NEEDS_UNCOND gets it (the model's guider computes it only then)
    if (uncond) *uncond = want_uncond && d.uncond.defined() ? put_tensor(r, d.uncond) : nullptr;
    return VKFLOW_OK;
  });
}

vkflow_result_t api_noise(vkflow_run_t* r, double sigma, double sigma_next, vkflow_tensor_t* out) {
  return guarded(r, "noise", [&] {
    if (!out) throw BadArgument("out is NULL");
    Tensor n = r->run.noise(sigma, sigma_next);
    // A copy: the source's ring slot is refilled by later calls, the plugin may keep its handle longer.
    Tensor c = empty(r->run.rec().context(), n.shape(), DType::F32);
    r->run.rec().copy({&n.buffer(), n.offset(), n.bytes(), false}, {&c.buffer(), c.offset(), c.bytes(), true});
    *out = put_tensor(r, std::move(c));
    return VKFLOW_OK;
  });
}

vkflow_result_t api_step_done(vkflow_run_t* r, int32_t step, int32_t total, vkflow_tensor_t x,
                              vkflow_tensor_t denoised) {
  return guarded(r, "step_done", [&] {
    if (step < 0) throw BadArgument("step " + std::to_string(step) + " < 0");
    const Tensor xt = x ? get_tensor(r, x, "x") : Tensor();
    const Tensor dt = denoised ? get_tensor(r, denoised, "denoised") : Tensor();
    auto timed = [&] {  // the longest step sets how long a cancelled plugin may take to return
      const auto now = std::chrono::steady_clock::now();
      r->longest_step = std::max(r->longest_step, now - r->last_step);
      r->last_step = now;
    };
    try {
      r->run.end_step(step, total < 0 ? -1 : total, xt, dt);
    } catch (const sampling::SamplingCancelled&) {
      timed();
      r->cancelled = true;
      r->cancel_ex = std::current_exception();
      return VKFLOW_CANCELLED;
    }
    timed();
    return VKFLOW_OK;
  });
}

int32_t api_is_cancelled(vkflow_run_t* r) {
  return r ? on_host(r, int32_t(1), [&] { return int32_t(poll_cancel(r) ? 1 : 0); }) : 0;
}

void api_set_error(vkflow_run_t* r, const char* message) {
  if (r) on_host(r, 0, [&] {
      r->error = message ? std::string(message).substr(0, 4000) : std::string();
      return 0;
    });
}

const char* api_last_error(vkflow_run_t* r) {
  if (!r) return "no run";
  return on_host(r, static_cast<const char*>("the host abandoned this call after a cancel"),
                 [&] { return r->last_error.c_str(); });
}

const vkflow_run_api_t kRunApi = {sizeof(vkflow_run_api_t), api_denoise,   api_noise,    api_step_done,
                                  api_is_cancelled,         api_set_error, api_last_error};

std::string code_name(vkflow_result_t rc) {
  switch (rc) {
    case VKFLOW_ERROR: return "VKFLOW_ERROR";
    case VKFLOW_CANCELLED: return "VKFLOW_CANCELLED";
    case VKFLOW_INVALID_ARGUMENT: return "VKFLOW_INVALID_ARGUMENT";
    case VKFLOW_UNSUPPORTED: return "VKFLOW_UNSUPPORTED";
    default: return "code " + std::to_string(rc);
  }
}

}  // namespace

const vkflow_run_api_t* run_api() { return &kRunApi; }

vkflow_tensor_t put_tensor(vkflow_run_t* r, Tensor t) {
  const uintptr_t id = g_next_handle.fetch_add(1);
  r->handles.emplace(id, std::move(t));
  return reinterpret_cast<vkflow_tensor_t>(id);
}

const Tensor& get_tensor(vkflow_run_t* r, vkflow_tensor_t h, const char* what) {
  auto it = r->handles.find(reinterpret_cast<uintptr_t>(h));
  if (it == r->handles.end())
    throw BadArgument(std::string(what) + " is not a live tensor handle of this call (released, NULL or foreign)");
  return it->second;
}

void set_tensor(vkflow_run_t* r, vkflow_tensor_t h, Tensor t) {
  auto it = r->handles.find(reinterpret_cast<uintptr_t>(h));
  if (it == r->handles.end()) throw BadArgument("dst is not a live tensor handle of this call");
  it->second = std::move(t);
}

bool poll_cancel(vkflow_run_t* r) {
  if (r->cancelled) return true;
  const auto& env = r->run.env;
  if (env.cancel && env.cancel->load()) {
    r->cancelled = true;
    r->cancel_ex = std::make_exception_ptr(
        sampling::SamplingCancelled("sampling cancelled during sampler '" + r->run.name + "' (" + r->lib.who + ")"));
    return true;
  }
  if (env.check_cancel) {
    try {
      env.check_cancel();
    } catch (...) {
      r->cancelled = true;
      r->cancel_ex = std::current_exception();
      return true;
    }
  }
  return false;
}

namespace {

// What the plugin's thread shares with the host: the run state and everything the call points at (it
// outlives the call when the plugin is abandoned).
struct Call {
  Call(sampling::detail::Run& run, const Library& lib) : state(run, lib), sigmas(run.s) {}
  vkflow_run_s state;
  std::vector<double> sigmas, params;
  vkflow_sample_call_t call{};
  vkflow_tensor_t result = nullptr;
  vkflow_result_t rc = VKFLOW_ERROR;
  bool threw = false;
};

// A cancelled plugin gets this long to return (its host calls return VKFLOW_CANCELLED at once): one step
// as long as its longest so far, at least kMinGrace.
constexpr std::chrono::milliseconds kMinGrace{500}, kPoll{20};

// Runs sample() on its own thread, executing its host calls here (Bridge). Returns false when the plugin
// did not return within the grace period after a cancel: it is abandoned (its thread keeps running until
// it returns; every host call it makes returns at once).
bool run_on_plugin_thread(const std::shared_ptr<Call>& c, vkflow_result_t (*sample)(const vkflow_sample_call_t*, vkflow_tensor_t*)) {
  Bridge& b = c->state.bridge;
  b.host_thread = std::this_thread::get_id();
  c->state.last_step = std::chrono::steady_clock::now();
  std::thread worker([c, sample] {
    vkflow_result_t rc = VKFLOW_ERROR;
    bool threw = false;
    try {
      rc = sample(&c->call, &c->result);
    } catch (...) {  // a C++ plugin broke the no-exceptions rule; do not let it unwind further
      threw = true;
    }
    std::lock_guard lk(c->state.bridge.m);
    c->rc = rc;
    c->threw = threw;
    c->state.bridge.returned = true;
    c->state.bridge.cv.notify_all();
  });
  std::optional<std::chrono::steady_clock::time_point> cancelled_at;
  std::unique_lock lk(b.m);
  for (;;) {
    b.cv.wait_for(lk, kPoll, [&] { return b.job || b.returned; });
    if (b.returned) break;
    // state.cancelled is only touched on this thread (by the host calls run here and by the poll below)
    const auto now = std::chrono::steady_clock::now();
    if (c->state.cancelled && !cancelled_at) cancelled_at = now;
    if (cancelled_at && now - *cancelled_at > std::max<std::chrono::steady_clock::duration>(kMinGrace, c->state.longest_step)) {
      b.abandoned = true;  // a pending call is not run: its caller wakes and gets the "abandoned" value
      b.cv.notify_all();
      lk.unlock();
      worker.detach();
      c->state.handles.clear();  // on this thread: the plugin's thread no longer reaches them
      return false;
    }
    if (b.job) {
      std::function<void()>* job = b.job;
      b.job = nullptr;
      lk.unlock();
      (*job)();  // host functions catch everything themselves
      lk.lock();
      ++b.done;
      b.cv.notify_all();
      continue;
    }
    lk.unlock();  // the plugin is in its own code: has the user cancelled meanwhile?
    poll_cancel(&c->state);
    lk.lock();
  }
  lk.unlock();
  worker.join();
  return true;
}

}  // namespace

std::function<Tensor(sampling::detail::Run&, Tensor)> make_plugin_run(std::shared_ptr<const Library> lib,
                                                                      const vkflow_sampler_desc_t& desc) {
  auto sample = desc.sample;
  void* user_data = desc.user_data;
  return [lib, sample, user_data](sampling::detail::Run& run, Tensor x) -> Tensor {
    const std::string who = "sampler '" + run.name + "' (" + lib->who + ")";
    auto c = std::make_shared<Call>(run, *lib);
    vkflow_run_s& state = c->state;
    if (run.desc)
      for (const auto& p : run.desc->params) c->params.push_back(sampling::sampler_param(*run.desc, run.opt, p.name));
    vkflow_sample_call_t& call = c->call;
    call.struct_size = sizeof call;
    call.run = &state;
    call.api = run_api();
    call.x = put_tensor(&state, std::move(x));
    call.sigmas = c->sigmas.data();
    call.sigma_count = uint32_t(c->sigmas.size());
    call.params = c->params.empty() ? nullptr : c->params.data();
    call.param_count = uint32_t(c->params.size());
    call.user_data = user_data;
    if (!run_on_plugin_thread(c, sample)) {
      std::cerr << "vkflow: warning: " << who << " did not return within one step of the cancel; abandoned\n";
      if (state.cancel_ex) std::rethrow_exception(state.cancel_ex);
      throw sampling::SamplingCancelled(who + " was cancelled and did not return; abandoned");
    }
    const vkflow_result_t rc = c->rc;
    const vkflow_tensor_t result = c->result;
    if (c->threw) throw sampling::SamplingError(who + ": an exception escaped the plugin's sample()");
    if (state.cancelled && state.cancel_ex) std::rethrow_exception(state.cancel_ex);
    if (rc == VKFLOW_CANCELLED) {
      if (poll_cancel(&state) && state.cancel_ex) std::rethrow_exception(state.cancel_ex);
      throw sampling::SamplingError(who + " returned VKFLOW_CANCELLED although nothing was cancelled");
    }
    if (rc != VKFLOW_OK) {
      const std::string msg = !state.error.empty() ? state.error
                              : state.last_error != "no error" ? "last host error: " + state.last_error
                                                               : "no message";
      throw sampling::SamplingError(who + " failed (" + code_name(rc) + "): " + msg);
    }
    auto it = state.handles.find(reinterpret_cast<uintptr_t>(result));
    if (!result || it == state.handles.end())
      throw sampling::SamplingError(who + " returned no valid result tensor");
    Tensor out = it->second;
    if (out.shape() != run.shape || out.dtype() != DType::F32)
      throw sampling::SamplingError(who + " returned a " + dtype_name(out.dtype()) + " tensor of shape " +
                                    shape_str(out.shape()) + " for a latent of shape " + shape_str(run.shape));
    run.rec().submit();
    const ops::NonfiniteCount nf = ops::count_nonfinite(run.rec().context(), out);
    if (nf.any())
      throw sampling::SamplingError(who + " returned a latent with " + std::to_string(nf.nan) + " NaN and " +
                                    std::to_string(nf.inf) + " Inf values");
    return out;
  };
}

}  // namespace vkf::plugin
