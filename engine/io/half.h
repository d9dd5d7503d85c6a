#pragma once
// IEEE half (F16) and bfloat16 (BF16) <-> float conversions, exact on every input class
// (normals, subnormals, zeros, inf, nan). float -> half/bf16 rounds to nearest, ties to even.
#include <bit>
#include <cstdint>

namespace vkf::io {

inline float half_to_float(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t mant = h & 0x3ffu;
  uint32_t bits;
  if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (mant << 13);  // inf / nan (payload kept)
  } else if (exp != 0) {
    bits = sign | ((exp + 112u) << 23) | (mant << 13);  // rebias 15 -> 127
  } else if (mant == 0) {
    bits = sign;
  } else {
    // Subnormal half: normalise into a float normal.
    uint32_t e = 113;  // exponent of 2^-14 in float bias, decremented per shift
    while ((mant & 0x400u) == 0) {
      mant <<= 1;
      --e;
    }
    bits = sign | (e << 23) | ((mant & 0x3ffu) << 13);
  }
  return std::bit_cast<float>(bits);
}

inline uint16_t float_to_half(float f) {
  const uint32_t x = std::bit_cast<uint32_t>(f);
  const uint16_t sign = uint16_t((x >> 16) & 0x8000u);
  const uint32_t ax = x & 0x7fffffffu;
  if (ax >= 0x7f800000u) {  // inf or nan; keep nan quiet and non-zero
    return ax == 0x7f800000u ? uint16_t(sign | 0x7c00u)
                             : uint16_t(sign | 0x7e00u | ((ax >> 13) & 0x3ffu));
  }
  if (ax >= 0x477ff000u) return uint16_t(sign | 0x7c00u);  // rounds to >= 65520 -> inf
  if (ax >= 0x38800000u) {                                   // normal half range (>= 2^-14)
    // Add the rounding bias (half ulp - 1 + lsb for ties-to-even), then drop 13 bits.
    const uint32_t lsb = (ax >> 13) & 1u;
    const uint32_t r = ax + 0xfffu + lsb;
    return uint16_t(sign | ((r - 0x38000000u) >> 13));
  }
  if (ax < 0x33000000u) return sign;  // below half of the smallest subnormal (2^-25): zero
  // Subnormal half: value = mant * 2^-24. Shift the full 24-bit significand into place with RNE.
  const uint32_t e = ax >> 23;              // biased float exponent, 102..112
  const uint32_t m = (ax & 0x7fffffu) | 0x800000u;
  const uint32_t shift = 126u - e;          // 14..24
  const uint32_t q = m >> shift;
  const uint32_t rem = m & ((1u << shift) - 1u);
  const uint32_t halfway = 1u << (shift - 1u);
  uint32_t h = q;
  if (rem > halfway || (rem == halfway && (q & 1u))) ++h;  // may carry into the smallest normal: fine
  return uint16_t(sign | h);
}

inline float bf16_to_float(uint16_t b) { return std::bit_cast<float>(uint32_t(b) << 16); }

inline uint16_t float_to_bf16(float f) {
  const uint32_t x = std::bit_cast<uint32_t>(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) return uint16_t((x >> 16) | 0x40u);  // quiet nan
  const uint32_t lsb = (x >> 16) & 1u;
  return uint16_t((x + 0x7fffu + lsb) >> 16);  // overflow rounds to inf, as it should
}

}  // namespace vkf::io
