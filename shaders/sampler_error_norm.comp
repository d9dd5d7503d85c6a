#version 450
#extension GL_GOOGLE_include_directive : require
// dpm_adaptive's error estimate: o[0] = sum_i ((lo_i - hi_i) / max(atol, rtol * max(|lo_i|, |prev_i|)))^2
// over n elements (F32). One workgroup: the sampler reads back one scalar per step and latents are small.
// `f*` = element offset of each binding's range (offsets are aligned down when bound).
#include "types.glsl"
layout(local_size_x_id = 0) in;
layout(std430, binding = 0) readonly buffer L { float lo[]; };
layout(std430, binding = 1) readonly buffer H { float hi[]; };
layout(std430, binding = 2) readonly buffer P { float prev[]; };
layout(std430, binding = 3) writeonly buffer O { float o[]; };
layout(push_constant) uniform Push { uint n; float atol, rtol; uint f0, f1, f2; } p;
shared float part[256];

void main() {
  uint t = gl_LocalInvocationID.x;
  float acc = 0.0;
  for (uint i = t; i < p.n; i += gl_WorkGroupSize.x) {
    float l = lo[p.f0 + i];
    float d = max(p.atol, p.rtol * max(abs(l), abs(prev[p.f2 + i])));
    float e = (l - hi[p.f1 + i]) / d;
    acc += e * e;
  }
  part[t] = acc;
  barrier();
  for (uint s = gl_WorkGroupSize.x / 2u; s > 0u; s >>= 1u) {
    if (t < s) part[t] += part[t + s];
    barrier();
  }
  if (t == 0u) o[0] = part[0];
}
