#version 450
// The ops probe's SPIR-V kernel (compiled at build time into a C array, as a plugin would ship SPIR-V):
// o[i] = alpha * a[i] - b[i] over n elements, 32 threads per workgroup.
layout(local_size_x = 32) in;
layout(std430, set = 0, binding = 0) readonly buffer A { float a[]; };
layout(std430, set = 0, binding = 1) readonly buffer B { float b[]; };
layout(std430, set = 0, binding = 2) writeonly buffer O { float o[]; };
layout(push_constant) uniform P { uint n; float alpha; };
void main() {
  uint i = gl_GlobalInvocationID.x;
  if (i < n) o[i] = alpha * a[i] - b[i];
}
