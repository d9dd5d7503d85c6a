// SDXL's GeneralConditioner (sgm): cross-attention context from the text towers and the UNet vector y from
// OpenCLIP-G's pooled output and the size / crop / aesthetic-score embeddings.
#pragma once
#include <optional>
#include <string>
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

// The size values a CONDITIONING entry carries (ComfyUI's width, height, crop_w, crop_h, target_width,
// target_height, aesthetic_score keys, set by CLIPTextEncodeSDXL / CLIPTextEncodeSDXLRefiner); unset ones take
// ComfyUI's defaults when the vector is built.
struct SizeCond {
  std::optional<double> width, height, crop_w, crop_h, target_width, target_height, aesthetic_score;
};

// ComfyUI's SDXL / SDXLRefiner encode_adm scalars for one entry, in embedder order. width/height default
// to the latent's pixel size (`default_w`, `default_h`: latent * 8, as ComfyUI's encode_model_conds), crops to
// 0, targets to width/height, the refiner's aesthetic score to 6 (2.5 for a negative prompt).
// `family`: "sdxl" or "sdxl_refiner".
std::vector<float> sdxl_size_values(const std::string& family, const SizeCond& s, double default_w, double default_h,
                                    bool negative);

// The UNet vector y [B, adm] of one conditioning entry: sdxl_vector(pooled [B, E], sdxl_size_values(...)
// repeated per batch element) — ComfyUI's encode_adm.
Tensor sdxl_adm(vk::Recorder& rec, const std::string& family, const Tensor& pooled, const SizeCond& s, double default_w,
                double default_h, bool negative);

}  // namespace vkf::models
