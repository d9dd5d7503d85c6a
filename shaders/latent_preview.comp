#version 450
#extension GL_GOOGLE_include_directive : require
// Latent -> RGB preview (ComfyUI's Latent2RGBPreviewer): per pixel rgb = factors^T . latent + bias, then
// ((rgb + 1) / 2) clamped to [0,1] and packed as RGBA8 (R in the low byte, A = 255). One latent image of
// C planes of HW pixels, from its binding's start + first_x; factors holds C rows of (r,g,b) then the bias.
layout(local_size_x_id = 0) in;
#include "types.glsl"
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer F { float f[]; };
layout(std430, binding = 2) writeonly buffer O { uint o[]; };
layout(push_constant) uniform P { uint C, HW, first_x; } p;

void main() {
  uint i = linear_id();
  if (i >= p.HW) return;
  vec3 rgb = vec3(f[3u * p.C], f[3u * p.C + 1u], f[3u * p.C + 2u]);
  for (uint c = 0u; c < p.C; ++c) rgb += x[p.first_x + c * p.HW + i] * vec3(f[3u * c], f[3u * c + 1u], f[3u * c + 2u]);
  uvec3 v = uvec3(clamp((rgb + 1.0) * 0.5, 0.0, 1.0) * 255.0);
  o[i] = v.r | (v.g << 8) | (v.b << 16) | (255u << 24);
}
