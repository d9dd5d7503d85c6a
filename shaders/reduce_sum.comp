#version 450
// Pass 2 of ops::dot: o[0] = sum of x[0..n) (F32), one workgroup: each thread sums a strided run, then a
// shared-memory tree. n is the number of pass-1 partials (a few hundred at most).
layout(local_size_x_id = 0) in;
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) writeonly buffer O { float o[]; };
layout(push_constant) uniform P { uint n; } p;
shared float acc[256];

void main() {
  uint t = gl_LocalInvocationID.x;
  float s = 0.0;
  for (uint i = t; i < p.n; i += gl_WorkGroupSize.x) s += x[i];
  acc[t] = s;
  barrier();
  for (uint h = gl_WorkGroupSize.x / 2u; h > 0u; h >>= 1u) {
    if (t < h) acc[t] += acc[t + h];
    barrier();
  }
  if (t == 0u) o[0] = acc[0];
}
