#include "engine/sampling/torch_rng.h"

#include <bit>
#include <cmath>
#include <numbers>
#include <stdexcept>
#include <string>

#include "engine/sampling/model_sampling.h"

namespace vkf::sampling {

namespace {

// ---- avx_mathfun (ATen/native/avx_mathfun.h) in scalar float32 --------------------------------
// One statement per vector instruction; std::fma where GCC contracts mul+add in the ATen AVX2 build.

float cephes_logf(float x) {
  x = std::fmax(x, std::bit_cast<float>(0x00800000u));  // cut off denormals
  int32_t e_int = static_cast<int32_t>(std::bit_cast<uint32_t>(x) >> 23);
  x = std::bit_cast<float>((std::bit_cast<uint32_t>(x) & ~0x7f800000u) | std::bit_cast<uint32_t>(0.5f));
  e_int -= 0x7f;
  float e = static_cast<float>(e_int);
  e = e + 1.0f;
  const bool below = x < 0.707106781186547524f;  // SQRTHF
  const float tmp0 = below ? x : 0.0f;
  x = x - 1.0f;
  e = e - (below ? 1.0f : 0.0f);
  x = x + tmp0;
  const float z = x * x;
  float y = 7.0376836292E-2f;
  y = std::fma(y, x, -1.1514610310E-1f);
  y = std::fma(y, x, 1.1676998740E-1f);
  y = std::fma(y, x, -1.2420140846E-1f);
  y = std::fma(y, x, 1.4249322787E-1f);
  y = std::fma(y, x, -1.6668057665E-1f);
  y = std::fma(y, x, 2.0000714765E-1f);
  y = std::fma(y, x, -2.4999993993E-1f);
  y = std::fma(y, x, 3.3333331174E-1f);
  y = y * x;
  const float tmp1 = e * -2.12194440e-4f;
  y = std::fma(y, z, tmp1);
  y = std::fma(-z, 0.5f, y);
  x = x + y;
  x = std::fma(e, 0.693359375f, x);
  return x;  // inputs here are in (0, 1]: no NaN mask needed
}

void cephes_sincosf(float xin, float* s, float* c) {
  uint32_t sign_sin = std::bit_cast<uint32_t>(xin) & 0x80000000u;
  float x = std::bit_cast<float>(std::bit_cast<uint32_t>(xin) & 0x7fffffffu);
  float y = x * 1.27323954473516f;  // 4/pi
  int32_t j = static_cast<int32_t>(y);  // cvttps: truncation
  j = (j + 1) & ~1;
  y = static_cast<float>(j);
  const uint32_t swap_sin = static_cast<uint32_t>(j & 4) << 29;
  const bool poly_sin = (j & 2) == 0;
  x = std::fma(y, -0.78515625f, x);  // extended-precision range reduction
  x = std::fma(y, -2.4187564849853515625e-4f, x);
  x = std::fma(y, -3.77489497744594108e-8f, x);
  const uint32_t sign_cos = static_cast<uint32_t>(~(j - 2) & 4) << 29;
  sign_sin ^= swap_sin;
  const float z = x * x;
  float yc = 2.443315711809948E-005f;
  yc = std::fma(yc, z, -1.388731625493765E-003f);
  yc = std::fma(yc, z, 4.166664568298827E-002f);
  yc = yc * z;
  const float half_z = z * 0.5f;
  yc = std::fma(yc, z, -half_z);
  yc = yc + 1.0f;
  float ys = -1.9515295891E-4f;
  ys = std::fma(ys, z, 8.3321608736E-3f);
  ys = std::fma(ys, z, -1.6666654611E-1f);
  ys = ys * z;
  ys = std::fma(ys, x, x);
  const float ysin2 = poly_sin ? ys : 0.0f;
  const float ysin1 = poly_sin ? 0.0f : yc;
  ys = ys - ysin2;
  yc = yc - ysin1;
  const float sin_v = ysin1 + ysin2;
  const float cos_v = yc + ys;
  *s = std::bit_cast<float>(std::bit_cast<uint32_t>(sin_v) ^ sign_sin);
  *c = std::bit_cast<float>(std::bit_cast<uint32_t>(cos_v) ^ sign_cos);
}

float uniform24(std::mt19937& g) { return static_cast<float>(g() & 0xFFFFFFu) * (1.0f / 16777216.0f); }

// normal_fill_16_AVX2 with mean 0, std 1 (fmadd(n, 1, 0) == n + 0, which also maps -0 to +0).
void normal_fill_16(float* d) {
  const float two_pi = static_cast<float>(2.0 * std::numbers::pi);
  for (int j = 0; j < 8; ++j) {
    const float u1 = 1.0f - d[j];
    const float u2 = d[j + 8];
    const float lg = cephes_logf(u1);
    const float radius = std::sqrt(-2.0f * lg);
    const float theta = two_pi * u2;
    float sn = 0.0f, cs = 0.0f;
    cephes_sincosf(theta, &sn, &cs);
    const float n1 = radius * cs;
    const float n2 = radius * sn;
    d[j] = n1 + 0.0f;
    d[j + 8] = n2 + 0.0f;
  }
}

}  // namespace

void TorchGenerator::manual_seed(uint64_t seed) {
  engine_.seed(static_cast<uint32_t>(seed & 0xffffffffu));  // at::mt19937 keeps the low 32 bits
  has_next_double_normal_ = false;
  next_double_normal_ = 0.0;
}

uint64_t TorchGenerator::random64() {
  const uint64_t hi = random();
  const uint64_t lo = random();
  return (hi << 32) | lo;
}

std::vector<float> TorchGenerator::randn(int64_t numel) {
  if (numel < 0) throw SamplingError("torch randn: negative element count " + std::to_string(numel));
  const auto n = static_cast<size_t>(numel);
  std::vector<float> d(n);
  if (n >= 16) {
    for (float& v : d) v = uniform24(engine_);
    for (size_t i = 0; i + 16 <= n; i += 16) normal_fill_16(d.data() + i);
    if (n % 16 != 0) {
      float* tail = d.data() + n - 16;
      for (int i = 0; i < 16; ++i) tail[i] = uniform24(engine_);
      normal_fill_16(tail);
    }
    return d;
  }
  for (float& v : d) {
    if (has_next_double_normal_) {
      has_next_double_normal_ = false;
      v = static_cast<float>(next_double_normal_);
      continue;
    }
    constexpr uint64_t kMask53 = (uint64_t{1} << 53) - 1;
    constexpr double kDiv53 = 1.0 / static_cast<double>(uint64_t{1} << 53);
    const double u1 = static_cast<double>(random64() & kMask53) * kDiv53;
    const double u2 = static_cast<double>(random64() & kMask53) * kDiv53;
    const double r = std::sqrt(-2.0 * std::log(1.0 - u2));
    const double theta = 2.0 * std::numbers::pi * u1;
    next_double_normal_ = r * std::sin(theta);
    has_next_double_normal_ = true;
    v = static_cast<float>(r * std::cos(theta));
  }
  return d;
}

std::vector<float> TorchGenerator::randn(const std::vector<int64_t>& shape) {
  int64_t numel = 1;
  for (int64_t s : shape) {
    if (s < 0) throw SamplingError("torch randn: negative dimension in shape");
    numel *= s;
  }
  return randn(numel);
}

std::vector<float> torch_randn(uint64_t seed, const std::vector<int64_t>& shape) {
  TorchGenerator g(seed);
  return g.randn(shape);
}

}  // namespace vkf::sampling
