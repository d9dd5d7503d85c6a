#version 450
#extension GL_GOOGLE_include_directive : require
// Storage-type conversion (f16 rounds to nearest even). Base variant is a plain f32 copy.
//! variant f2h -DTO_F16
//! variant h2f -DFROM_F16
#include "types.glsl"
#ifdef FROM_F16
#define ITYPE float16_t
#else
#define ITYPE float
#endif
#ifdef TO_F16
#define OTYPE float16_t
#else
#define OTYPE float
#endif
layout(local_size_x_id = 0) in;
layout(std430, binding = 0) readonly buffer X { ITYPE x[]; };
layout(std430, binding = 1) writeonly buffer Y { OTYPE y[]; };
layout(push_constant) uniform P { uint n, first_x, first_y; } p;

void main() {
  uint i = linear_id();
  if (i >= p.n) return;
  y[p.first_y + i] = OTYPE(float(x[p.first_x + i]));
}
