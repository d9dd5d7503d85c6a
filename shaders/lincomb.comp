#version 450
#extension GL_GOOGLE_include_directive : require
// out = c0*a0 + c1*a1 + c2*a2 + c3*a3 + bias over n elements (all same length; unused inputs have c=0).
// The fused per-step arithmetic of samplers and CFG is expressed with this. `first` = element offset of
// each binding's range (chunked dispatches over tensors larger than one binding; aligned-down offsets).
//! variant f16 -DDTYPE_F16
#include "types.glsl"
layout(local_size_x_id = 0) in;
layout(std430, binding = 0) readonly buffer A0 { STYPE a0[]; };
layout(std430, binding = 1) readonly buffer A1 { STYPE a1[]; };
layout(std430, binding = 2) readonly buffer A2 { STYPE a2[]; };
layout(std430, binding = 3) readonly buffer A3 { STYPE a3[]; };
layout(std430, binding = 4) writeonly buffer O { STYPE o[]; };
layout(push_constant) uniform P { uint n; uint count; float c0, c1, c2, c3, bias; uint f0, f1, f2, f3, fo; } p;

void main() {
  uint i = linear_id();
  if (i >= p.n) return;
  float v = p.bias + p.c0 * float(a0[p.f0 + i]);
  if (p.count > 1) v += p.c1 * float(a1[p.f1 + i]);
  if (p.count > 2) v += p.c2 * float(a2[p.f2 + i]);
  if (p.count > 3) v += p.c3 * float(a3[p.f3 + i]);
  o[p.fo + i] = STYPE(v);
}
