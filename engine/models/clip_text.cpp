#include "engine/models/clip_text.h"

#include <cmath>
#include <stdexcept>

#include "engine/models/nn.h"
#include "engine/vk/context.h"

namespace vkf::models {

ClipTextEncoder::ClipTextEncoder(const TextConfig& cfg, const Weights& w, std::string prefix)
    : cfg_(cfg), s_(w, std::move(prefix)) {}

TextOutputs ClipTextEncoder::forward(vk::Recorder& rec, const std::vector<int32_t>& ids, int64_t batch,
                                     int clip_skip) const {
  const int64_t T = batch ? int64_t(ids.size()) / batch : 0;
  if (batch <= 0 || T * batch != int64_t(ids.size()) || T > cfg_.max_positions)
    throw std::invalid_argument("text encoder: " + std::to_string(ids.size()) + " ids do not form " +
                                std::to_string(batch) + " sequences of at most " + std::to_string(cfg_.max_positions));
  for (int32_t id : ids)
    if (id < 0 || id >= cfg_.vocab_size)
      throw std::invalid_argument("text encoder: token id " + std::to_string(id) + " outside the vocabulary (" +
                                  std::to_string(cfg_.vocab_size) + ")");
  if (clip_skip >= 0 || -clip_skip > cfg_.layers)
    throw std::invalid_argument("clip skip " + std::to_string(clip_skip) + " outside [-" + std::to_string(cfg_.layers) + ", -1]");
  auto& ctx = rec.context();
  const int W = cfg_.width, H = cfg_.heads;
  const float scale = 1.0f / std::sqrt(float(W / H));
  Tensor tid = from_host_i32(ctx, {batch, T}, ids);
  auto emb = s_.sub("embeddings");
  Tensor x = nn::embedding(rec, tid, emb.sub("token_embedding")["weight"]);
  Tensor pos = emb.sub("position_embedding")["weight"].slice0(0, T).reshape({1, T, W});
  x = nn::add(rec, x, pos);

  TextOutputs out;
  const int want_layer = cfg_.layers + 1 + clip_skip;  // output of this layer (1-based) feeds the skip output
  for (int l = 0; l < cfg_.layers; ++l) {
    auto L = s_.sub("encoder.layers." + std::to_string(l));
    Tensor h = nn::layer_norm(rec, x, L.sub("layer_norm1"), cfg_.layer_norm_eps);
    auto at = L.sub("self_attn");
    Tensor q = nn::linear(rec, h, at.sub("q_proj"));
    Tensor k = nn::linear(rec, h, at.sub("k_proj"));
    Tensor v = nn::linear(rec, h, at.sub("v_proj"));
    Tensor a = nn::attention(rec, q, k, v, H, /*causal=*/true, scale);
    x = nn::add(rec, x, nn::linear(rec, a, at.sub("out_proj")));
    h = nn::layer_norm(rec, x, L.sub("layer_norm2"), cfg_.layer_norm_eps);
    h = nn::linear(rec, h, L.sub("mlp.fc1"));
    h = cfg_.hidden_act == "gelu" ? nn::gelu(rec, h) : nn::quick_gelu(rec, h);
    x = nn::add(rec, x, nn::linear(rec, h, L.sub("mlp.fc2")));
    if (l + 1 == cfg_.layers - 1) out.penultimate_hidden_state = x;
    if (l + 1 == want_layer && clip_skip < -1) out.skip_output = x;
  }
  auto fln = s_.sub("final_layer_norm");
  out.last_hidden_state = nn::layer_norm(rec, x, fln, cfg_.layer_norm_eps);
  if (out.penultimate_hidden_state.defined())
    out.penultimate_hidden_state_ln = nn::layer_norm(rec, out.penultimate_hidden_state, fln, cfg_.layer_norm_eps);
  if (out.skip_output.defined()) out.skip_output = nn::layer_norm(rec, out.skip_output, fln, cfg_.layer_norm_eps);
  else out.skip_output = out.last_hidden_state;
  return out;
}

}  // namespace vkf::models
