#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_ballot : require
// Flash attention for CPU drivers, lanes over QUERY rows: out = softmax(scale * Q K^T [causal]) V with an
// online softmax (running max m, sum l) and fp32 accumulation.
// On lavapipe the LW = 8 invocations of a group (one subgroup) run as one 8-wide SIMD loop where every
// SSBO load inside a loop is a per-lane loop, even at a uniform address (Mesa 22.3 takes its scalar-load
// path only outside control flow). So each lane owns RL query rows of one (batch, head) (rows
// i0 + r*LW + lane) with q and its accumulator in registers, the group walks LW keys per step, lane x
// fetching key j0 + x, and subgroupBroadcast (one extract + splat) hands each key to all lanes: a
// broadcast element feeds RL FMAs, so speed grows with RL (see attention_vk.cpp for numbers). The running
// max is rescaled once per step; no other cross-lane traffic. Loops over the head dim D (a specialization
// constant) are unrolled, so the host keeps RL * D small (compile time).
//! variant f16 -DDTYPE_F16
#define DLOOP [[unroll]]
#include "types.glsl"
#ifdef DTYPE_F16
#define SVEC4 f16vec4
#else
#define SVEC4 vec4
#endif
layout(local_size_x_id = 0) in;              // LW lanes: must equal the subgroup size
layout(constant_id = 3) const uint D = 64;   // head dim
layout(constant_id = 4) const uint RL = 1;   // query rows per lane (a group owns LW * RL rows)
layout(constant_id = 5) const uint UK = 1;   // keys per lane per step (a step is U = LW * UK keys)
layout(constant_id = 6) const bool CAUSAL = false;
layout(constant_id = 7) const uint VEC = 4;  // 4: vec4 K/V loads (D and K/V strides multiples of 4); 1: scalar
const uint LW = gl_WorkGroupSize.x, D4 = (D + 3) / 4, U = LW * UK;

layout(std430, binding = 0) readonly buffer Qb { STYPE q[]; };
layout(std430, binding = 1) readonly buffer Kb { STYPE k[]; };
layout(std430, binding = 1) readonly buffer Kb4 { SVEC4 k4[]; };
layout(std430, binding = 2) readonly buffer Vb { STYPE v[]; };
layout(std430, binding = 2) readonly buffer Vb4 { SVEC4 v4[]; };
layout(std430, binding = 3) writeonly buffer Ob { STYPE o[]; };
// Same push constants and chunking as attention.comp: strides in elements (batch, head, row) per tensor,
// scale includes log2(e), q0 = the chunk's first absolute query row, f* = the bindings' element skips.
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
  uint b = bh / p.heads, h = bh % p.heads;
  uint i0 = blk * (LW * RL);
  uint kbase = p.fk + b * p.ksb + h * p.ksh, vbase = p.fv + b * p.vsb + h * p.vsh;

  // Rows past lq are clamped to the last row: they recompute (and rewrite) its exact value.
  uint row[RL];
  vec4 qr[RL * D4], acc[RL * D4];
  float m[RL], l[RL];
  [[unroll]] for (uint r = 0; r < RL; ++r) {
    row[r] = min(i0 + r * LW + gl_LocalInvocationID.x, p.lq - 1);
    uint e = p.fq + b * p.qsb + h * p.qsh + row[r] * p.qsl;
    m[r] = NEG;
    l[r] = 0.0;
    DLOOP for (uint c = 0; c < D4; ++c) {
      [[unroll]] for (uint x = 0; x < 4; ++x)
        qr[r * D4 + c][x] = 4 * c + x < D ? float(q[e + min(4 * c + x, D - 1)]) * p.scale : 0.0;
      acc[r * D4 + c] = vec4(0.0);
    }
  }
  // Causal: no row of this group attends past its last valid row (uniform: from the group's rows only).
  uint jend = CAUSAL ? min(p.lkv, p.q0 + min(i0 + LW * RL, p.lq)) : p.lkv;

  for (uint j0 = 0; j0 < jend; j0 += U) {
    // Lane x fetches keys j0 + u*LW + x (clamped; masked below); subgroupBroadcast hands them to all lanes.
    uint koff[UK], voff[UK];
    [[unroll]] for (uint w = 0; w < UK; ++w) {
      uint j = min(j0 + w * LW + gl_SubgroupInvocationID, jend - 1);
      koff[w] = kbase + j * p.ksl;
      voff[w] = vbase + j * p.vsl;
    }
    float s[RL * U];
    [[unroll]] for (uint t = 0; t < RL * U; ++t) s[t] = 0.0;
    DLOOP for (uint c = 0; c < D4; ++c) {
      [[unroll]] for (uint w = 0; w < UK; ++w) {
        vec4 mk = ldk(koff[w], c);
        [[unroll]] for (uint x = 0; x < LW; ++x) {
          vec4 kk = subgroupBroadcast(mk, x);
          uint u = w * LW + x;
          [[unroll]] for (uint r = 0; r < RL; ++r) {
            vec4 a = qr[r * D4 + c];
            s[r * U + u] = fma(a.x, kk.x, fma(a.y, kk.y, fma(a.z, kk.z, fma(a.w, kk.w, s[r * U + u]))));
          }
        }
      }
    }
    // Online softmax, once per U keys. Key 0 is in the first step and visible to every row, so m is
    // finite after it; a later fully masked step gives corr = 1 and zero weights.
    float corr[RL];
    [[unroll]] for (uint r = 0; r < RL; ++r) {
      uint lim = CAUSAL ? min(p.q0 + row[r], jend - 1) : jend - 1;
      float mx = m[r];
      [[unroll]] for (uint u = 0; u < U; ++u) {
        s[r * U + u] = j0 + u <= lim ? s[r * U + u] : NEG;
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
      vec4 a[RL];
      [[unroll]] for (uint r = 0; r < RL; ++r) a[r] = acc[r * D4 + c] * corr[r];
      [[unroll]] for (uint w = 0; w < UK; ++w) {
        vec4 mv = ldv(voff[w], c);
        [[unroll]] for (uint x = 0; x < LW; ++x) {
          vec4 vv = subgroupBroadcast(mv, x);
          [[unroll]] for (uint r = 0; r < RL; ++r) a[r] = fma(vec4(s[r * U + w * LW + x]), vv, a[r]);
        }
      }
      [[unroll]] for (uint r = 0; r < RL; ++r) acc[r * D4 + c] = a[r];
    }
  }

  [[unroll]] for (uint r = 0; r < RL; ++r) {
    float inv = 1.0 / l[r];
    uint e = p.fo + b * p.osb + h * p.osh + row[r] * p.osl;
    DLOOP for (uint c = 0; c < D4; ++c) {
      vec4 t = acc[r * D4 + c] * inv;
      [[unroll]] for (uint x = 0; x < 4; ++x)
        if (4 * c + x < D) o[e + 4 * c + x] = STYPE(t[x]);
    }
  }
}
