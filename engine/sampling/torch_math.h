#pragma once
// Scalar float32 replicas of the math kernels torch uses on CPU tensors, for bit-exact schedules.
// torch evaluates float32 exp through vml::vexp -> Vectorized<float>::exp() -> Sleef_expf8_u10 for
// every element (tails and 0-dim tensors included), built with FMA in the AVX2 kernels.
namespace vkf::sampling {

// Sleef xexpf (u10), FMA variant: Cody-Waite reduction by ln2, degree-6 polynomial, ldexp in two halves.
float sleef_expf(float d);

}  // namespace vkf::sampling
