// CLIP text transformer (HF CLIPTextModel layout under cond_stage_model.transformer.text_model.):
// token + position embeddings, pre-LN layers with causal self-attention and quick_gelu MLP.
#pragma once
#include <vector>

#include "engine/models/sd_config.h"
#include "engine/models/weights.h"
#include "engine/vk/recorder.h"

namespace vkf::models {

struct TextOutputs {
  Tensor last_hidden_state;            // final_layer_norm(layer L output)
  Tensor penultimate_hidden_state;     // layer L-1 output, before final LN
  Tensor penultimate_hidden_state_ln;  // final_layer_norm(penultimate)
  Tensor skip_output;                  // final_layer_norm(layer L+1+clip_skip output) when clip_skip < -1
};

class ClipTextEncoder {
 public:
  ClipTextEncoder(const TextConfig& cfg, const Weights& w, std::string prefix = kTextPrefix);
  // ids: [B, T] token ids (T <= max_positions). clip_skip: -1 = last layer, -2 = penultimate, ...
  TextOutputs forward(vk::Recorder& rec, const std::vector<int32_t>& ids, int64_t batch, int clip_skip = -1) const;
  const TextConfig& config() const { return cfg_; }

 private:
  TextConfig cfg_;
  Scope s_;
};

}  // namespace vkf::models
