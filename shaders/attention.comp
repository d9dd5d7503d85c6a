#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#extension GL_KHR_shader_subgroup_arithmetic : require
// Flash attention: out = softmax(scale * Q K^T [causal]) V with an online softmax (running max m, sum l),
// fp32 accumulation; scores exist only as RQ x U values per invocation.
// Work layout, tuned for CPU drivers (lavapipe runs the LW = 8 invocations of a group as one 8-wide SIMD
// subgroup, where anything cross-lane is slow: non-uniform loads are per-lane loops, shared memory in
// loops and subgroupBroadcast likewise). A group owns RQ query rows of one (batch, head): q is read once
// (uniform loads, outside any loop) and kept in registers with every loop over the head dim D (a
// specialization constant) unrolled. Keys are spread over the lanes, U per lane per step: each lane keeps
// its own running max / sum / output accumulator for all RQ rows, so the key loop has no cross-lane
// traffic at all and each loaded K/V vec4 feeds 4*RQ FMAs. The lanes' partial softmaxes are merged once
// at the end (subgroupMax / subgroupAdd).
// Head dims above 160 use the `bigd` variants: the loops over D stay loops (fully unrolled code for D=512
// takes LLVM over a minute to compile and runs no faster).
//! variant f16 -DDTYPE_F16
//! variant bigd -DBIG_D
//! variant f16_bigd -DF16_BIGD
#ifdef F16_BIGD  // one define: shaders.cmake splits a variant's define list wrongly when it has two
#define DTYPE_F16
#define BIG_D
#endif
#ifdef BIG_D
#define DLOOP [[dont_unroll]]
#else
#define DLOOP [[unroll]]
#endif
#include "types.glsl"
#ifdef DTYPE_F16
#define SVEC4 f16vec4
#else
#define SVEC4 vec4
#endif
layout(local_size_x_id = 0) in;              // LW: must not exceed the subgroup size
layout(constant_id = 3) const uint D = 64;   // head dim
layout(constant_id = 4) const uint RQ = 16;  // query rows per workgroup
layout(constant_id = 5) const uint U = 1;    // keys per lane per step
layout(constant_id = 6) const bool CAUSAL = false;
layout(constant_id = 7) const uint VEC = 4;  // 4: vec4 K/V loads (D and K/V strides multiples of 4); 1: scalar
const uint LW = gl_WorkGroupSize.x, D4 = (D + 3) / 4;

layout(std430, binding = 0) readonly buffer Qb { STYPE q[]; };
layout(std430, binding = 1) readonly buffer Kb { STYPE k[]; };
layout(std430, binding = 1) readonly buffer Kb4 { SVEC4 k4[]; };
layout(std430, binding = 2) readonly buffer Vb { STYPE v[]; };
layout(std430, binding = 2) readonly buffer Vb4 { SVEC4 v4[]; };
layout(std430, binding = 3) writeonly buffer Ob { STYPE o[]; };
// Strides in elements: (batch, head, row) per tensor. scale already includes log2(e) (exp2 below).
// A dispatch may cover a chunk (batches x heads x query rows q0 .. q0+lq); each binding then starts at the
// chunk's first element (+ fq/fk/fv/fo, the aligned-down binding's element skip), and q0 keeps the causal
// mask in absolute query positions.
layout(push_constant) uniform P {
  uint heads, lq, lkv, qblocks, groups;
  uint qsb, qsh, qsl, ksb, ksh, ksl, vsb, vsh, vsl, osb, osh, osl;
  float scale;
  uint q0, fq, fk, fv, fo;
} p;

const float NEG = -1.0e30;  // finite "minus infinity": exp2(NEG - m) == 0 without inf - inf = NaN

// Head-dim elements 4c..4c+3 of the row at element offset e; past D a repeat of element D-1 (finite, and
// multiplied by zero-padded q / never stored).
vec4 ldk(uint e, uint c) {
  if (VEC == 4) return vec4(k4[(e >> 2) + c]);
  return vec4(float(k[e + min(4 * c, D - 1)]), float(k[e + min(4 * c + 1, D - 1)]),
              float(k[e + min(4 * c + 2, D - 1)]), float(k[e + min(4 * c + 3, D - 1)]));
}
vec4 ldv(uint e, uint c) {
  if (VEC == 4) return vec4(v4[(e >> 2) + c]);
  return vec4(float(v[e + min(4 * c, D - 1)]), float(v[e + min(4 * c + 1, D - 1)]),
              float(v[e + min(4 * c + 2, D - 1)]), float(v[e + min(4 * c + 3, D - 1)]));
}

