#include "engine/sampling/sampler.h"

#include <algorithm>
#include <cstring>
#include <map>

#include "engine/ops/lincomb.h"
#include "engine/sampling/sampler_impl.h"

namespace vkf::sampling {

// ---- noise sources ----

Tensor HostNoiseSource::next(vk::Recorder& rec, const Shape& shape, double sigma, double sigma_next) {
  generate(host_, shape, sigma, sigma_next);
  if (int64_t(host_.size()) != shape_numel(shape))
    throw SamplingError("noise source produced " + std::to_string(host_.size()) + " values for shape " +
                        shape_str(shape));
  if (slots_.size() < kSlots) slots_.resize(kSlots);
  Slot& sl = slots_[calls_ % kSlots];
  if (!sl.t.defined() || sl.t.shape() != shape) {
    rec.submit();  // the pool may hand out a buffer that recorded work still reads or writes
    sl.t = empty(rec.context(), shape, DType::F32);
  } else if (sl.filled_at == rec.submit_count()) {
    rec.submit();  // this slot may still be read by recorded work
  }
  upload(rec.context(), sl.t, host_);
  sl.filled_at = rec.submit_count();
  ++calls_;
  return sl.t;
}

RecordedNoise::RecordedNoise(std::vector<float> data, Shape shape) : data_(std::move(data)), shape_(std::move(shape)) {
  const int64_t n = shape_numel(shape_);
  if (n <= 0 || data_.size() % size_t(n) != 0)
    throw SamplingError("RecordedNoise: " + std::to_string(data_.size()) + " values are not a whole number of " +
                        shape_str(shape_) + " tensors");
  count_ = data_.size() / size_t(n);
}

void RecordedNoise::generate(std::vector<float>& out, const Shape& shape, double, double) {
  if (shape != shape_)
    throw SamplingError("RecordedNoise: noise of shape " + shape_str(shape) + " requested, recorded " +
                        shape_str(shape_));
  if (used_ >= count_)
    throw SamplingError("RecordedNoise: noise call " + std::to_string(used_ + 1) + " but only " +
                        std::to_string(count_) + " recorded");
  const size_t n = size_t(shape_numel(shape_));
  out.assign(data_.begin() + std::ptrdiff_t(used_ * n), data_.begin() + std::ptrdiff_t((used_ + 1) * n));
  ++used_;
}

void SeededNoise::generate(std::vector<float>& out, const Shape& shape, double, double) {
  out = gen_.randn(std::vector<int64_t>(shape.begin(), shape.end()));
}

// ---- per-run context ----
namespace detail {

Run::Run(std::string name_, SamplerEnv& env_, const std::vector<float>& sigmas, const SamplerOptions& opt_,
         Shape shape_)
    : name(std::move(name_)), env(env_), opt(opt_), s(sigmas.begin(), sigmas.end()), shape(std::move(shape_)) {}

Denoised Run::denoise(const Tensor& x, double sigma, bool need_uncond) {
  Denoised d = env.denoise(env.rec, x, sigma);
  if (!d.denoised.defined() || d.denoised.shape() != shape)
    throw SamplingError("sampler '" + name + "': the denoiser returned " +
                        (d.denoised.defined() ? shape_str(d.denoised.shape()) : std::string("nothing")) +
                        " for a latent of shape " + shape_str(shape));
  if (need_uncond && (!d.uncond.defined() || d.uncond.shape() != shape))
    throw SamplingError("sampler '" + name + "' (CFG++) needs the unconditional prediction, the denoiser gave none");
  return d;
}

Tensor Run::lin(const std::vector<Tm>& terms, double bias) {
  std::vector<ops::Term> t;
  for (const auto& x : terms)
    if (x.c != 0.0) t.push_back({float(x.c), x.t});
  if (t.empty()) t.push_back({0.0f, terms.at(0).t});
  Tensor out = empty(env.rec.context(), shape, DType::F32);
  auto rec4 = [&](size_t b, size_t e, bool acc, float bias_) {
    ops::Term a[4];
    size_t k = 0;
    if (acc) a[k++] = {1.0f, &out};
    for (size_t i = b; i < e; ++i) a[k++] = t[i];
    switch (k) {
      case 1: ops::lincomb(env.rec, out, {a[0]}, bias_); break;
      case 2: ops::lincomb(env.rec, out, {a[0], a[1]}, bias_); break;
      case 3: ops::lincomb(env.rec, out, {a[0], a[1], a[2]}, bias_); break;
      default: ops::lincomb(env.rec, out, {a[0], a[1], a[2], a[3]}, bias_); break;
    }
  };
  size_t done = std::min<size_t>(4, t.size());
  rec4(0, done, false, float(bias));
  while (done < t.size()) {  // out += next three terms (in place: element-wise, same index)
    size_t e = std::min(t.size(), done + 3);
    rec4(done, e, true, 0.0f);
    done = e;
  }
  return out;
}

Tensor Run::noise(double sigma, double sigma_next) {
  if (!env.noise)
    throw SamplingError("sampler '" + name + "' is stochastic and needs a noise source (SamplerEnv::noise is null)");
  Tensor n = env.noise->next(env.rec, shape, sigma, sigma_next);
  if (n.shape() != shape || n.dtype() != DType::F32)
    throw SamplingError("sampler '" + name + "': noise source returned " + shape_str(n.shape()) +
                        " for a latent of shape " + shape_str(shape));
  return n;
}

void Run::end_step(int step, int total, const Tensor& x, const Tensor& denoised) {
  env.rec.submit();
  if (env.cancel && env.cancel->load())
    throw SamplingCancelled("sampling cancelled after step " + std::to_string(step + 1) + " of sampler '" + name + "'");
  if (env.callback) env.callback(step, total, x, denoised);
}

std::vector<double> solve_linear(std::vector<std::vector<double>> A, std::vector<double> b) {
  const size_t n = b.size();
  if (A.size() != n) throw SamplingError("solve_linear: matrix/vector size mismatch");
  for (size_t c = 0; c < n; ++c) {
    size_t p = c;
    for (size_t r = c + 1; r < n; ++r)
      if (std::fabs(A[r][c]) > std::fabs(A[p][c])) p = r;
    std::swap(A[c], A[p]);
    std::swap(b[c], b[p]);
    for (size_t r = c + 1; r < n; ++r) {
      const double f = A[r][c] / A[c][c];
      for (size_t k = c; k < n; ++k) A[r][k] -= f * A[c][k];
      b[r] -= f * b[c];
    }
  }
  std::vector<double> x(n);
  for (size_t c = n; c-- > 0;) {
    double v = b[c];
    for (size_t k = c + 1; k < n; ++k) v -= A[c][k] * x[k];
    x[c] = v / A[c][c];
  }
  return x;
}

}  // namespace detail

// ---- registry ----
namespace {

struct Registry {
  std::map<std::string, detail::SamplerFn, std::less<>> fns;
  Registry() {
    for (auto fam : {detail::euler_family, detail::dpmpp_family, detail::multistep_family, detail::exp_family,
                     detail::sa_solver_family, detail::unipc_family, detail::cfgpp_family,
                     detail::dpm_solver_family})
      for (const auto& e : fam()) fns.emplace(e.name, e.fn);
  }
};
const Registry& registry() {
  static const Registry r;
  return r;
}

std::string names_list() {
  std::string s;
  for (const auto& n : sampler_names()) s += (s.empty() ? "" : ", ") + n;
  return s;
}

}  // namespace

const std::vector<std::string>& sampler_names() {
  static const std::vector<std::string> names = {
      "euler", "euler_cfg_pp", "euler_ancestral", "euler_ancestral_cfg_pp", "heun", "heunpp2", "exp_heun_2_x0",
      "exp_heun_2_x0_sde", "dpm_2", "dpm_2_ancestral", "lms", "dpm_fast", "dpm_adaptive", "dpmpp_2s_ancestral",
      "dpmpp_2s_ancestral_cfg_pp", "dpmpp_sde", "dpmpp_sde_gpu", "dpmpp_2m", "dpmpp_2m_cfg_pp", "dpmpp_2m_sde",
      "dpmpp_2m_sde_gpu", "dpmpp_2m_sde_heun", "dpmpp_2m_sde_heun_gpu", "dpmpp_3m_sde", "dpmpp_3m_sde_gpu", "ddpm",
      "lcm", "ipndm", "ipndm_v", "deis", "res_multistep", "res_multistep_cfg_pp", "res_multistep_ancestral",
      "res_multistep_ancestral_cfg_pp", "gradient_estimation", "gradient_estimation_cfg_pp", "er_sde", "seeds_2",
      "seeds_3", "sa_solver", "sa_solver_pece", "ddim", "uni_pc", "uni_pc_bh2"};
  return names;
}

bool is_sampler_name(std::string_view name) {
  const auto& n = sampler_names();
  return std::find(n.begin(), n.end(), name) != n.end();
}

bool sampler_needs_uncond(std::string_view name) {
  constexpr std::string_view suffix = "_cfg_pp";
  return name.size() > suffix.size() && name.substr(name.size() - suffix.size()) == suffix;
}

Tensor run_sampler(std::string_view name, SamplerEnv& env, Tensor x_init, const std::vector<float>& sigmas,
                   const SamplerOptions& opt) {
  auto it = registry().fns.find(name);
  if (it == registry().fns.end() || !is_sampler_name(name))
    throw SamplingError("unknown sampler '" + std::string(name) + "' (valid: " + names_list() + ")");
  if (!x_init.defined()) throw SamplingError("sampler '" + std::string(name) + "': no initial latent");
  if (x_init.dtype() != DType::F32)
    throw SamplingError("sampler '" + std::string(name) + "': the latent must be F32, got " +
                        dtype_name(x_init.dtype()));
  if (!env.denoise) throw SamplingError("sampler '" + std::string(name) + "': no denoiser");
  for (float s : sigmas)
    if (!std::isfinite(s) || s < 0.0f)
      throw SamplingError("sampler '" + std::string(name) + "': invalid sigma " + std::to_string(s));
  if (sigmas.size() <= 1) return x_init;  // no steps: ComfyUI returns the input unchanged
  detail::Run run(std::string(name), env, sigmas, opt, x_init.shape());
  Tensor out = it->second(run, std::move(x_init));
  env.rec.submit();  // e.g. uni_pc's final rescale is recorded after its last step
  return out;
}

Tensor ksampler_sample(std::string_view name, SamplerEnv& env, const Tensor& noise, const Tensor& latent,
                       const std::vector<float>& sigmas, const SamplerOptions& opt) {
  if (sigmas.empty()) throw SamplingError("ksampler: empty sigma schedule");
  if (!noise.defined()) throw SamplingError("ksampler: no noise tensor");
  if (latent.defined() && latent.shape() != noise.shape())
    throw SamplingError("ksampler: latent " + shape_str(latent.shape()) + " and noise " + shape_str(noise.shape()) +
                        " differ in shape");
  const Lin2 ns = env.ms.noise_scaling(sigmas[0], env.ms.max_denoise(sigmas[0]));
  Tensor x = latent.defined() ? ops::lincomb(env.rec, {{float(ns.a), &noise}, {float(ns.b), &latent}})
                              : ops::lincomb(env.rec, {{float(ns.a), &noise}});
  x = run_sampler(name, env, std::move(x), sigmas, opt);
  const double inv = env.ms.inverse_noise_scaling(sigmas.back());
  if (inv != 1.0) x = ops::lincomb(env.rec, {{float(inv), &x}});
  env.rec.submit();
  return x;
}

}  // namespace vkf::sampling
