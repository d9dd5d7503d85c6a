// A prompt's tokens -> the cross-attention context and pooled output of a checkpoint's text tower(s), as
// ComfyUI's CLIP.encode_from_tokens does per family: prompts longer than one window are encoded in chunks
// of (context length - 2) tokens and concatenated along the token axis; the pooled output is the first
// chunk's; the layer taken (CLIPSetLastLayer) and whether the final LayerNorm applies follow the family
// (SD1: last layer, final LN; SD2: penultimate, final LN; SDXL's CLIP-L and OpenCLIP-G: penultimate, no LN).
#pragma once
#include <cstdint>
#include <vector>

#include "engine/models/checkpoint.h"
#include "engine/text/prompt_weights.h"

namespace vkf::models {

struct PromptEncoding {
  Tensor context;  // [1, chunks * context length, D] (SDXL base: D = CLIP-L width + OpenCLIP-G width)
  Tensor pooled;   // [1, E]: OpenCLIP-G's projected pooled output for SDXL, the tower's pooled otherwise
};

// The layer a tower stops at when CLIPSetLastLayer has not set one (ComfyUI's per-family default).
int default_clip_layer(const ModelConfig& cfg);

// Token ids from ClipTokenizer::encode (start + body + end, not truncated): `tokens_l` for the SD1/SD2 tower or
// SDXL's CLIP-L, `tokens_g` for OpenCLIP-G (SDXL base and refiner); a tower the checkpoint lacks is not read.
// When the two towers' chunk counts differ, the shorter is filled with empty-prompt chunks (ComfyUI's
// CLIPTextEncodeSDXL). `stop_at_layer` -1..-N (0: the family default); a layer deeper than a tower takes its
// last layer with the final LN, as ComfyUI. Throws std::invalid_argument past `max_chunks` chunks.
PromptEncoding encode_prompt(vk::Context& ctx, const Checkpoint& ck, const std::vector<int32_t>& tokens_l,
                             const std::vector<int32_t>& tokens_g, int stop_at_layer = 0, size_t max_chunks = 16);

// The same from weighted windows (text::tokenize_weighted with each tower's context length and pad id). Where
// a tower's windows carry weights, ComfyUI's encode_token_weights: an empty-prompt window is encoded with
// them and each weighted token's output becomes (z - z_empty) * weight + z_empty; the pooled output stays
// the first window's.
PromptEncoding encode_prompt(vk::Context& ctx, const Checkpoint& ck, text::TokenWindows windows_l,
                             text::TokenWindows windows_g, int stop_at_layer = 0, size_t max_chunks = 16);

}  // namespace vkf::models
