#version 450
#extension GL_GOOGLE_include_directive : require
// FMA-only ceiling for `vkflow bench ops`: every invocation runs 12 independent FMA chains in registers
// (enough to cover FMA latency on CPUs and GPUs), no memory traffic in the loop. FLOPs = 2*12*8*iters per
// invocation. The result is written so the chains are not dead code.
#include "types.glsl"
layout(local_size_x_id = 0) in;
layout(std430, binding = 0) writeonly buffer O { float o[]; };
layout(push_constant) uniform P { uint iters; float mul; float add; } p;

void main() {
  uint i = gl_GlobalInvocationID.x;
  vec4 a0 = vec4(float(i & 7u) * 1e-3), a1 = a0 + 0.1, a2 = a0 + 0.2;
  for (uint it = 0; it < p.iters; ++it) {
    for (int u = 0; u < 8; ++u) {  // unrolled: amortises the loop bookkeeping
      a0 = fma(a0, vec4(p.mul), vec4(p.add));
      a1 = fma(a1, vec4(p.mul), vec4(p.add));
      a2 = fma(a2, vec4(p.mul), vec4(p.add));
    }
  }
  vec4 s = a0 + a1 + a2;
  o[i] = s.x + s.y + s.z + s.w;
}
