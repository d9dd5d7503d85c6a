#include "engine/ops/binary.h"

#include <stdexcept>
#include <string>

namespace vkf::ops {

const char* binary_op_name(BinaryOp op) {
  switch (op) {
    case BinaryOp::Add: return "add";
    case BinaryOp::Sub: return "sub";
    case BinaryOp::Mul: return "mul";
    case BinaryOp::Div: return "div";
  }
  return "?";
}

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  size_t r = std::max(a.size(), b.size());
  Shape o(r);
  for (size_t i = 0; i < r; ++i) {
    int64_t da = i < r - a.size() ? 1 : a[i - (r - a.size())];
    int64_t db = i < r - b.size() ? 1 : b[i - (r - b.size())];
    if (da != db && da != 1 && db != 1)
      throw std::invalid_argument(std::string(op) + ": shapes " + shape_str(a) + " and " + shape_str(b) +
                                  " do not broadcast (axis " + std::to_string(i) + ")");
    o[i] = da == 1 ? db : da;
  }
  return o;
}

namespace {
// Row-major strides of `s` right-aligned to `out`, 0 on broadcast axes.
std::vector<int64_t> bstrides(const Shape& s, const Shape& out) {
  std::vector<int64_t> st(out.size(), 0);
  int64_t acc = 1;
  for (size_t k = 0; k < s.size(); ++k) {
    size_t i = s.size() - 1 - k, o = out.size() - 1 - k;
    st[o] = s[i] == 1 ? 0 : acc;
    acc *= s[i];
  }
  return st;
}
}  // namespace

std::vector<float> binary_ref(BinaryOp op, const std::vector<float>& a, const Shape& sa, const std::vector<float>& b,
                              const Shape& sb) {
  Shape out = broadcast_shapes(sa, sb, binary_op_name(op));
  auto ta = bstrides(sa, out), tb = bstrides(sb, out);
  int64_t n = shape_numel(out);
  std::vector<float> o(static_cast<size_t>(n));
  std::vector<int64_t> c(out.size(), 0);
  for (int64_t i = 0; i < n; ++i) {
    int64_t ia = 0, ib = 0;
    for (size_t d = 0; d < out.size(); ++d) ia += c[d] * ta[d], ib += c[d] * tb[d];
    float x = a[size_t(ia)], y = b[size_t(ib)];
    o[size_t(i)] = op == BinaryOp::Add ? x + y : op == BinaryOp::Sub ? x - y : op == BinaryOp::Mul ? x * y : x / y;
    for (size_t d = out.size(); d-- > 0;) {
      if (++c[d] < out[d]) break;
      c[d] = 0;
    }
  }
  return o;
}

}  // namespace vkf::ops
