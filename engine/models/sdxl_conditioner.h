// SDXL's GeneralConditioner (sgm): cross-attention context from the text towers and the UNet vector y from
// OpenCLIP-G's pooled output and the size / crop / aesthetic-score embeddings.
#pragma once
#include <vector>

#include "engine/models/clip_text.h"
#include "engine/vk/recorder.h"

namespace vkf::models {

// Width of each scalar's embedding in y (ConcatTimestepEmbedderND outdim).
inline constexpr int kSdxlSizeEmbedDim = 256;

// crossattn = cat([clip_l_hidden, clip_g_penultimate], -1) for the base; the refiner passes only G.
Tensor sdxl_crossattn(vk::Recorder& rec, const Tensor* clip_l_hidden, const Tensor& clip_g_penultimate);

// y = cat([pooled, emb(s_0), emb(s_1), ...], 1): `scalars` holds per batch element, in order, the values of
// each embedder, e.g. base (orig_h, orig_w, crop_top, crop_left, target_h, target_w), refiner (orig_h,
// orig_w, crop_top, crop_left, aesthetic_score). Each value -> timestep_embedding(v, 256) = [cos, sin].
// pooled [B, E]; scalars B*n values. Result [B, E + 256 n] in pooled's dtype.
Tensor sdxl_vector(vk::Recorder& rec, const Tensor& pooled, const std::vector<float>& scalars);

}  // namespace vkf::models
