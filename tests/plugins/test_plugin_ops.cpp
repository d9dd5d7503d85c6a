// Every op of "vkflow.tensor_ops/1" and a "vkflow.kernels/1" dispatch, exercised through the C tables as a
// plugin sees them (the ops_probe test plugin fetches them with get_capability and hands its sample call
// to the probe below), against plain CPU references on random data and odd shapes (numel 1, 15, 364,
// 1938, 16640: none a multiple of the 64/256-thread workgroups).
//
// Tolerances (fp32 on the GPU; the CPU reference in double from the same float inputs):
//   write/read, copy, fill, clamp, mul: exact (moves, and one correctly rounded op; Vulkan requires x*y to
//     be correctly rounded, so the product equals the CPU's float product).
//   scale, axpy, lincomb of N terms: |err| <= (N + 1) * FLT_EPSILON * (sum_k |c_k x_k| + |bias|): each product
//     and sum rounds once (<= FLT_EPSILON/2 relative of the running magnitude), the shader may fuse to fma.
//   div, sqrt: 3 ulp (Vulkan allows 2.5 ulp for division; sqrt is specified as 1/inversesqrt, 2 ulp + the
//     reciprocal's rounding).
//   dot, norm: |err| <= 32 * 2^-24 * sum_i |a_i b_i|: fp32 accumulation of depth <= 1 + 8 (thread run + 256-
//     thread tree) + 2 + 8 (pass 2) at these sizes, each level <= 2^-24 of the magnitude summed so far.
//   kernel out = alpha*a + b*b: 2 * FLT_EPSILON * (|alpha a| + b^2) (two products and a sum, maybe fused).
#include <catch2/catch.hpp>


#include <cfloat>
#include <cmath>
#include <functional>

#include "engine/ops/chunk.h"
#include "engine/plugin/plugin_host.h"
#include "engine/sampling/analytic_denoiser.h"
#include "engine/sampling/sampler.h"
#include "tests/plugins/plugin_paths.h"
#include "tests/plugins/plugin_probe.h"
#include "tests/support/gpu.h"
#include "vkflow_plugin.h"

using namespace vkf;
using namespace vkf::sampling;
using vkf::test::Probe;
using vkf::test::with_probe;

namespace {

float ulp(float v) {
  const float a = std::fabs(v);
  return std::nextafter(a, INFINITY) - a;
}

// Number of elements where |got - ref| > tol(i); the worst one is reported.
template <class Ref, class Tol>
size_t count_bad(const char* what, const std::vector<float>& got, Ref ref, Tol tol) {
  size_t bad = 0, worst = 0;
  double worst_r = -1;
  for (size_t i = 0; i < got.size(); ++i) {
    const double e = std::fabs(double(got[i]) - double(ref(i))), t = tol(i);
    if (!(e <= t)) {
      ++bad;
      if (e / (t > 0 ? t : 1e-300) > worst_r) worst_r = e / (t > 0 ? t : 1e-300), worst = i;
    }
  }
  if (bad) UNSCOPED_INFO(what << ": " << bad << " of " << got.size() << " elements off, worst at " << worst
                              << ": got " << got[worst] << ", reference " << double(ref(worst)) << ", tolerance "
                              << tol(worst));
  return bad;
}

const std::vector<Shape> kShapes = {{1, 4, 7, 13}, {3, 1, 1, 5}, {2, 3, 17, 19}, {1, 1, 1, 1}, {1, 4, 64, 65}};

}  // namespace

