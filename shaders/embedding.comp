#version 450
#extension GL_GOOGLE_include_directive : require
// out[t, d] = table[id_t, d], ids clamped to [0, vocab). The table may be bound in row chunks
// [v0, v0 + vcount) (one dispatch each); a dispatch writes only the tokens whose id falls in its chunk.
//! variant f16 -DDTYPE_F16
#include "bits.glsl"
layout(local_size_x_id = 0) in;
layout(std430, binding = 0) readonly buffer I { int ids[]; };
layout(std430, binding = 1) readonly buffer T { CTYPE table[]; };
layout(std430, binding = 2) writeonly buffer O { CTYPE dst[]; };
layout(push_constant) uniform P { uint n, dim, vocab, v0, vcount, first_ids, first_table, first_dst; } p;

void main() {
  uint i = linear_id();
  if (i >= p.n) return;
  uint tok = i / p.dim, d = i - tok * p.dim;
  uint id = uint(clamp(ids[p.first_ids + tok], 0, int(p.vocab) - 1));
  if (id < p.v0 || id >= p.v0 + p.vcount) return;
  dst[p.first_dst + i] = table[p.first_table + (id - p.v0) * p.dim + d];
}
