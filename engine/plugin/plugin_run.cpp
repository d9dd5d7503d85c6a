// One plugin sample() call: the vkflow_run_api_t table (denoise, noise, step_done, errors), handle
// bookkeeping, and the wrapper that turns the plugin's result codes into engine exceptions.
#include <atomic>
#include <cmath>

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
    sampling::Denoised d = r->run.denoise(xt, sigma, uncond != nullptr && r->run.desc && r->run.desc->needs_uncond);
    ++r->denoise_calls;
    *denoised = put_tensor(r, d.denoised);
    if (uncond) *uncond = d.uncond.defined() ? put_tensor(r, d.uncond) : nullptr;
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
    try {
      r->run.end_step(step, total < 0 ? -1 : total, xt, dt);
    } catch (const sampling::SamplingCancelled&) {
      r->cancelled = true;
      r->cancel_ex = std::current_exception();
      return VKFLOW_CANCELLED;
    }
    return VKFLOW_OK;
  });
}

int32_t api_is_cancelled(vkflow_run_t* r) { return r && poll_cancel(r) ? 1 : 0; }

void api_set_error(vkflow_run_t* r, const char* message) {
  if (r) r->error = message ? std::string(message).substr(0, 4000) : std::string();
}

const char* api_last_error(vkflow_run_t* r) { return r ? r->last_error.c_str() : "no run"; }

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

std::function<Tensor(sampling::detail::Run&, Tensor)> make_plugin_run(std::shared_ptr<const Library> lib,
                                                                      const vkflow_sampler_desc_t& desc) {
  auto sample = desc.sample;
  void* user_data = desc.user_data;
  return [lib, sample, user_data](sampling::detail::Run& run, Tensor x) -> Tensor {
    const std::string who = "sampler '" + run.name + "' (" + lib->who + ")";
    vkflow_run_s state{run, *lib, {}, {}, "no error", false, nullptr, 0};
    std::vector<double> params;
    if (run.desc)
      for (const auto& p : run.desc->params) params.push_back(sampling::sampler_param(*run.desc, run.opt, p.name));
    vkflow_sample_call_t call{};
    call.struct_size = sizeof call;
    call.run = &state;
    call.api = run_api();
    call.x = put_tensor(&state, std::move(x));
    call.sigmas = run.s.data();
    call.sigma_count = uint32_t(run.s.size());
    call.params = params.empty() ? nullptr : params.data();
    call.param_count = uint32_t(params.size());
    call.user_data = user_data;
    vkflow_tensor_t result = nullptr;
    vkflow_result_t rc;
    try {
      rc = sample(&call, &result);
    } catch (...) {  // a C++ plugin broke the no-exceptions rule; do not let it unwind further
      throw sampling::SamplingError(who + ": an exception escaped the plugin's sample()");
    }
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