void main() {
  // The 2-D grid may round up past the last group: extra groups redo the last one (identical writes).
  uint wg = min(gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x, p.groups - 1);
  uint blk = wg % p.qblocks, bh = wg / p.qblocks;
  uint b = bh / p.heads, h = bh % p.heads, lane = gl_LocalInvocationID.x;
  uint i0 = blk * RQ;
  uint kbase = p.fk + b * p.ksb + h * p.ksh, vbase = p.fv + b * p.vsb + h * p.vsh;

  // Rows past lq are clamped to the last row: they recompute (and rewrite) its exact value, which keeps
  // every load/store free of divergent control flow.
  uint row[RQ];
  vec4 qr[RQ * D4], acc[RQ * D4];
  float m[RQ], l[RQ];
  [[unroll]] for (uint r = 0; r < RQ; ++r) {
    row[r] = min(i0 + r, p.lq - 1);
    uint e = p.fq + b * p.qsb + h * p.qsh + row[r] * p.qsl;
    m[r] = NEG;
    l[r] = 0.0;
    DLOOP for (uint c = 0; c < D4; ++c) {
      [[unroll]] for (uint x = 0; x < 4; ++x)
        qr[r * D4 + c][x] = 4 * c + x < D ? float(q[e + min(4 * c + x, D - 1)]) * p.scale : 0.0;
      acc[r * D4 + c] = vec4(0.0);
    }
  }
  // Causal: no row of this group attends past its last valid row.
  uint jend = CAUSAL ? min(p.lkv, p.q0 + min(i0 + RQ, p.lq)) : p.lkv;

  for (uint j0 = 0; j0 < jend; j0 += LW * U) {
    uint kr[U];  // this lane's key rows (clamped; masked below)
    [[unroll]] for (uint u = 0; u < U; ++u) kr[u] = min(j0 + u * LW + lane, jend - 1);
    float s[RQ * U];
    [[unroll]] for (uint t = 0; t < RQ * U; ++t) s[t] = 0.0;
    DLOOP for (uint c = 0; c < D4; ++c) {
      vec4 kk[U];
      [[unroll]] for (uint u = 0; u < U; ++u) kk[u] = ldk(kbase + kr[u] * p.ksl, c);
      [[unroll]] for (uint r = 0; r < RQ; ++r) {
        vec4 a = qr[r * D4 + c];
        [[unroll]] for (uint u = 0; u < U; ++u)
          s[r * U + u] = fma(a.x, kk[u].x, fma(a.y, kk[u].y, fma(a.z, kk[u].z, fma(a.w, kk[u].w, s[r * U + u]))));
      }
    }
    // Per-lane online softmax. A lane's keys only increase, so once masked it stays masked; a lane that
    // never sees a valid key keeps m = NEG and is weighted out by the merge.
    float corr[RQ];
    [[unroll]] for (uint r = 0; r < RQ; ++r) {
      uint lim = CAUSAL ? min(p.q0 + row[r], jend - 1) : jend - 1;
      float mx = m[r];
      [[unroll]] for (uint u = 0; u < U; ++u) {
        s[r * U + u] = j0 + u * LW + lane <= lim ? s[r * U + u] : NEG;
        mx = max(mx, s[r * U + u]);
      }
      corr[r] = exp2(m[r] - mx);
      m[r] = mx;
      float sum = 0.0;
      [[unroll]] for (uint u = 0; u < U; ++u) {
        s[r * U + u] = exp2(s[r * U + u] - mx);
        sum += s[r * U + u];
      }
      l[r] = l[r] * corr[r] + sum;
    }
    DLOOP for (uint c = 0; c < D4; ++c) {
      vec4 vv[U];
      [[unroll]] for (uint u = 0; u < U; ++u) vv[u] = ldv(vbase + kr[u] * p.vsl, c);
      [[unroll]] for (uint r = 0; r < RQ; ++r) {
        vec4 a = acc[r * D4 + c] * corr[r];
        [[unroll]] for (uint u = 0; u < U; ++u) a = fma(vec4(s[r * U + u]), vv[u], a);
        acc[r * D4 + c] = a;
      }
    }
  }

  // Merge the lanes' partial softmaxes; results are uniform, so every lane writes the same values.
  [[unroll]] for (uint r = 0; r < RQ; ++r) {
    float mall = subgroupMax(m[r]);
    float f = exp2(m[r] - mall);
    float inv = 1.0 / subgroupAdd(l[r] * f);
    uint e = p.fo + b * p.osb + h * p.osh + row[r] * p.osl;
    DLOOP for (uint c = 0; c < D4; ++c) {
      vec4 t = subgroupAdd(acc[r * D4 + c] * f) * inv;
      [[unroll]] for (uint x = 0; x < 4; ++x)
        if (4 * c + x < D) o[e + 4 * c + x] = STYPE(t[x]);
    }
  }
}
