#include "engine/sampling/torch_math.h"

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

namespace vkf::sampling {

namespace {
float pow2i(int32_t q) { return std::bit_cast<float>(static_cast<uint32_t>(q + 0x7f) << 23); }
}  // namespace

float sleef_expf(float d) {
  constexpr float kRLn2 = 1.442695040888963407359924681001892137426645954152985934135449406931f;
  constexpr float kL2U = 0.693145751953125f;
  constexpr float kL2L = 1.428606765330187045e-06f;
  if (std::isnan(d)) return d;
  const float dq = d * kRLn2;
  const auto q = static_cast<int32_t>(std::nearbyint(std::fmin(std::fmax(dq, -1e9f), 1e9f)));  // cvtps: RNE
  const float qf = static_cast<float>(q);
  float s = std::fma(qf, -kL2U, d);
  s = std::fma(qf, -kL2L, s);
  float u = 0.000198527617612853646278381f;
  u = std::fma(u, s, 0.00139304355252534151077271f);
  u = std::fma(u, s, 0.00833336077630519866943359f);
  u = std::fma(u, s, 0.0416664853692054748535156f);
  u = std::fma(u, s, 0.166666671633720397949219f);
  u = std::fma(u, s, 0.5f);
  const float s2 = s * s;
  u = 1.0f + std::fma(s2, u, s);
  if (d < -104.0f) return 0.0f;
  if (d > 100.0f) return std::numeric_limits<float>::infinity();
  const int32_t h = q >> 1;  // vldexp2: two steps so that q near the exponent limits stays finite
  u = u * pow2i(h);
  u = u * pow2i(q - h);
  return u;
}

}  // namespace vkf::sampling
