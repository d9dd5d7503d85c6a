#include "engine/ops/matmul.h"

namespace vkf::ops {

std::vector<float> matmul_ref(const std::vector<float>& a, const std::vector<float>& b, const std::vector<float>& bias,
                              int64_t batch, int64_t M, int64_t N, int64_t K, bool trans_b, bool b_shared) {
  std::vector<float> c(size_t(batch * M * N));
  for (int64_t z = 0; z < batch; ++z) {
    const float* A = a.data() + z * M * K;
    const float* B = b.data() + (b_shared ? 0 : z * K * N);
    for (int64_t m = 0; m < M; ++m)
      for (int64_t n = 0; n < N; ++n) {
        double s = bias.empty() ? 0.0 : double(bias[size_t(n)]);
        for (int64_t k = 0; k < K; ++k) s += double(A[m * K + k]) * double(trans_b ? B[n * K + k] : B[k * N + n]);
        c[size_t((z * M + m) * N + n)] = float(s);
      }
  }
  return c;
}

}  // namespace vkf::ops
