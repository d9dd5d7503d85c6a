// Tiled VAE passes: split the input into overlapping tiles, run the network per tile (one submit each,
// so peak memory and every binding stay tile-sized), and blend the outputs with feathered weights.
#pragma once
#include <functional>

#include "engine/tensor/tensor.h"
#include "engine/vk/recorder.h"

namespace vkf::models {

struct TileSpec {
  int64_t tile = 64;     // input tile side (input units: latent px for decode, image px for encode)
  int64_t overlap = 8;   // input overlap
  int64_t num = 1, den = 1;  // output size = input size * num / den
};

// Tile origins along one axis of length n (last tile aligned to the end).
std::vector<int64_t> tile_starts(int64_t n, int64_t tile, int64_t overlap);

Tensor run_tiled(vk::Recorder& rec, const Tensor& x, const TileSpec& spec, int64_t out_channels,
                 const std::function<Tensor(vk::Recorder&, const Tensor&)>& fn,
                 const std::function<void(int, int)>& progress = {});

}  // namespace vkf::models
