#version 450
#extension GL_GOOGLE_include_directive : require
// Resizes images [B,H,W,C] (float) from a source window (crop) to [B,OH,OW,C], with torch.interpolate
// semantics (align_corners=False): 0 nearest-exact, 1 bilinear, 2 bicubic (A=-0.75, clamped taps),
// 3 area (adaptive average pooling).
// Chunked: a dispatch covers images [0,B) x output rows [oy0, oy0+nrows) of its bindings; the source binding
// starts at source row `row_base` of its first image (0 when it holds whole images), `first_*` being the
// element skip of each binding's aligned-down start.
#include "types.glsl"
layout(local_size_x_id = 0) in;
layout(std430, binding = 0) readonly buffer I { float src[]; };
layout(std430, binding = 1) writeonly buffer O { float dst[]; };
layout(push_constant) uniform P {
  uint B, H, W, C, OH, OW;
  uint x0, y0, cw, ch;  // crop window in the source
  uint mode;
  uint oy0, nrows, row_base, first_src, first_dst;
} p;

float at(uint b, int y, int x, uint c) {
  y = clamp(y, 0, int(p.ch) - 1);
  x = clamp(x, 0, int(p.cw) - 1);
  return src[p.first_src + ((b * p.H + p.y0 + uint(y) - p.row_base) * p.W + p.x0 + uint(x)) * p.C + c];
}

float cubic_w(float t, int k) {  // PyTorch's upsample_bicubic2d coefficients, A = -0.75
  const float A = -0.75;
  float x = (k == 0) ? t + 1.0 : (k == 1) ? t : (k == 2) ? 1.0 - t : 2.0 - t;
  if (k == 1 || k == 2) return ((A + 2.0) * x - (A + 3.0)) * x * x + 1.0;
  return ((A * x - 5.0 * A) * x + 8.0 * A) * x - 4.0 * A;
}

void main() {
  uint i = linear_id();
  uint total = p.B * p.nrows * p.OW * p.C;
  if (i >= total) return;
  uint c = i % p.C, ox = (i / p.C) % p.OW, oy = p.oy0 + (i / (p.C * p.OW)) % p.nrows, b = i / (p.C * p.OW * p.nrows);
  float sy = float(p.ch) / float(p.OH), sx = float(p.cw) / float(p.OW);
  float v = 0.0;
  if (p.mode == 0u) {
    v = at(b, int(min(floor((float(oy) + 0.5) * sy), float(p.ch - 1))), int(min(floor((float(ox) + 0.5) * sx), float(p.cw - 1))), c);
  } else if (p.mode == 1u) {
    float fy = max((float(oy) + 0.5) * sy - 0.5, 0.0), fx = max((float(ox) + 0.5) * sx - 0.5, 0.0);
    int y0 = int(floor(fy)), x0 = int(floor(fx));
    float ly = fy - float(y0), lx = fx - float(x0);
    v = (1.0 - ly) * ((1.0 - lx) * at(b, y0, x0, c) + lx * at(b, y0, x0 + 1, c)) +
        ly * ((1.0 - lx) * at(b, y0 + 1, x0, c) + lx * at(b, y0 + 1, x0 + 1, c));
  } else if (p.mode == 2u) {
    float fy = (float(oy) + 0.5) * sy - 0.5, fx = (float(ox) + 0.5) * sx - 0.5;
    int y0 = int(floor(fy)), x0 = int(floor(fx));
    float ty = fy - float(y0), tx = fx - float(x0);
    for (int ky = 0; ky < 4; ++ky) {
      float row = 0.0;
      for (int kx = 0; kx < 4; ++kx) row += cubic_w(tx, kx) * at(b, y0 - 1 + ky, x0 - 1 + kx, c);
      v += cubic_w(ty, ky) * row;
    }
  } else {
    uint ys = (oy * p.ch) / p.OH, ye = ((oy + 1u) * p.ch + p.OH - 1u) / p.OH;
    uint xs = (ox * p.cw) / p.OW, xe = ((ox + 1u) * p.cw + p.OW - 1u) / p.OW;
    for (uint y = ys; y < ye; ++y)
      for (uint x = xs; x < xe; ++x) v += at(b, int(y), int(x), c);
    v /= float((ye - ys) * (xe - xs));
  }
  dst[p.first_dst + i] = v;
}
