// IMAGE [B,H,W,C] in [0,1] <-> VAE pixels [B,C,H,W] in [-1,1], and tile blending for tiled VAE passes.
// Every op here chunks its dispatches so each binding fits binding_limit(): whole images / planes while one
// fits, else bands of rows (of one channel plane for the layout conversions).
#pragma once
#include "engine/tensor/tensor.h"
#include "engine/vk/recorder.h"

namespace vkf::ops {

// NCHW VAE output -> IMAGE BHWC f32, (x+1)/2 clamped to [0,1].
Tensor vae_to_image(vk::Recorder& rec, const Tensor& nchw);
// IMAGE BHWC f32 -> NCHW pixels 2x-1 in `dtype`: the window rows [y0,y0+H), cols [x0,x0+W), first C channels.
Tensor image_to_vae(vk::Recorder& rec, const Tensor& bhwc, int64_t y0, int64_t x0, int64_t H, int64_t W, int64_t C, DType dtype);

// Tiled accumulation: acc [B,C,H,W] f32 and wsum [H,W] f32 start zeroed (see tile_accumulator()).
struct TileAccumulator {
  Tensor acc, wsum;
};
TileAccumulator tile_accumulator(vk::Recorder& rec, int64_t B, int64_t C, int64_t H, int64_t W);
// edges: bit 1 top, 2 bottom, 4 left, 8 right = sides shared with a neighbour (feathered over `feather`).
void tile_add(vk::Recorder& rec, TileAccumulator& a, const Tensor& tile, int64_t oy, int64_t ox, int64_t feather, uint32_t edges);
Tensor tile_finish(vk::Recorder& rec, TileAccumulator& a);  // acc / wsum (in place), returns acc

}  // namespace vkf::ops

namespace vkf::ops {
// NCHW spatial window copy.
Tensor crop2d(vk::Recorder& rec, const Tensor& x, int64_t y0, int64_t x0, int64_t h, int64_t w);
}  // namespace vkf::ops
