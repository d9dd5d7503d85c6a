#version 450
#extension GL_GOOGLE_include_directive : require
// y = f(x) element-wise; f picked by the MODE spec constant (see ops::UnaryOp):
// 0 scale x*p0+p1, 1 SiLU, 2 exact-erf GELU, 3 quick_gelu x*sigmoid(1.702x), 4 sigmoid, 5 clamp(p0, p1).
//! variant f16 -DDTYPE_F16
#include "types.glsl"
#include "pmath.glsl"
layout(local_size_x_id = 0) in;
layout(constant_id = 3) const uint MODE = 0;
layout(std430, binding = 0) readonly buffer X { STYPE x[]; };
layout(std430, binding = 1) writeonly buffer Y { STYPE y[]; };
layout(push_constant) uniform P { uint n, first_x, first_y; float p0, p1; } p;

void main() {
  uint i = linear_id();
  if (i >= p.n) return;
  float v = float(x[p.first_x + i]);
  float r;
  if (MODE == 0) r = v * p.p0 + p.p1;
  else if (MODE == 1) r = v * sigmoid_p(v);
  else if (MODE == 2) r = gelu_erf(v);
  else if (MODE == 3) r = v * sigmoid_p(1.702 * v);
  else if (MODE == 4) r = sigmoid_p(v);
  else r = min(max(v, p.p0), p.p1);
  y[p.first_y + i] = STYPE(r);
}
