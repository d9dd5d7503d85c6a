// Portable accurate exp / sin / cos / erfc (~1-2 ulp; Cephes single-precision algorithms). Vulkan only
// promises 3+2|x| ulp for exp and nothing tight for sin/cos of large arguments, which is not enough for
// timestep embeddings (arguments up to ~1000) or exact-erf GELU checked at 1e-6.
#ifndef VKF_PMATH_GLSL
#define VKF_PMATH_GLSL

float exp_p(float x) {
  x = clamp(x, -87.0, 88.0);
  precise float k = floor(x * 1.44269504088896341 + 0.5);
  precise float r = (x - k * 0.693359375) - k * -2.12194440e-4;  // x - k*ln2, ln2 split exactly
  float p = 1.9875691500e-4;
  p = p * r + 1.3981999507e-3;
  p = p * r + 8.3334519073e-3;
  p = p * r + 4.1665795894e-2;
  p = p * r + 1.6666665459e-1;
  p = p * r + 5.0000001201e-1;
  return ldexp(p * r * r + r + 1.0, int(k));
}

// sin and cos of x for |x| < 8192 (three-part pi/4 reduction).
void sincos_p(float x, out float s, out float c) {
  float ax = abs(x);
  float j = floor(ax * 1.27323954473516);  // 4/pi
  if (mod(j, 2.0) == 1.0) j += 1.0;       // map zeros to the origin
  precise float y = ((ax - j * 0.78515625) - j * 2.4187564849853515625e-4) - j * 3.77489497744594108e-8;
  int q = int(j) & 7;
  float z = y * y;
  float sp = ((-1.9515295891e-4 * z + 8.3321608736e-3) * z - 1.6666654611e-1) * z * y + y;
  float cp = ((2.443315711809948e-5 * z - 1.388731625493765e-3) * z + 4.166664568298827e-2) * z * z - 0.5 * z + 1.0;
  bool swap = (q & 3) == 2;  // q in {2, 6}: sin uses the cos polynomial and vice versa
  float sv = swap ? cp : sp, cv = swap ? sp : cp;
  // sin: negative in octants 4..7 (after the even-j mapping q is 0,2,4,6); cos: negative for q in {2,4}.
  s = (q >= 4) != (x < 0.0) ? -sv : sv;
  c = (q == 2 || q == 4) ? -cv : cv;
}

// erfc(x) with fractional error < 1.2e-7 (Numerical Recipes erfcc, Chebyshev fit).
float erfc_p(float x) {
  float z = abs(x);
  float t = 1.0 / (1.0 + 0.5 * z);
  float p = 0.17087277;
  p = p * t - 0.82215223;
  p = p * t + 1.48851587;
  p = p * t - 1.13520398;
  p = p * t + 0.27886807;
  p = p * t - 0.18628806;
  p = p * t + 0.09678418;
  p = p * t + 0.37409196;
  p = p * t + 1.00002368;
  float r = t * exp_p(-z * z - 1.26551223 + t * p);
  return x >= 0.0 ? r : 2.0 - r;
}

float gelu_erf(float x) { return 0.5 * x * erfc_p(-0.70710678118654752 * x); }
float sigmoid_p(float x) { return 1.0 / (1.0 + exp_p(-x)); }

#endif