TEST_CASE("plugin tensor ops: alloc, shape, dtype, write/read, copy, fill, mul, clamp are exact", "[plugins][ops]") {
  uint32_t seed = 10;
  for (const Shape& shape : kShapes) {
    INFO("shape " << shape_str(shape));
    with_probe(shape, [&](Probe& p) {
      const auto a = test::random_floats(p.n, ++seed), b = test::random_floats(p.n, ++seed, -3.0f, 3.0f);
      vkflow_tensor_t ta = p.up(a), tb = p.up(b), d = p.fresh();
      int64_t dims[VKFLOW_MAX_DIMS] = {};
      uint32_t rank = 0;
      CHECK(p.ops->shape(p.run, d, dims, &rank) == VKFLOW_OK);
      CHECK(Shape(dims, dims + rank) == shape);
      CHECK(p.ops->dtype(p.run, d) == VKFLOW_DTYPE_F32);
      CHECK(p.down(ta) == a);  // write/read round trip
      CHECK(p.ops->copy(p.run, d, ta) == VKFLOW_OK);
      CHECK(p.down(d) == a);
      CHECK(p.ops->fill(p.run, d, 0.1) == VKFLOW_OK);
      CHECK(p.down(d) == std::vector<float>(p.n, 0.1f));
      CHECK(p.down(ta) == a);  // copy made d independent of a
      CHECK(p.ops->mul(p.run, d, ta, tb) == VKFLOW_OK);
      CHECK(count_bad("mul", p.down(d), [&](size_t i) { return a[i] * b[i]; }, [](size_t) { return 0.0; }) == 0);
      CHECK(p.ops->clamp(p.run, d, tb, -0.3, 0.4) == VKFLOW_OK);
      CHECK(count_bad("clamp", p.down(d), [&](size_t i) { return std::min(std::max(b[i], -0.3f), 0.4f); },
                      [](size_t) { return 0.0; }) == 0);
      CHECK(p.ops->mul(p.run, ta, ta, ta) == VKFLOW_OK);  // dst aliases both inputs
      CHECK(count_bad("mul in place", p.down(ta), [&](size_t i) { return a[i] * a[i]; }, [](size_t) { return 0.0; }) == 0);
      for (auto t : {ta, tb, d}) p.ops->release(p.run, t);
    });
  }
}

TEST_CASE("plugin tensor ops: scale, axpy and lincomb of 1..8 terms match the CPU", "[plugins][ops]") {
  uint32_t seed = 100;
  for (const Shape& shape : kShapes) {
    INFO("shape " << shape_str(shape));
    with_probe(shape, [&](Probe& p) {
      std::vector<std::vector<float>> v;
      std::vector<vkflow_tensor_t> t;
      for (int k = 0; k < VKFLOW_LINCOMB_MAX_TERMS; ++k) {
        v.push_back(test::random_floats(p.n, ++seed, -2.0f, 2.0f));
        t.push_back(p.up(v.back()));
      }
      const double eps = FLT_EPSILON;
      vkflow_tensor_t d = p.fresh();
      const float s = float(-1.7);
      CHECK(p.ops->scale(p.run, d, t[0], -1.7) == VKFLOW_OK);
      CHECK(count_bad("scale", p.down(d), [&](size_t i) { return double(s) * v[0][i]; },
                      [&](size_t i) { return 2 * eps * std::fabs(double(s) * v[0][i]); }) == 0);
      const float a = float(0.37);
      CHECK(p.ops->axpy(p.run, t[1], 0.37, t[2]) == VKFLOW_OK);
      CHECK(count_bad("axpy", p.down(t[1]), [&](size_t i) { return double(v[1][i]) + double(a) * v[2][i]; },
                      [&](size_t i) { return 3 * eps * (std::fabs(v[1][i]) + std::fabs(double(a) * v[2][i])); }) == 0);
      CHECK(p.ops->copy(p.run, t[1], t[0]) == VKFLOW_OK);  // t[1] back to a known value
      v[1] = v[0];
      for (uint32_t count = 1; count <= VKFLOW_LINCOMB_MAX_TERMS; ++count) {
        INFO("terms " << count);
        const auto cf = test::random_floats(count, ++seed, -2.0f, 2.0f);
        std::vector<double> c(cf.begin(), cf.end());
        c[0] += 1e-3;  // not exactly a float: the host rounds it once
        if (count >= 3) c[1] = 0.0;  // a skipped term
        const double bias = 0.25;
        CHECK(p.ops->lincomb(p.run, d, count, c.data(), t.data(), bias) == VKFLOW_OK);
        auto ref = [&](size_t i) {
          double r = bias;
          for (uint32_t k = 0; k < count; ++k) r += double(float(c[k])) * v[k][i];
          return r;
        };
        auto tol = [&](size_t i) {
          double m = std::fabs(bias);
          for (uint32_t k = 0; k < count; ++k) m += std::fabs(double(float(c[k])) * v[k][i]);
          return (count + 1) * eps * m;
        };
        CHECK(count_bad("lincomb", p.down(d), ref, tol) == 0);
      }
      // dst = terms[0]: the result replaces an input it was computed from
      const double c5[5] = {0.5, -1.25, 2.0, 0.125, -0.75};
      const auto old0 = v[0];
      CHECK(p.ops->lincomb(p.run, t[0], 5, c5, t.data(), 0.0) == VKFLOW_OK);
      CHECK(count_bad("lincomb in place", p.down(t[0]),
                      [&](size_t i) {
                        double r = c5[0] * old0[i];
                        for (int k = 1; k < 5; ++k) r += c5[k] * v[k][i];
                        return r;
                      },
                      [&](size_t i) {
                        double m = std::fabs(c5[0] * old0[i]);
                        for (int k = 1; k < 5; ++k) m += std::fabs(c5[k] * v[k][i]);
                        return 6 * eps * m;
                      }) == 0);
      for (auto x : t) p.ops->release(p.run, x);
      p.ops->release(p.run, d);
    });
  }
}

