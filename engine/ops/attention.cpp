// Attention layout helpers and the CPU reference (double softmax; the device kernel is attention_vk.cpp).
#include "engine/ops/attention.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace vkf::ops {

AttentionView attention_view(const Shape& s, int64_t heads, const char* what) {
  const std::string w = std::string("attention: ") + what + " ";
  if (heads < 1) throw std::invalid_argument("attention: heads must be >= 1, got " + std::to_string(heads));
  if (s.size() == 3) {
    if (s[2] % heads != 0)
      throw std::invalid_argument(w + shape_str(s) + ": last dim " + std::to_string(s[2]) + " is not divisible by " +
                                  std::to_string(heads) + " heads");
    int64_t d = s[2] / heads;
    return {s[0], heads, s[1], d, {s[1] * s[2], d, s[2]}};
  }
  if (s.size() == 4) {
    if (s[1] != heads)
      throw std::invalid_argument(w + shape_str(s) + ": [B, H, L, D] layout with H=" + std::to_string(s[1]) +
                                  " but heads=" + std::to_string(heads));
    return {s[0], s[1], s[2], s[3], {s[1] * s[2] * s[3], s[2] * s[3], s[3]}};
  }
  throw std::invalid_argument(w + shape_str(s) + ": expected [B, L, H*D] or [B, H, L, D]");
}

std::vector<float> attention_ref(const AttentionShape& sh, const std::vector<float>& q, const std::vector<float>& k,
                                 const std::vector<float>& v, float scale, bool causal) {
  const int64_t D = sh.dim;
  std::vector<float> out(size_t(sh.batch * sh.heads * sh.lq * D), 0.0f);
  std::vector<double> s(size_t(sh.lkv));
  for (int64_t b = 0; b < sh.batch; ++b)
    for (int64_t h = 0; h < sh.heads; ++h)
      for (int64_t i = 0; i < sh.lq; ++i) {
        const float* qi = &q[size_t(b * sh.q.b + h * sh.q.h + i * sh.q.l)];
        int64_t n = causal ? std::min(sh.lkv, i + 1) : sh.lkv;
        double mx = -INFINITY;
        for (int64_t j = 0; j < n; ++j) {
          const float* kj = &k[size_t(b * sh.k.b + h * sh.k.h + j * sh.k.l)];
          double dot = 0;
          for (int64_t d = 0; d < D; ++d) dot += double(qi[d]) * kj[d];
          s[size_t(j)] = dot * scale;
          mx = std::max(mx, s[size_t(j)]);
        }
        double sum = 0;
        for (int64_t j = 0; j < n; ++j) sum += (s[size_t(j)] = std::exp(s[size_t(j)] - mx));
        float* oi = &out[size_t(b * sh.o.b + h * sh.o.h + i * sh.o.l)];
        for (int64_t d = 0; d < D; ++d) {
          double acc = 0;
          for (int64_t j = 0; j < n; ++j) acc += s[size_t(j)] * v[size_t(b * sh.v.b + h * sh.v.h + j * sh.v.l + d)];
          oi[d] = float(acc / sum);
        }
      }
  return out;
}

}  // namespace vkf::ops
