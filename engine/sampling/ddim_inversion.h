// DDIM inversion (eta = 0 run backwards): deterministic x0 -> x_t. DDIM with eta 0 is the Euler step of
// the probability-flow ODE in k-diffusion's sigma space, so inversion integrates the same ODE upwards:
// x_{sigma_b} = x + (sigma_b - sigma_a) * (x - D(x, sigma_a)) / sigma_a, starting with the clean latent
// taken as the state at the smallest sigma (x_{s_min} = x0 + s_min * eps(x0, s_min)).
#pragma once
#include <vector>

#include "engine/sampling/sampler.h"

namespace vkf::sampling {

// `sigmas`: a sampling schedule (descending, may end with 0). Returns the latent at sigmas[0] in
// k-diffusion scale: feeding it to a sampler over the same sigmas with no added noise regenerates x0.
Tensor ddim_invert(SamplerEnv& env, const Tensor& x0, const std::vector<float>& sigmas);

}  // namespace vkf::sampling