TEST_CASE("plugin tensor ops: div and sqrt within 3 ulp", "[plugins][ops]") {
  uint32_t seed = 200;
  for (const Shape& shape : kShapes) {
    INFO("shape " << shape_str(shape));
    with_probe(shape, [&](Probe& p) {
      const auto a = test::random_floats(p.n, ++seed, -4.0f, 4.0f);
      auto b = test::random_floats(p.n, ++seed, 0.25f, 2.0f);
      for (size_t i = 0; i < b.size(); i += 2) b[i] = -b[i];
      auto pos = test::random_floats(p.n, ++seed, 0.0f, 9.0f);
      vkflow_tensor_t ta = p.up(a), tb = p.up(b), tp = p.up(pos), d = p.fresh();
      CHECK(p.ops->div(p.run, d, ta, tb) == VKFLOW_OK);
      CHECK(count_bad("div", p.down(d), [&](size_t i) { return double(a[i]) / b[i]; },
                      [&](size_t i) { return 3.0 * ulp(a[i] / b[i]); }) == 0);
      CHECK(p.ops->sqrt(p.run, d, tp) == VKFLOW_OK);
      CHECK(count_bad("sqrt", p.down(d), [&](size_t i) { return std::sqrt(double(pos[i])); },
                      [&](size_t i) { return 3.0 * ulp(std::sqrt(pos[i])); }) == 0);
      for (auto t : {ta, tb, tp, d}) p.ops->release(p.run, t);
    });
  }
}

TEST_CASE("plugin tensor ops: dot and norm reduce on the GPU to the CPU's sums", "[plugins][ops]") {
  uint32_t seed = 300;
  for (const Shape& shape : kShapes) {
    for (uint64_t cap : {uint64_t(0), uint64_t(1024)}) {  // 1024 bytes: 16640 floats split into 66 chunks
      INFO("shape " << shape_str(shape) << ", binding cap " << cap);
      with_probe(shape, [&](Probe& p) {
        ops::set_binding_limit_cap(cap);  // this thread only: the plugin calls back on it
        const auto a = test::random_floats(p.n, ++seed), b = test::random_floats(p.n, ++seed, -3.0f, 3.0f);
        vkflow_tensor_t ta = p.up(a), tb = p.up(b);
        double ref = 0, mag = 0, sq = 0;
        for (size_t i = 0; i < p.n; ++i) {
          ref += double(a[i]) * b[i];
          mag += std::fabs(double(a[i]) * b[i]);
          sq += double(a[i]) * a[i];
        }
        const double tol = 32 * std::ldexp(1.0, -24);
        double got = NAN, nrm = NAN;
        CHECK(p.ops->dot(p.run, ta, tb, &got) == VKFLOW_OK);
        CHECK(std::fabs(got - ref) <= tol * mag);
        CHECK(p.ops->norm(p.run, ta, &nrm) == VKFLOW_OK);
        CHECK(std::fabs(nrm - std::sqrt(sq)) <= tol * std::sqrt(sq));
        // the reductions are recorded after pending work: an axpy just before is included
        CHECK(p.ops->axpy(p.run, ta, 2.0, tb) == VKFLOW_OK);
        double after = NAN, ref2 = 0, mag2 = 0;
        for (size_t i = 0; i < p.n; ++i) {
          const double ai = double(float(double(a[i]) + 2.0 * b[i]));
          ref2 += ai * b[i];
          mag2 += std::fabs(ai * b[i]);
        }
        CHECK(p.ops->dot(p.run, ta, tb, &after) == VKFLOW_OK);
        CHECK(std::fabs(after - ref2) <= tol * mag2 + 4 * FLT_EPSILON * mag2);  // + the axpy's own rounding
        ops::set_binding_limit_cap(0);
        p.ops->release(p.run, ta);
        p.ops->release(p.run, tb);
      });
    }
  }
}

