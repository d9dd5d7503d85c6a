#include "engine/ops/unary.h"

#include <algorithm>
#include <cmath>

namespace vkf::ops {

const char* unary_op_name(UnaryOp op) {
  switch (op) {
    case UnaryOp::Scale: return "scale";
    case UnaryOp::SiLU: return "silu";
    case UnaryOp::GELU: return "gelu";
    case UnaryOp::QuickGELU: return "quick_gelu";
    case UnaryOp::Sigmoid: return "sigmoid";
    case UnaryOp::Clamp: return "clamp";
  }
  return "?";
}

namespace {
double sigm(double v) { return 1.0 / (1.0 + std::exp(-v)); }
double gelu_d(double v) { return 0.5 * v * std::erfc(-v / std::sqrt(2.0)); }
}  // namespace

float unary_ref(UnaryOp op, float x, float p0, float p1) {
  double v = x;
  switch (op) {
    case UnaryOp::Scale: return x * p0 + p1;
    case UnaryOp::SiLU: return float(v * sigm(v));
    case UnaryOp::GELU: return float(gelu_d(v));
    case UnaryOp::QuickGELU: return float(v * sigm(1.702 * v));
    case UnaryOp::Sigmoid: return float(sigm(v));
    case UnaryOp::Clamp: return std::min(std::max(x, p0), p1);
  }
  return x;
}

std::vector<float> unary_ref(UnaryOp op, const std::vector<float>& x, float p0, float p1) {
  std::vector<float> y(x.size());
  for (size_t i = 0; i < x.size(); ++i) y[i] = unary_ref(op, x[i], p0, p1);
  return y;
}

std::vector<float> geglu_ref(const std::vector<float>& x, int64_t n) {
  size_t rows = x.size() / size_t(2 * n);
  std::vector<float> y(rows * size_t(n));
  for (size_t r = 0; r < rows; ++r)
    for (size_t c = 0; c < size_t(n); ++c)
      y[r * size_t(n) + c] = float(double(x[r * 2 * size_t(n) + c]) * gelu_d(x[r * 2 * size_t(n) + size_t(n) + c]));
  return y;
}

}  // namespace vkf::ops
