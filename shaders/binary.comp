#version 450
#extension GL_GOOGLE_include_directive : require
// o = a OP b with NumPy broadcasting over a 5-D output (shapes right-aligned, padded with 1s). Per-operand
// strides are 0 on broadcast dims. The output is processed in chunks: `base` is the flat output index of
// this chunk's first element; an operand's binding index = its flat index + off (mod 2^32), which folds in
// where its binding starts. Operands flagged "same shape" skip the coordinate arithmetic.
//! variant f16 -DDTYPE_F16
#include "types.glsl"
layout(local_size_x_id = 0) in;
layout(constant_id = 3) const uint OP = 0;  // 0 add, 1 sub, 2 mul, 3 div
layout(std430, binding = 0) readonly buffer A { STYPE a[]; };
layout(std430, binding = 1) readonly buffer B { STYPE b[]; };
layout(std430, binding = 2) writeonly buffer O { STYPE o[]; };
layout(push_constant) uniform P {
  uint n, base, off_a, off_b, first_o;
  uint flags;  // bit0: a same shape as o, bit1: b same shape; bits 8+: rank of the collapsed shape (1..5)
  uint shape[5];
  uint sa[5];
  uint sb[5];
} p;

void main() {
  uint i = linear_id();
  if (i >= p.n) return;
  uint g = p.base + i;
  uint ia = g, ib = g;
  if ((p.flags & 3u) != 3u) {
    // Host-collapsed dims (typically 2-3): one integer division per inner dim, none for the outermost.
    int lo = 5 - int(p.flags >> 8);
    uint rem = g, ja = 0u, jb = 0u;
    for (int d = 4; d > lo; --d) {
      uint q = rem / p.shape[d];
      uint c = rem - q * p.shape[d];
      rem = q;
      ja += c * p.sa[d];
      jb += c * p.sb[d];
    }
    ja += rem * p.sa[lo];
    jb += rem * p.sb[lo];
    if ((p.flags & 1u) == 0u) ia = ja;
    if ((p.flags & 2u) == 0u) ib = jb;
  }
  float x = float(a[ia + p.off_a]), y = float(b[ib + p.off_b]);
  float r;
  if (OP == 0) r = x + y;
  else if (OP == 1) r = x - y;
  else if (OP == 2) r = x * y;
  else r = x / y;
  o[p.first_o + i] = STYPE(r);
}