TEST_CASE("plugin kernel dispatch on odd sizes matches the CPU", "[plugins][ops]") {
  uint32_t seed = 400;
  for (const Shape& shape : kShapes) {
    INFO("shape " << shape_str(shape));
    with_probe(shape, [&](Probe& p) {
      const auto a = test::random_floats(p.n, ++seed), b = test::random_floats(p.n, ++seed);
      vkflow_tensor_t t[3] = {p.up(a), p.up(b), p.up(std::vector<float>(p.n, NAN))};
      struct {
        uint32_t n;
        float alpha;
      } push{uint32_t(p.n), -0.625f};
      const uint32_t groups = uint32_t((p.n + 63) / 64);
      CHECK(p.kt->dispatch(p.run, p.kernel, t, 3, 4u, &push, sizeof push, groups, 1, 1) == VKFLOW_OK);
      CHECK(count_bad("kernel", p.down(t[2]), [&](size_t i) { return double(push.alpha) * a[i] + double(b[i]) * b[i]; },
                      [&](size_t i) { return 2 * FLT_EPSILON * (std::fabs(push.alpha * a[i]) + b[i] * b[i]); }) == 0);
      CHECK(p.down(t[0]) == a);  // read-only bindings untouched
      for (auto x : t) p.ops->release(p.run, x);
    });
  }
}

TEST_CASE("plugin tensor ops refuse bad arguments with VKFLOW_INVALID_ARGUMENT", "[plugins][ops]") {
  with_probe({1, 4, 7, 13}, [&](Probe& p) {
    vkflow_tensor_t a = p.fresh(), gone = p.fresh();
    p.ops->release(p.run, gone);
    double s = 0;
    const double c[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    const vkflow_tensor_t terms[9] = {a, a, a, a, a, a, a, a, a};
    std::vector<float> buf(p.n + 1);
    CHECK(p.ops->copy(p.run, a, gone) == VKFLOW_INVALID_ARGUMENT);
    CHECK(p.ops->dtype(p.run, gone) == -1);
    CHECK(p.ops->dot(p.run, a, gone, &s) == VKFLOW_INVALID_ARGUMENT);
    CHECK(p.ops->norm(p.run, a, nullptr) == VKFLOW_INVALID_ARGUMENT);
    CHECK(p.ops->lincomb(p.run, a, 0, c, terms, 0.0) == VKFLOW_INVALID_ARGUMENT);
    CHECK(p.ops->lincomb(p.run, a, 9, c, terms, 0.0) == VKFLOW_INVALID_ARGUMENT);
    CHECK(p.ops->read(p.run, a, buf.data(), int64_t(p.n + 1)) == VKFLOW_INVALID_ARGUMENT);
    CHECK(p.ops->clamp(p.run, a, a, 1.0, -1.0) == VKFLOW_INVALID_ARGUMENT);
    const uint32_t push[2] = {0, 0};
    CHECK(p.kt->dispatch(p.run, p.kernel, terms, 2, 0, push, 8, 1, 1, 1) == VKFLOW_INVALID_ARGUMENT);
    CHECK(p.kt->dispatch(p.run, p.kernel, terms, 3, 0, push, 4, 1, 1, 1) == VKFLOW_INVALID_ARGUMENT);
    p.ops->release(p.run, a);
  });
}
