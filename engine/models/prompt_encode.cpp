#include "engine/models/prompt_encode.h"

#include <stdexcept>

#include "engine/models/sdxl_conditioner.h"
#include "engine/vk/context.h"

namespace vkf::models {
namespace {

// [start] body [end] -> windows of the tower's context length: each [start] + up to L-2 body ids + [end],
// padded with the tower's pad id (49407 for HF CLIP, 0 for open_clip).
std::vector<std::vector<int32_t>> windows(const TextConfig& cfg, const std::vector<int32_t>& tokens) {
  if (tokens.size() < 2) throw std::invalid_argument("prompt tokens lack the start / end ids");
  const std::vector<int32_t> body(tokens.begin() + 1, tokens.end() - 1);
  const size_t window = size_t(cfg.max_positions) - 2;
  const size_t chunks = std::max<size_t>(1, (body.size() + window - 1) / window);
  std::vector<std::vector<int32_t>> out;
  for (size_t c = 0; c < chunks; ++c) {
    std::vector<int32_t> w = {tokens.front()};
    for (size_t i = c * window; i < std::min(body.size(), (c + 1) * window); ++i) w.push_back(body[i]);
    w.push_back(tokens.back());
    w.resize(size_t(cfg.max_positions), cfg.pad_id);
    out.push_back(std::move(w));
  }
  return out;
}

struct TowerOut {
  Tensor hidden;  // [chunks, T, W]
  Tensor pooled;  // [chunks, E]
};

TowerOut run_tower(vk::Recorder& rec, const ClipTextEncoder& enc, const std::vector<std::vector<int32_t>>& chunks,
                   int layer, bool ln_hidden) {
  std::vector<int32_t> all;
  for (auto& w : chunks) all.insert(all.end(), w.begin(), w.end());
  TextOutputs o = enc.forward(rec, all, int64_t(chunks.size()));
  const int L = enc.config().layers;
  TowerOut r{o.last_hidden_state, o.pooled};
  if (-layer <= L && layer != -1) {
    const Tensor& h = o.hidden[size_t(L + 1 + layer)];
    r.hidden = ln_hidden ? enc.final_norm(rec, h) : h;
  } else if (layer == -1 && !ln_hidden) {
    r.hidden = o.hidden[size_t(L)];
  }
  return r;
}

}  // namespace

int default_clip_layer(const ModelConfig& cfg) { return cfg.family == "sd1" ? -1 : -2; }

PromptEncoding encode_prompt(vk::Context& ctx, const Checkpoint& ck, const std::vector<int32_t>& tokens_l,
                             const std::vector<int32_t>& tokens_g, int stop_at_layer, size_t max_chunks) {
  const int layer = stop_at_layer < 0 ? stop_at_layer : default_clip_layer(ck.config);
  const bool ln_hidden = !ck.config.is_sdxl();
  if (!ck.text && !ck.text_g) throw std::invalid_argument(ck.path.filename().string() + " has no text encoder");
  std::vector<std::vector<int32_t>> wl, wg;
  if (ck.text) wl = windows(ck.text->config(), tokens_l);
  if (ck.text_g) wg = windows(ck.text_g->config(), tokens_g);
  // CLIPTextEncodeSDXL: the tower with fewer chunks gets empty-prompt chunks.
  if (ck.text && ck.text_g) {
    const std::vector<int32_t> empty_l = windows(ck.text->config(), {tokens_l.front(), tokens_l.back()})[0];
    const std::vector<int32_t> empty_g = windows(ck.text_g->config(), {tokens_g.front(), tokens_g.back()})[0];
    while (wl.size() < wg.size()) wl.push_back(empty_l);
    while (wg.size() < wl.size()) wg.push_back(empty_g);
  }
  const size_t chunks = std::max(wl.size(), wg.size());
  if (chunks > max_chunks) throw std::invalid_argument("prompt is too long: " + std::to_string(chunks) + " chunks of 75 tokens (at most " +
                                                       std::to_string(max_chunks) + ")");
  vk::Recorder rec(ctx);
  std::optional<TowerOut> l, g;
  if (ck.text) l = run_tower(rec, *ck.text, wl, layer, ln_hidden);
  if (ck.text_g) g = run_tower(rec, *ck.text_g, wg, layer, ln_hidden);
  PromptEncoding r;
  Tensor hidden = g ? sdxl_crossattn(rec, l ? &l->hidden : nullptr, g->hidden) : l->hidden;
  const Tensor& pooled = g ? g->pooled : l->pooled;
  rec.submit();
  // [chunks, T, D] is contiguous = [1, chunks*T, D]; the first chunk's pooled output, as ComfyUI.
  r.context = hidden.reshape({1, int64_t(chunks) * hidden.dim(1), hidden.dim(2)});
  r.pooled = pooled.slice0(0, 1);
  return r;
}

}  // namespace vkf::models
