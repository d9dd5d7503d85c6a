#pragma once
// Bit-exact reproduction of PyTorch's CPU generator for ComfyUI's initial noise
// (comfy.sample.prepare_noise: torch.manual_seed(seed); torch.randn(shape, dtype=float32)).
//
// Algorithm (ATen, as of torch 1.13; checked bit for bit against torch_randn.safetensors):
//  * Engine: at::mt19937 seeded with the low 32 bits of the 64-bit seed (init_genrand: the standard
//    std::mt19937 sequence). random() = one 32-bit draw; random64() = (first << 32) | second.
//  * randn on a contiguous float32 tensor with numel >= 16 (normal_fill_AVX2, the kernel of every
//    AVX2-capable x86 CPU):
//      1. fill all n values with uniforms u = (random() & 0xFFFFFF) * 2^-24 (24 low bits);
//      2. for each full block of 16: for j < 8, u1 = 1 - d[j], u2 = d[j+8],
//         r = sqrt(-2 * log(u1)), theta = float(2*pi) * u2,
//         d[j] = r*cos(theta) * std + mean, d[j+8] = r*sin(theta) * std + mean;
//      3. if n % 16 != 0: redraw 16 fresh uniforms into the LAST 16 slots (overwriting values of the
//         previous step) and transform that block again.
//     log/sincos are avx_mathfun's Cephes polynomials (log256_ps, sincos256_ps) evaluated in float32
//     with the multiply-adds that GCC fuses into FMAs when building ATen with -mfma (reproduced here
//     with std::fma; plain mul+add differs in ~1% of values by 1 ulp).
//  * numel < 16: per element at::normal_distribution<double>: u1, u2 = (random64() & (2^53-1)) * 2^-53,
//    r = sqrt(-2 * log(1 - u2)), theta = 2*pi*u1; returns r*cos(theta) and caches r*sin(theta) in the
//    generator for the next element (the cache is cleared by manual_seed); value cast to float.
//    (Newer torch uses log1p(-u2) here; 1.13 and the golden data use log(1 - u2).)
#include <cstdint>
#include <random>
#include <vector>

namespace vkf::sampling {

class TorchGenerator {
 public:
  // torch.manual_seed(seed) / torch.Generator().manual_seed(seed).
  explicit TorchGenerator(uint64_t seed) { manual_seed(seed); }
  void manual_seed(uint64_t seed);

  uint32_t random() { return static_cast<uint32_t>(engine_()); }
  uint64_t random64();

  // torch.randn(shape, generator=this) for float32 (mean 0, std 1): fills n values.
  std::vector<float> randn(int64_t numel);
  // Same, shape given (numel = product; a negative dimension is an error).
  std::vector<float> randn(const std::vector<int64_t>& shape);

 private:
  std::mt19937 engine_;
  bool has_next_double_normal_ = false;
  double next_double_normal_ = 0.0;
};

// torch.manual_seed(seed); torch.randn(shape) (float32, CPU).
std::vector<float> torch_randn(uint64_t seed, const std::vector<int64_t>& shape);

}  // namespace vkf::sampling
