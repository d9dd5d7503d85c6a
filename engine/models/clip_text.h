// CLIP text transformers: HF CLIPTextModel layout (SD1's cond_stage_model.transformer.text_model., SDXL's
// CLIP-L) and the open_clip layout (SD2's cond_stage_model.model., SDXL's OpenCLIP-G): token + position
// embeddings, pre-LN layers with causal self-attention, quick_gelu or exact GELU MLP. Weights are bound
// once at construction (no name lookups per evaluation).
#pragma once
#include <vector>

#include "engine/models/sd_config.h"
#include "engine/models/weights.h"
#include "engine/vk/recorder.h"

namespace vkf::models {

struct TextOutputs {
  std::vector<Tensor> hidden;          // [0] embeddings, [i] output of layer i-1 (no final LN); layers+1 entries
  Tensor last_hidden_state;            // final LN(layer L output)
  Tensor penultimate_hidden_state;     // layer L-1 output, before final LN
  Tensor penultimate_hidden_state_ln;  // final LN(penultimate)
  Tensor skip_output;                  // final LN(layer L+1+clip_skip output) (SD1 CLIPSetLastLayer)
  Tensor pooled;                       // [B, W] HF pooler_output, or [B, E] open_clip projected pooled output
};

class ClipTextEncoder {
 public:
  // `prefix` defaults to cfg.prefix.
  ClipTextEncoder(const TextConfig& cfg, const Weights& w, std::string prefix = "");
  // ids: [B, T] token ids (T <= max_positions). clip_skip: -1 = last layer, -2 = penultimate, ...
  TextOutputs forward(vk::Recorder& rec, const std::vector<int32_t>& ids, int64_t batch, int clip_skip = -1) const;
  // LayerNorm with the tower's final norm (ln_final / final_layer_norm).
  Tensor final_norm(vk::Recorder& rec, const Tensor& x) const;
  const TextConfig& config() const { return cfg_; }

 private:
  struct Lin {
    Tensor w, b;
  };
  struct Layer {
    Lin ln1, ln2, q, k, v, out, fc1, fc2;
  };
  TextConfig cfg_;
  Tensor tok_, pos_, proj_;  // proj_: open_clip text_projection [W, E]
  Lin fln_;
  std::vector<Layer> layers_;
};

}  // namespace vkf::models
