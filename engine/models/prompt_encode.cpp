#include "engine/models/prompt_encode.h"

#include <stdexcept>

#include "engine/models/sdxl_conditioner.h"
#include "engine/ops/lincomb.h"
#include "engine/vk/context.h"

namespace vkf::models {
namespace {

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

// A window of only [start, end] and padding, weight 1 (gen_empty_tokens).
std::vector<int32_t> empty_window(const TextConfig& c) {
  std::vector<int32_t> w(size_t(c.max_positions), c.pad_id);
  w[0] = c.bos_id;
  w[1] = c.eos_id;
  return w;
}

void check_windows(const ClipTextEncoder* enc, const text::TokenWindows& w) {
  if (!enc) return;
  if (w.ids.empty() || w.ids.size() != w.weights.size()) throw std::invalid_argument("prompt has no token windows");
  for (size_t i = 0; i < w.ids.size(); ++i)
    if (w.ids[i].size() != size_t(enc->config().max_positions) || w.weights[i].size() != w.ids[i].size())
      throw std::invalid_argument("token window of " + std::to_string(w.ids[i].size()) +
                                  " ids for a text tower of context " + std::to_string(enc->config().max_positions));
}

// hidden [n + 1, T, W] (the last window the empty prompt's): each run of equal weight != 1 in window k becomes
// w * z + (1 - w) * z_empty over the same positions — (z - z_empty) * w + z_empty.
void apply_weights(vk::Recorder& rec, const Tensor& hidden, const text::TokenWindows& w) {
  const int64_t T = hidden.dim(1), W = hidden.dim(2), n = int64_t(w.ids.size());
  const Tensor rows = hidden.reshape({hidden.dim(0) * T, W});
  for (int64_t k = 0; k < n; ++k) {
    const auto& ws = w.weights[size_t(k)];
    for (int64_t j = 0; j < T;) {
      int64_t e = j + 1;
      while (e < T && ws[size_t(e)] == ws[size_t(j)]) ++e;
      const float wt = ws[size_t(j)];
      if (wt != 1.0f) {
        const Tensor z = rows.slice0(k * T + j, k * T + e), ze = rows.slice0(n * T + j, n * T + e);
        ops::lincomb(rec, z, {{wt, &z}, {1.0f - wt, &ze}});
      }
      j = e;
    }
  }
}

TowerOut encode_tower(vk::Recorder& rec, const ClipTextEncoder& enc, const text::TokenWindows& w, int layer,
                      bool ln_hidden) {
  if (!w.weighted()) return run_tower(rec, enc, w.ids, layer, ln_hidden);
  auto ids = w.ids;
  ids.push_back(empty_window(enc.config()));
  TowerOut o = run_tower(rec, enc, ids, layer, ln_hidden);
  apply_weights(rec, o.hidden, w);
  const int64_t n = int64_t(w.ids.size());
  return {o.hidden.slice0(0, n), o.pooled.slice0(0, n)};
}

}  // namespace

int default_clip_layer(const ModelConfig& cfg) { return cfg.family == "sd1" ? -1 : -2; }

PromptEncoding encode_prompt(vk::Context& ctx, const Checkpoint& ck, const std::vector<int32_t>& tokens_l,
                             const std::vector<int32_t>& tokens_g, int stop_at_layer, size_t max_chunks) {
  text::TokenWindows wl, wg;
  if (ck.text) wl = text::windows_from_ids(tokens_l, size_t(ck.text->config().max_positions), ck.text->config().pad_id);
  if (ck.text_g)
    wg = text::windows_from_ids(tokens_g, size_t(ck.text_g->config().max_positions), ck.text_g->config().pad_id);
  return encode_prompt(ctx, ck, std::move(wl), std::move(wg), stop_at_layer, max_chunks);
}

PromptEncoding encode_prompt(vk::Context& ctx, const Checkpoint& ck, text::TokenWindows wl, text::TokenWindows wg,
                             int stop_at_layer, size_t max_chunks) {
  const int layer = stop_at_layer < 0 ? stop_at_layer : default_clip_layer(ck.config);
  const bool ln_hidden = !ck.config.is_sdxl();
  if (!ck.text && !ck.text_g) throw std::invalid_argument(ck.path.filename().string() + " has no text encoder");
  check_windows(ck.text.get(), wl);
  check_windows(ck.text_g.get(), wg);
  // CLIPTextEncodeSDXL: the tower with fewer windows gets empty-prompt windows.
  if (ck.text && ck.text_g) {
    const auto fill = [](text::TokenWindows& w, const TextConfig& c, size_t n) {
      while (w.ids.size() < n) {
        w.ids.push_back(empty_window(c));
        w.weights.emplace_back(size_t(c.max_positions), 1.0f);
      }
    };
    const size_t n = std::max(wl.ids.size(), wg.ids.size());
    fill(wl, ck.text->config(), n);
    fill(wg, ck.text_g->config(), n);
  }
  const size_t chunks = std::max(ck.text ? wl.ids.size() : 0, ck.text_g ? wg.ids.size() : 0);
  if (chunks > max_chunks)
    throw std::invalid_argument("prompt is too long: " + std::to_string(chunks) + " windows of " +
                                std::to_string((ck.text ? ck.text : ck.text_g)->config().max_positions - 2) +
                                " tokens (at most " + std::to_string(max_chunks) + ")");
  vk::Recorder rec(ctx);
  std::optional<TowerOut> l, g;
  if (ck.text) l = encode_tower(rec, *ck.text, wl, layer, ln_hidden);
  if (ck.text_g) g = encode_tower(rec, *ck.text_g, wg, layer, ln_hidden);
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
