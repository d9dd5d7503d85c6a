#include "engine/sampling/guider.h"

#include <cmath>
#include <numeric>
#include <stdexcept>

#include "engine/ops/lincomb.h"
#include "engine/ops/movement.h"
#include "engine/ops/unary.h"
#include "engine/vk/context.h"

namespace vkf::sampling {

CfgGuider::CfgGuider(std::shared_ptr<const models::UNet> unet, std::shared_ptr<const ModelSampling> ms, CondList positive,
                     CondList negative, double cfg, DType model_dtype, std::string family)
    : unet_(std::move(unet)), ms_(std::move(ms)), pos_(std::move(positive)), neg_(std::move(negative)), cfg_(cfg),
      dtype_(model_dtype), family_(std::move(family)) {
  if (pos_.empty()) throw SamplingError("the positive conditioning is empty");
  if (!std::isfinite(cfg_)) throw SamplingError("cfg must be a finite number");
  const int adm = unet_->config().adm_in_channels;
  for (auto* list : {&pos_, &neg_})
    for (auto& c : *list) {
      if (c.context.rank() != 3 || c.context.dim(2) != unet_->config().context_dim)
        throw SamplingError("conditioning " + shape_str(c.context.shape()) + " does not fit this model (context dim " +
                            std::to_string(unet_->config().context_dim) + ")");
      if (adm > 0 && !c.pooled)
        throw SamplingError("this model (" + family_ + ") needs the pooled text output in its conditioning: encode "
                            "the prompt with this model's CLIP");
      if (adm > 0 && c.pooled->rank() != 2)
        throw SamplingError("pooled output " + shape_str(c.pooled->shape()) + " is not [batch, width]");
    }
}

namespace {

// Each entry repeated to the latent batch, one [1, ...] piece per (entry, batch element) in entry-major
// order (matches the x repetition), concatenated on dim 0.
Tensor batch_entries(vk::Recorder& rec, std::vector<Tensor>& keep, int64_t batch) {
  std::vector<Tensor> pieces;
  for (auto& c : keep) {
    if (c.dim(0) != 1 && c.dim(0) != batch)
      throw SamplingError("conditioning batch " + std::to_string(c.dim(0)) + " differs from the latent batch " +
                          std::to_string(batch));
    for (int64_t b = 0; b < batch; ++b) pieces.push_back(c.dim(0) == 1 ? c : c.slice0(b, b + 1));
  }
  std::vector<const Tensor*> parts;
  for (auto& p : pieces) parts.push_back(&p);
  return parts.size() == 1 ? *parts[0] : ops::concat(rec, parts, 0);
}

}  // namespace

// [sum of entries * batch, T, D]: every entry repeated to the latent batch and, when token counts differ,
// tiled to their least common multiple (ComfyUI's CONDCrossAttn.concat), in the model dtype. For a model
// with a vector input, y [sum of entries * batch, adm] the same way (ComfyUI's encode_adm per entry).
void CfgGuider::batched_context(vk::Recorder& rec, const Tensor& x, bool with_negative) {
  const int64_t batch = x.dim(0);
  if (ctx_.defined() && ctx_batch_ == batch && ctx_neg_ == with_negative && ctx_h_ == x.dim(2) && ctx_w_ == x.dim(3)) return;
  std::vector<std::pair<const Cond*, bool>> entries;  // (entry, negative)
  for (auto& c : pos_) entries.push_back({&c, false});
  if (with_negative)
    for (auto& c : neg_) entries.push_back({&c, true});
  int64_t T = 1;
  for (auto& e : entries) T = std::lcm(T, e.first->context.dim(1));
  if (T > 16 * 77 * 8) throw SamplingError("conditionings of token lengths that tile to " + std::to_string(T) + " tokens");
  std::vector<Tensor> keep, ys;
  for (auto& [e, negative] : entries) {
    Tensor c = e->context.dtype() == dtype_ ? e->context : ops::cast(rec, e->context, dtype_);
    if (c.dim(1) != T) {
      std::vector<const Tensor*> reps(size_t(T / c.dim(1)), &c);
      c = ops::concat(rec, reps, 1);
    }
    keep.push_back(c);
    if (unet_->config().adm_in_channels > 0) {
      // ComfyUI: width/height default to the latent's size * 8, whatever the VAE's factor.
      Tensor y = models::sdxl_adm(rec, family_, *e->pooled, e->size, double(x.dim(3) * 8), double(x.dim(2) * 8), negative);
      if (y.dim(1) != unet_->config().adm_in_channels)
        throw SamplingError("the conditioning's vector has " + std::to_string(y.dim(1)) + " values, the model takes " +
                            std::to_string(unet_->config().adm_in_channels));
      ys.push_back(y.dtype() == dtype_ ? y : ops::cast(rec, y, dtype_));
    }
  }
  ctx_ = batch_entries(rec, keep, batch);
  y_ = ys.empty() ? Tensor() : batch_entries(rec, ys, batch);
  ctx_batch_ = batch;
  ctx_h_ = x.dim(2);
  ctx_w_ = x.dim(3);
  ctx_neg_ = with_negative;
}

Denoised CfgGuider::denoise(vk::Recorder& rec, const Tensor& x, double sigma, bool need_uncond) {
  const bool use_neg = !neg_.empty() && (cfg_ != 1.0 || need_uncond);
  if (need_uncond && neg_.empty()) throw SamplingError("this sampler needs a negative conditioning (CFG++)");
  const int64_t B = x.dim(0);
  const size_t n_pos = pos_.size(), n_neg = use_neg ? neg_.size() : 0, n = n_pos + n_neg;
  batched_context(rec, x, use_neg);
  // model input: c_in * x, repeated once per conditioning entry, in the model dtype
  Tensor xin = ops::lincomb(rec, {{float(ms_->input_scale(sigma)), &x}});
  if (dtype_ != DType::F32) xin = ops::cast(rec, xin, dtype_);
  if (n > 1) {
    std::vector<const Tensor*> reps(n, &xin);
    xin = ops::concat(rec, reps, 0);
  }
  std::vector<float> ts(size_t(B) * n, ms_->timestep(float(sigma)));
  Tensor out = unet_->forward(rec, xin, ts, ctx_, nullptr, y_.defined() ? &y_ : nullptr);
  ++evals_;
  if (out.dtype() != DType::F32) out = ops::cast(rec, out, DType::F32);
  // denoised = a * x + b * out_k, averaged over the entries of each side (equal strengths, no masks)
  const Lin2 d = ms_->denoised(sigma);
  auto side = [&](size_t first, size_t count) {
    Tensor acc;
    for (size_t k = 0; k < count; ++k) {
      Tensor part = out.slice0(int64_t(first + k) * B, int64_t(first + k + 1) * B);
      float b = float(d.b / double(count));
      if (k == 0) acc = ops::lincomb(rec, {{float(d.a), &x}, {b, &part}});
      else ops::lincomb(rec, acc, {{1.0f, &acc}, {b, &part}});
    }
    return acc;
  };
  Denoised r;
  Tensor dc = side(0, n_pos);
  if (!use_neg) {
    r.denoised = dc;
    if (need_uncond) r.uncond = dc;
    return r;
  }
  Tensor du = side(n_pos, n_neg);
  // ComfyUI: uncond + (cond - uncond) * cfg
  r.denoised = ops::lincomb(rec, {{float(cfg_), &dc}, {float(1.0 - cfg_), &du}});
  r.uncond = du;
  return r;
}

DenoiseFn make_denoise_fn(Guider& g, bool need_uncond) {
  return [&g, need_uncond](vk::Recorder& rec, const Tensor& x, double sigma) { return g.denoise(rec, x, sigma, need_uncond); };
}

}  // namespace vkf::sampling
