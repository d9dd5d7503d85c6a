// 2-D convolution (NCHW, weight [Cout, Cin, kh, kw], groups = 1) as a GEMM: M = Cout, N = Hout*Wout,
// K = Cin*kh*kw. 1x1 stride-1 unpadded convs multiply the input directly; others build im2col columns in
// bounded chunks (shaders/conv2d_im2col.comp) and run the shared GEMM kernel on each chunk, which keeps
// every binding under maxStorageBufferRange for any image size. On CPU devices (lavapipe) 3x3 stride-1 pad-1
// convs of images at least 8 wide skip im2col: shaders/conv2d_3x3.comp computes them directly (same fp32
// FMA order as the GEMM path, so results are bitwise identical).
#pragma once
#include <cstdint>
#include <vector>

#include "engine/tensor/tensor.h"
#include "engine/vk/recorder.h"

namespace vkf::ops {

struct Conv2dParams {
  int stride = 1;  // 1 or 2 (any positive value works)
  int pad_left = 0, pad_right = 0, pad_top = 0, pad_bottom = 0;
  static Conv2dParams symmetric(int pad, int stride = 1) { return {stride, pad, pad, pad, pad}; }
};

// Output shape [B, Cout, Hout, Wout]; throws std::invalid_argument naming the shapes when they don't fit.
Shape conv2d_out_shape(const Shape& x, const Shape& w, const Conv2dParams& p);

// CPU reference (double accumulation); bias may be empty.
std::vector<float> conv2d_ref(const std::vector<float>& x, const Shape& xs, const std::vector<float>& w, const Shape& ws,
                              const std::vector<float>& bias, const Conv2dParams& p);

void conv2d(vk::Recorder& rec, const Tensor& y, const Tensor& x, const Tensor& w, const Tensor* bias,
            const Conv2dParams& p);
Tensor conv2d(vk::Recorder& rec, const Tensor& x, const Tensor& w, const Tensor* bias, const Conv2dParams& p);

// Chunk limits (bytes): per binding (default: the device's range) and per im2col buffer. Smaller values
// are only for tests that exercise the channel/column/row chunking on small tensors.
struct Conv2dChunking {
  uint64_t region_bytes = 0;  // 0: device limit
  uint64_t col_bytes = 64ull << 20;
};
void conv2d(vk::Recorder& rec, const Tensor& y, const Tensor& x, const Tensor& w, const Tensor* bias,
            const Conv2dParams& p, const Conv2dChunking& chunking);

}  // namespace vkf::ops
