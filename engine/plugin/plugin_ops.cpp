// "vkflow.tensor_ops/1" and "vkflow.kernels/1" (dispatch side): GPU tensor arithmetic on plugin handles,
// recorded into the run's recorder. Every op yields a new tensor that the destination handle is re-pointed
// at, so a destination that aliases an input is always safe. lincomb chains the built-ins' fused op in
// the same grouping as detail::Run::lin (first 4 terms, then the accumulator + 3), so a plugin that
// forms the same combination as a built-in gets bit-equal results.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "engine/ops/binary.h"
#include "engine/ops/lincomb.h"
#include "engine/ops/reduce.h"
#include "engine/ops/unary.h"
#include "engine/plugin/plugin_internal.h"

namespace vkf::plugin {
namespace {

vk::Recorder& rec_of(vkflow_run_t* r) { return r->run.rec(); }

Tensor like(vkflow_run_t* r, const Tensor& t) { return empty(rec_of(r).context(), t.shape(), t.dtype()); }

void same_shape(const Tensor& a, const Tensor& b, const char* what) {
  if (a.shape() != b.shape()) throw BadArgument(std::string(what) + ": shapes " + shape_str(a.shape()) + " and " + shape_str(b.shape()) + " differ");
}
void f32(const Tensor& t, const char* what) {
  if (t.dtype() != DType::F32) throw Unsupported(std::string(what) + ": only F32 tensors");
}
float to_f(double v, const char* what) {
  if (!std::isfinite(v)) throw BadArgument(std::string(what) + ": coefficient " + std::to_string(v) + " is not finite");
  return float(v);
}

// Run::lin's grouping over (already nonzero) terms into a fresh tensor.
Tensor lin_chain(vkflow_run_t* r, const std::vector<ops::Term>& t, float bias, const Tensor& shape_of) {
  Tensor out = like(r, shape_of);
  auto rec4 = [&](size_t b, size_t e, bool acc, float b_) {
    ops::Term a[4];
    size_t k = 0;
    if (acc) a[k++] = {1.0f, &out};
    for (size_t i = b; i < e; ++i) a[k++] = t[i];
    switch (k) {
      case 1: ops::lincomb(rec_of(r), out, {a[0]}, b_); break;
      case 2: ops::lincomb(rec_of(r), out, {a[0], a[1]}, b_); break;
      case 3: ops::lincomb(rec_of(r), out, {a[0], a[1], a[2]}, b_); break;
      default: ops::lincomb(rec_of(r), out, {a[0], a[1], a[2], a[3]}, b_); break;
    }
  };
  size_t done = std::min<size_t>(4, t.size());
  rec4(0, done, false, bias);
  while (done < t.size()) {
    const size_t e = std::min(t.size(), done + 3);
    rec4(done, e, true, 0.0f);
    done = e;
  }
  return out;
}

vkflow_result_t t_alloc_like(vkflow_run_t* r, vkflow_tensor_t l, vkflow_tensor_t* out) {
  return guarded(r, "alloc_like", [&] {
    if (!out) throw BadArgument("out is NULL");
    *out = put_tensor(r, like(r, get_tensor(r, l, "like")));
    return VKFLOW_OK;
  });
}
void t_release(vkflow_run_t* r, vkflow_tensor_t t) {
  if (r && t) on_host(r, 0, [&] { return int(r->handles.erase(reinterpret_cast<uintptr_t>(t))); });
}
vkflow_result_t t_shape(vkflow_run_t* r, vkflow_tensor_t t, int64_t* dims, uint32_t* rank) {
  if (!r) return VKFLOW_INVALID_ARGUMENT;
  return on_host(r, vkflow_result_t(VKFLOW_CANCELLED), [&]() -> vkflow_result_t {
    try {  // a query: answered after a cancel too
      const Tensor& x = get_tensor(r, t, "t");
      if (!dims || !rank) throw BadArgument("dims/rank is NULL");
      *rank = uint32_t(x.rank());
      for (int i = 0; i < x.rank(); ++i) dims[i] = x.dim(i);
      return VKFLOW_OK;
    } catch (const std::exception& e) {
      r->last_error = std::string("shape: ") + e.what();
      return VKFLOW_INVALID_ARGUMENT;
    }
  });
}
int32_t t_dtype(vkflow_run_t* r, vkflow_tensor_t t) {
  if (!r) return -1;
  return on_host(r, int32_t(-1), [&]() -> int32_t {
    auto it = r->handles.find(reinterpret_cast<uintptr_t>(t));
    if (it == r->handles.end()) return -1;
    return it->second.dtype() == DType::F32 ? VKFLOW_DTYPE_F32 : it->second.dtype() == DType::F16 ? VKFLOW_DTYPE_F16 : -1;
  });
}
vkflow_result_t t_copy(vkflow_run_t* r, vkflow_tensor_t dst, vkflow_tensor_t src) {
  return guarded(r, "copy", [&] {
    const Tensor& s = get_tensor(r, src, "src");
    same_shape(get_tensor(r, dst, "dst"), s, "copy");
    Tensor o = like(r, s);
    rec_of(r).copy({&s.buffer(), s.offset(), s.bytes(), false}, {&o.buffer(), o.offset(), o.bytes(), true});
    set_tensor(r, dst, std::move(o));
    return VKFLOW_OK;
  });
}
vkflow_result_t t_fill(vkflow_run_t* r, vkflow_tensor_t dst, double value) {
  return guarded(r, "fill", [&] {
    const Tensor& d = get_tensor(r, dst, "dst");
    f32(d, "fill");
    Tensor o = like(r, d);
    const float v = float(value);
    uint32_t bits;
    std::memcpy(&bits, &v, 4);
    rec_of(r).fill({&o.buffer(), o.offset(), o.bytes(), true}, bits);
    set_tensor(r, dst, std::move(o));
    return VKFLOW_OK;
  });
}
vkflow_result_t t_lincomb(vkflow_run_t* r, vkflow_tensor_t dst, uint32_t count, const double* coeffs,
                          const vkflow_tensor_t* terms, double bias) {
  return guarded(r, "lincomb", [&] {
    if (count < 1 || count > VKFLOW_LINCOMB_MAX_TERMS || !coeffs || !terms)
      throw BadArgument("needs 1.." + std::to_string(VKFLOW_LINCOMB_MAX_TERMS) + " terms, got " + std::to_string(count));
    const Tensor& d = get_tensor(r, dst, "dst");
    f32(d, "lincomb");
    std::vector<ops::Term> t;
    for (uint32_t k = 0; k < count; ++k) {
      const Tensor& x = get_tensor(r, terms[k], "terms[k]");
      same_shape(d, x, "lincomb");
      const float c = to_f(coeffs[k], "lincomb");
      if (c != 0.0f) t.push_back({c, &x});
    }
    if (t.empty()) t.push_back({0.0f, &get_tensor(r, terms[0], "terms[0]")});
    set_tensor(r, dst, lin_chain(r, t, to_f(bias, "lincomb bias"), d));
    return VKFLOW_OK;
  });
}
vkflow_result_t t_scale(vkflow_run_t* r, vkflow_tensor_t dst, vkflow_tensor_t src, double a) {
  vkflow_tensor_t terms[1] = {src};
  return t_lincomb(r, dst, 1, &a, terms, 0.0);
}
vkflow_result_t t_axpy(vkflow_run_t* r, vkflow_tensor_t y, double a, vkflow_tensor_t x) {
  const double c[2] = {1.0, a};
  vkflow_tensor_t terms[2] = {y, x};
  return t_lincomb(r, y, 2, c, terms, 0.0);
}
vkflow_result_t t_binary(vkflow_run_t* r, const char* fn, ops::BinaryOp op, vkflow_tensor_t dst, vkflow_tensor_t a,
                         vkflow_tensor_t b) {
  return guarded(r, fn, [&] {
    const Tensor &ta = get_tensor(r, a, "a"), &tb = get_tensor(r, b, "b");
    same_shape(ta, tb, fn);
    same_shape(get_tensor(r, dst, "dst"), ta, fn);
    set_tensor(r, dst, ops::binary(rec_of(r), op, ta, tb));
    return VKFLOW_OK;
  });
}
vkflow_result_t t_mul(vkflow_run_t* r, vkflow_tensor_t d, vkflow_tensor_t a, vkflow_tensor_t b) {
  return t_binary(r, "mul", ops::BinaryOp::Mul, d, a, b);
}
vkflow_result_t t_div(vkflow_run_t* r, vkflow_tensor_t d, vkflow_tensor_t a, vkflow_tensor_t b) {
  return t_binary(r, "div", ops::BinaryOp::Div, d, a, b);
}
vkflow_result_t t_sqrt(vkflow_run_t* r, vkflow_tensor_t dst, vkflow_tensor_t a) {
  return guarded(r, "sqrt", [&] {
    const Tensor& ta = get_tensor(r, a, "a");
    f32(ta, "sqrt");
    same_shape(get_tensor(r, dst, "dst"), ta, "sqrt");
    Tensor o = like(r, ta);
    record_sqrt(rec_of(r), ta, o);
    set_tensor(r, dst, std::move(o));
    return VKFLOW_OK;
  });
}
vkflow_result_t t_clamp(vkflow_run_t* r, vkflow_tensor_t dst, vkflow_tensor_t a, double lo, double hi) {
  return guarded(r, "clamp", [&] {
    const Tensor& ta = get_tensor(r, a, "a");
    same_shape(get_tensor(r, dst, "dst"), ta, "clamp");
    if (std::isnan(lo) || std::isnan(hi) || lo > hi) throw BadArgument("needs lo <= hi");
    set_tensor(r, dst, ops::clamp(rec_of(r), ta, float(lo), float(hi)));
    return VKFLOW_OK;
  });
}
// Reductions run on the GPU (ops::dot, recorded after the plugin's earlier ops); one submit per call and
// only the 4-byte scalar comes back.
double gpu_dot(vkflow_run_t* r, const Tensor& a, const Tensor& b) {
  const Tensor s = ops::dot(rec_of(r), a, b);
  rec_of(r).submit();
  return double(to_host(rec_of(r).context(), s)[0]);
}
std::vector<float> host_copy(vkflow_run_t* r, const Tensor& t) {
  rec_of(r).submit();
  return to_host(rec_of(r).context(), t);
}
vkflow_result_t t_dot(vkflow_run_t* r, vkflow_tensor_t a, vkflow_tensor_t b, double* out) {
  return guarded(r, "dot", [&] {
    if (!out) throw BadArgument("out is NULL");
    const Tensor &ta = get_tensor(r, a, "a"), &tb = get_tensor(r, b, "b");
    same_shape(ta, tb, "dot");
    if (ta.dtype() != tb.dtype()) throw Unsupported("dot: dtypes differ");
    *out = gpu_dot(r, ta, tb);
    return VKFLOW_OK;
  });
}
vkflow_result_t t_norm(vkflow_run_t* r, vkflow_tensor_t a, double* out) {
  return guarded(r, "norm", [&] {
    if (!out) throw BadArgument("out is NULL");
    const Tensor& ta = get_tensor(r, a, "a");
    *out = std::sqrt(std::max(0.0, gpu_dot(r, ta, ta)));
    return VKFLOW_OK;
  });
}
vkflow_result_t t_read(vkflow_run_t* r, vkflow_tensor_t t, float* dst, int64_t count) {
  return guarded(r, "read", [&] {
    const Tensor& x = get_tensor(r, t, "t");
    if (!dst || count != x.numel()) throw BadArgument("count " + std::to_string(count) + " != numel " + std::to_string(x.numel()));
    const auto v = host_copy(r, x);
    std::memcpy(dst, v.data(), v.size() * sizeof(float));
    return VKFLOW_OK;
  });
}
vkflow_result_t t_write(vkflow_run_t* r, vkflow_tensor_t t, const float* src, int64_t count) {
  return guarded(r, "write", [&] {
    const Tensor& x = get_tensor(r, t, "t");
    if (!src || count != x.numel()) throw BadArgument("count " + std::to_string(count) + " != numel " + std::to_string(x.numel()));
    // from_host never shares memory with unsubmitted work, so no submit is needed
    set_tensor(r, t, from_host(rec_of(r).context(), x.shape(), std::span<const float>(src, size_t(count)), x.dtype()));
    return VKFLOW_OK;
  });
}

const vkflow_tensor_ops_t kOps = {sizeof(vkflow_tensor_ops_t), t_alloc_like, t_release, t_shape, t_dtype, t_copy,
                                  t_fill, t_scale, t_axpy, t_lincomb, t_mul, t_div, t_sqrt, t_clamp, t_dot, t_norm,
                                  t_read, t_write};

}  // namespace

const vkflow_tensor_ops_t* tensor_ops() { return &kOps; }

}  // namespace vkf::plugin
