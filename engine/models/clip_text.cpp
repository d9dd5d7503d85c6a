#include "engine/models/clip_text.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "engine/models/nn.h"
#include "engine/models/sd_layout.h"
#include "engine/ops/matmul.h"
#include "engine/ops/movement.h"
#include "engine/ops/norm.h"
#include "engine/vk/context.h"

namespace vkf::models {

ClipTextEncoder::ClipTextEncoder(const TextConfig& cfg, const Weights& w, std::string prefix) : cfg_(cfg) {
  // The tower's key tree is walked once (sd_layout.h), binding each tensor; open_clip's packed in_proj is
  // split into q/k/v row views here.
  const TextTree t = walk_text_tower(
      cfg, ParamWalk({}, [&w](const std::string& n) { return &w.get(n); }, prefix.empty() ? cfg.prefix : prefix));
  const auto lin = [](const Bound& b) { return Lin{*b.weight, b.bias ? *b.bias : Tensor()}; };
  const int64_t W = cfg.width;
  tok_ = *t.token_embedding;
  pos_ = *t.position_embedding;
  if (t.text_projection) proj_ = *t.text_projection;
  fln_ = lin(t.final_norm);
  for (const auto& L : t.layers) {
    Layer y;
    y.ln1 = lin(L.ln1), y.ln2 = lin(L.ln2), y.out = lin(L.out), y.fc1 = lin(L.fc1), y.fc2 = lin(L.fc2);
    if (cfg.open_clip) {
      const Tensor &iw = *L.in_proj.weight, &ib = *L.in_proj.bias;
      y.q = {iw.slice0(0, W), ib.slice0(0, W)};
      y.k = {iw.slice0(W, 2 * W), ib.slice0(W, 2 * W)};
      y.v = {iw.slice0(2 * W, 3 * W), ib.slice0(2 * W, 3 * W)};
    } else {
      y.q = lin(L.q), y.k = lin(L.k), y.v = lin(L.v);
    }
    layers_.push_back(std::move(y));
  }
}

Tensor ClipTextEncoder::final_norm(vk::Recorder& rec, const Tensor& x) const {
  return ops::layer_norm(rec, x, fln_.w, fln_.b, cfg_.layer_norm_eps);
}

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
  const auto linear = [&](const Tensor& x, const Lin& l) {
    return ops::linear(rec, x, l.w, l.b.defined() ? &l.b : nullptr);
  };
  Tensor tid = from_host_i32(ctx, {batch, T}, ids);
  Tensor x = nn::embedding(rec, tid, tok_);
  x = nn::add(rec, x, pos_.slice0(0, T).reshape({1, T, W}));

  TextOutputs out;
  out.hidden.push_back(x);
  for (const Layer& L : layers_) {
    Tensor h = ops::layer_norm(rec, x, L.ln1.w, L.ln1.b, cfg_.layer_norm_eps);
    Tensor a = nn::attention(rec, linear(h, L.q), linear(h, L.k), linear(h, L.v), H, /*causal=*/true, scale);
    x = nn::add(rec, x, linear(a, L.out));
    h = ops::layer_norm(rec, x, L.ln2.w, L.ln2.b, cfg_.layer_norm_eps);
    h = linear(h, L.fc1);
    h = cfg_.hidden_act == "gelu" ? nn::gelu(rec, h) : nn::quick_gelu(rec, h);
    x = nn::add(rec, x, linear(h, L.fc2));
    out.hidden.push_back(x);
  }
  const int L = cfg_.layers;
  out.last_hidden_state = final_norm(rec, out.hidden[size_t(L)]);
  if (L >= 2) {
    out.penultimate_hidden_state = out.hidden[size_t(L - 1)];
    out.penultimate_hidden_state_ln = final_norm(rec, out.penultimate_hidden_state);
  }
  out.skip_output = clip_skip < -1 ? final_norm(rec, out.hidden[size_t(L + 1 + clip_skip)]) : out.last_hidden_state;

  // Pooled: the final-LN state at each sequence's EOS (argmax id, the first on ties, as torch.argmax),
  // projected by text_projection in open_clip.
  std::vector<const Tensor*> rows;
  std::vector<Tensor> keep;
  const Tensor flat = out.last_hidden_state.reshape({batch * T, W});
  for (int64_t b = 0; b < batch; ++b) {
    const auto first = ids.begin() + b * T;
    const int64_t at = std::max_element(first, first + T) - first;
    keep.push_back(flat.slice0(b * T + at, b * T + at + 1));
  }
  for (const auto& k : keep) rows.push_back(&k);
  Tensor pooled = ops::concat(rec, rows, 0);  // [B, W]
  out.pooled = proj_.defined() ? ops::matmul(rec, pooled, proj_) : pooled;
  return out;
}

}  // namespace vkf::models
