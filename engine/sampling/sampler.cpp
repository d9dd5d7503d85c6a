#include "engine/sampling/sampler.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

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

SamplerRegistry& sampler_registry() {
  static SamplerRegistry* r = [] {
    static SamplerRegistry reg("sampler");
    std::vector<detail::SamplerEntry> all;
    for (auto fam : {detail::euler_family, detail::cfgpp_family, detail::dpm_solver_family, detail::dpmpp_family,
                     detail::exp_family, detail::multistep_family, detail::sa_solver_family, detail::unipc_family})
      for (const auto& e : fam()) all.push_back(e);
    std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.rank < b.rank; });
    for (size_t i = 0; i < all.size(); ++i) {
      const auto& e = all[i];
      if (e.rank != int(i)) throw std::logic_error(std::string("built-in sampler ranks are not 0..n-1 at ") + e.name);
      SamplerDesc d;
      d.name = d.display_name = e.name;
      d.needs_uncond = e.props & detail::kUncond;
      d.discards_penultimate = e.props & detail::kDiscardPenultimate;
      d.stochastic = e.props & detail::kNoise;
      d.run = e.fn;
      validate_sampler_desc(d);
      reg.add(std::move(d));
    }
    return &reg;
  }();
  return *r;
}

void validate_sampler_desc(const SamplerDesc& d) {
  const std::string who = "sampler '" + d.name + "'";
  if (!is_valid_registry_name(d.name)) throw SamplingError(who + ": invalid name (1-64 of A-Z a-z 0-9 _ . -)");
  if (!d.run) throw SamplingError(who + ": no sample function");
  for (size_t i = 0; i < d.params.size(); ++i) {
    const SamplerParam& p = d.params[i];
    if (!is_valid_registry_name(p.name) || p.name.find_first_of(".-") != std::string::npos)
      throw SamplingError(who + ": parameter " + std::to_string(i) + " has an invalid name '" + p.name + "'");
    for (size_t k = 0; k < i; ++k)
      if (d.params[k].name == p.name) throw SamplingError(who + ": parameter '" + p.name + "' declared twice");
    if (!std::isfinite(p.def) || !std::isfinite(p.min) || !std::isfinite(p.max) || !std::isfinite(p.step) ||
        p.min > p.max || p.def < p.min || p.def > p.max || p.step < 0.0)
      throw SamplingError(who + ": parameter '" + p.name + "' needs finite min <= default <= max and step >= 0");
    if (p.type != SamplerParam::Type::Float && (p.def != std::floor(p.def) || p.min != std::floor(p.min) ||
                                               p.max != std::floor(p.max)))
      throw SamplingError(who + ": integer/boolean parameter '" + p.name + "' has a fractional bound");
  }
}

double sampler_param(const SamplerDesc& d, const SamplerOptions& opt, std::string_view name) {
  for (const auto& p : d.params)
    if (p.name == name) {
      auto it = opt.params.find(name);
      return it == opt.params.end() ? p.def : it->second;
    }
  throw SamplingError("sampler '" + d.name + "' declares no parameter '" + std::string(name) + "'");
}

std::vector<std::string> sampler_names() { return sampler_registry().names(); }

bool is_sampler_name(std::string_view name) { return sampler_registry().find(name) != nullptr; }

bool sampler_needs_uncond(std::string_view name) {
  auto d = sampler_registry().find(name);
  return d && d->needs_uncond;
}

Tensor run_sampler(std::string_view name, SamplerEnv& env, Tensor x_init, const std::vector<float>& sigmas,
                   const SamplerOptions& opt) {
  const auto desc = sampler_registry().find(name);
  if (!desc)
    throw SamplingError("unknown sampler '" + std::string(name) + "' (valid: " + sampler_registry().names_list() + ")");
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
  run.desc = desc.get();
  Tensor out = desc->run(run, std::move(x_init));
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
