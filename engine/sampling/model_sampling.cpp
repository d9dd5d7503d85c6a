#include "engine/sampling/model_sampling.h"

#include <cmath>
#include <numbers>

#include "engine/sampling/torch_math.h"

namespace vkf::sampling {

namespace {

template <typename T>
std::vector<T> linspace_impl(T start, T end, int steps) {
  if (steps < 0) throw SamplingError("linspace: negative number of steps " + std::to_string(steps));
  if (steps == 0) return {};
  if (steps == 1) return {start};
  // torch's CPU kernel (RangeFactoriesKernel.cpp) fills from both ends so that the last element is
  // exactly `end`. Scalar elements: start + step*i below steps/2, end - step*(steps-1-i) above, both
  // contracted to FMAs in ATen's AVX2 build. cpu_serial_kernel_vec first emits pairs of 256-bit
  // vectors while 2 vectors fit: each vector is Vectorized::arange(base, step) = base + k*step
  // (unfused) with base computed as the scalar element at the vector's first index. Verified against
  // the karras/exponential/normal goldens, which match only with exactly this mix.
  const T step = (end - start) / static_cast<T>(steps - 1);
  const int halfway = steps / 2;
  auto scalar_at = [&](int i) {
    return i < halfway ? std::fma(step, static_cast<T>(i), start)
                       : std::fma(-step, static_cast<T>(steps - i - 1), end);
  };
  constexpr int kLanes = static_cast<int>(32 / sizeof(T));
  std::vector<T> out(static_cast<size_t>(steps));
  int i = 0;
  for (; i + 2 * kLanes <= steps; i += 2 * kLanes) {
    for (int v = i; v < i + 2 * kLanes; v += kLanes) {
      const T base = scalar_at(v);
      for (int k = 0; k < kLanes; ++k) {
        const T off = static_cast<T>(k) * step;
        out[v + k] = base + off;
      }
    }
  }
  for (; i < steps; ++i) out[i] = scalar_at(i);  // tail: scalar elements
  return out;
}

// comfy.model_sampling.rescale_zero_terminal_snr_sigmas (float64).
std::vector<double> rescale_zero_terminal_snr(const std::vector<double>& sigmas) {
  std::vector<double> ab_sqrt(sigmas.size());
  for (size_t i = 0; i < sigmas.size(); ++i) ab_sqrt[i] = std::sqrt(1.0 / (sigmas[i] * sigmas[i] + 1.0));
  const double a0 = ab_sqrt.front(), aT = ab_sqrt.back();
  std::vector<double> out(sigmas.size());
  for (size_t i = 0; i < sigmas.size(); ++i) {
    double v = ab_sqrt[i] - aT;
    v *= a0 / (a0 - aT);
    double ab = v * v;
    if (i + 1 == sigmas.size()) ab = 4.8973451890853435e-08;  // ComfyUI's fixed terminal value
    out[i] = std::sqrt((1.0 - ab) / ab);
  }
  return out;
}

// float32 log-linear interpolation of ModelSamplingDiscrete.sigma on the table index t.
float interp_log_sigma(std::span<const float> log_sigmas, float t) {
  if (std::isnan(t)) return t;
  const float hi_t = static_cast<float>(log_sigmas.size() - 1);
  t = std::fmin(std::fmax(t, 0.0f), hi_t);
  const float lo = std::floor(t), hi = std::ceil(t);
  const float w = t - std::trunc(t);  // torch frac()
  const float one_minus_w = 1.0f - w;
  const float a = one_minus_w * log_sigmas[static_cast<size_t>(lo)];
  const float b = w * log_sigmas[static_cast<size_t>(hi)];
  const float ls = a + b;
  return sleef_expf(ls);
}

// comfy.model_sampling.time_snr_shift on a float32 tensor (python-float constants cast to float32).
float time_snr_shift_f32(double alpha, float t) {
  if (alpha == 1.0) return t;
  const float num = static_cast<float>(alpha) * t;
  const float den_mul = static_cast<float>(alpha - 1.0) * t;
  const float den = den_mul + 1.0f;
  return num / den;
}

}  // namespace

const char* prediction_name(Prediction p) {
  switch (p) {
    case Prediction::Eps: return "eps";
    case Prediction::VPrediction: return "v_prediction";
    case Prediction::Const: return "const";
    case Prediction::X0: return "x0";
    case Prediction::Lcm: return "lcm";
  }
  return "?";
}

std::vector<float> torch_linspace_f32(float start, float end, int steps) { return linspace_impl(start, end, steps); }
std::vector<double> torch_linspace_f64(double start, double end, int steps) {
  return linspace_impl(start, end, steps);
}

std::vector<double> make_beta_schedule(const std::string& schedule, int timesteps, double linear_start,
                                       double linear_end, double cosine_s) {
  if (timesteps < 2) throw SamplingError("make_beta_schedule: timesteps must be >= 2, got " + std::to_string(timesteps));
  std::vector<double> betas;
  if (schedule == "linear") {  // LDM "linear" is linear in sqrt(beta)
    betas = torch_linspace_f64(std::sqrt(linear_start), std::sqrt(linear_end), timesteps);
    for (double& b : betas) b = b * b;
  } else if (schedule == "sqrt_linear") {
    betas = torch_linspace_f64(linear_start, linear_end, timesteps);
  } else if (schedule == "sqrt") {
    betas = torch_linspace_f64(linear_start, linear_end, timesteps);
    for (double& b : betas) b = std::sqrt(b);
  } else if (schedule == "cosine") {
    std::vector<double> alphas(static_cast<size_t>(timesteps) + 1);
    for (int i = 0; i <= timesteps; ++i) {
      const double t = static_cast<double>(i) / timesteps + cosine_s;
      const double c = std::cos(t / (1.0 + cosine_s) * std::numbers::pi / 2.0);
      alphas[i] = c * c;
    }
    const double a0 = alphas[0];
    for (double& a : alphas) a = a / a0;
    betas.resize(static_cast<size_t>(timesteps));
    for (int i = 0; i < timesteps; ++i) betas[i] = std::fmin(std::fmax(1.0 - alphas[i + 1] / alphas[i], 0.0), 0.999);
  } else {
    throw SamplingError("unknown beta_schedule '" + schedule + "' (supported: linear, sqrt_linear, sqrt, cosine)");
  }
  return betas;
}

std::vector<double> discrete_sigmas_f64(const DiscreteConfig& cfg) {
  const std::vector<double> betas =
      make_beta_schedule(cfg.beta_schedule, cfg.timesteps, cfg.linear_start, cfg.linear_end);
  std::vector<double> sig(betas.size());
  double cumprod = 1.0;  // torch.cumprod: sequential
  for (size_t i = 0; i < betas.size(); ++i) {
    cumprod *= 1.0 - betas[i];
    sig[i] = std::sqrt((1.0 - cumprod) / cumprod);
  }
  if (cfg.zsnr) sig = rescale_zero_terminal_snr(sig);
  return sig;
}

ModelSampling ModelSampling::discrete(Prediction prediction, const DiscreteConfig& cfg) {
  if (prediction == Prediction::Const)
    throw SamplingError("ModelSampling::discrete: CONST (flow) prediction needs ModelSampling::flow()");
  const std::vector<double> sig = discrete_sigmas_f64(cfg);

  ModelSampling ms;
  ms.kind_ = Kind::Discrete;
  ms.prediction_ = prediction;
  ms.sigma_data_ = 1.0;
  if (prediction != Prediction::Lcm) {
    ms.sigmas_.resize(sig.size());
    ms.log_sigmas_.resize(sig.size());
    for (size_t i = 0; i < sig.size(); ++i) {
      ms.sigmas_[i] = static_cast<float>(sig[i]);
      ms.log_sigmas_[i] = static_cast<float>(std::log(sig[i]));  // log of the float64 table
    }
    return ms;
  }
  // ModelSamplingDiscreteDistilled: every skip-th sigma counted from the top, original_timesteps = 50.
  constexpr int kOriginal = 50;
  const int n = static_cast<int>(sig.size());
  ms.skip_steps_ = n / kOriginal;
  if (ms.skip_steps_ < 1) throw SamplingError("LCM sampling needs >= 50 timesteps, got " + std::to_string(n));
  ms.sigmas_.resize(kOriginal);
  ms.log_sigmas_.resize(kOriginal);
  for (int x = 0; x < kOriginal; ++x)
    ms.sigmas_[kOriginal - 1 - x] = static_cast<float>(sig[static_cast<size_t>(n - 1 - x * ms.skip_steps_)]);
  for (int i = 0; i < kOriginal; ++i) ms.log_sigmas_[i] = std::log(ms.sigmas_[i]);  // float32 log here
  return ms;
}

ModelSampling ModelSampling::flow(double shift, double multiplier, int timesteps) {
  if (timesteps < 1) throw SamplingError("ModelSampling::flow: timesteps must be >= 1");
  if (!(multiplier > 0.0)) throw SamplingError("ModelSampling::flow: multiplier must be > 0");
  ModelSampling ms;
  ms.kind_ = Kind::Flow;
  ms.prediction_ = Prediction::Const;
  ms.sigma_data_ = 1.0;
  ms.shift_ = shift;
  ms.multiplier_ = multiplier;
  ms.sigmas_.resize(static_cast<size_t>(timesteps));
  for (int i = 0; i < timesteps; ++i) {
    // (arange(1, T+1) / T) * multiplier in float32, then sigma().
    const float frac = static_cast<float>(i + 1) / static_cast<float>(timesteps);
    const float t = frac * static_cast<float>(multiplier);
    ms.sigmas_[i] = ms.sigma(t);
  }
  return ms;
}

int ModelSampling::table_index(float sigma) const {
  const float ls = std::log(sigma);
  int best = 0;
  float best_d = std::fabs(ls - log_sigmas_[0]);
  for (size_t i = 1; i < log_sigmas_.size(); ++i) {
    const float d = std::fabs(ls - log_sigmas_[i]);
    if (d < best_d) {  // strict: first index wins ties, as torch.argmin
      best_d = d;
      best = static_cast<int>(i);
    }
  }
  return best;
}

float ModelSampling::timestep(float sigma) const {
  if (kind_ == Kind::Flow) return sigma * static_cast<float>(multiplier_);
  const int idx = table_index(sigma);
  if (skip_steps_ > 0) return static_cast<float>(idx * skip_steps_ + (skip_steps_ - 1));
  return static_cast<float>(idx);
}

float ModelSampling::sigma(float timestep) const {
  if (kind_ == Kind::Flow) return time_snr_shift_f32(shift_, timestep / static_cast<float>(multiplier_));
  if (skip_steps_ > 0) {
    const float shifted = timestep - static_cast<float>(skip_steps_ - 1);
    return interp_log_sigma(log_sigmas_, shifted / static_cast<float>(skip_steps_));
  }
  return interp_log_sigma(log_sigmas_, timestep);
}

double ModelSampling::percent_to_sigma(double percent) const {
  if (kind_ == Kind::Flow) {
    if (percent <= 0.0) return 1.0;
    if (percent >= 1.0) return 0.0;
    const double t = 1.0 - percent;  // python float math here, not float32
    if (shift_ == 1.0) return t;
    return shift_ * t / (1.0 + (shift_ - 1.0) * t);
  }
  if (percent <= 0.0) return 999999999.9;
  if (percent >= 1.0) return 0.0;
  return sigma(static_cast<float>((1.0 - percent) * 999.0));
}

double ModelSampling::input_scale(double sigma) const {
  if (prediction_ == Prediction::Const) return 1.0;
  return 1.0 / std::sqrt(sigma * sigma + sigma_data_ * sigma_data_);
}

Lin2 ModelSampling::denoised(double sigma) const {
  const double sd2 = sigma_data_ * sigma_data_;
  switch (prediction_) {
    case Prediction::Eps:
    case Prediction::Const: return {1.0, -sigma};
    case Prediction::VPrediction: {
      const double den = sigma * sigma + sd2;
      return {sd2 / den, -sigma * sigma_data_ / std::sqrt(den)};
    }
    case Prediction::X0: return {0.0, 1.0};
    case Prediction::Lcm: {
      // x0 = x - out*sigma; denoised = c_out*x0 + c_skip*x with the scaled (x10) model timestep.
      const double st = static_cast<double>(timestep(static_cast<float>(sigma))) * 10.0;
      constexpr double kSd2 = 0.25;  // LCM sigma_data 0.5
      const double c_skip = kSd2 / (st * st + kSd2);
      const double c_out = st / std::sqrt(st * st + kSd2);
      return {c_out + c_skip, -c_out * sigma};
    }
  }
  return {1.0, -sigma};
}

Lin2 ModelSampling::noise_scaling(double sigma, bool max_denoise) const {
  if (prediction_ == Prediction::Const) return {sigma, 1.0 - sigma};  // max_denoise ignored
  return {max_denoise ? std::sqrt(1.0 + sigma * sigma) : sigma, 1.0};
}

double ModelSampling::inverse_noise_scaling(double sigma) const {
  if (prediction_ == Prediction::Const) return 1.0 / (1.0 - sigma);
  return 1.0;
}

bool ModelSampling::max_denoise(double first_sigma) const {
  const double max_sigma = sigma_max();
  // math.isclose(max_sigma, sigma, rel_tol=1e-05) or sigma > max_sigma
  const double tol = 1e-5 * std::fmax(std::fabs(max_sigma), std::fabs(first_sigma));
  return std::fabs(max_sigma - first_sigma) <= tol || first_sigma > max_sigma;
}

}  // namespace vkf::sampling
