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
                     CondList negative, double cfg, DType model_dtype)
    : unet_(std::move(unet)), ms_(std::move(ms)), pos_(std::move(positive)), neg_(std::move(negative)), cfg_(cfg),
      dtype_(model_dtype) {
  if (pos_.empty()) throw SamplingError("the positive conditioning is empty");
  if (!std::isfinite(cfg_)) throw SamplingError("cfg must be a finite number");
  for (auto* list : {&pos_, &neg_})
    for (auto& c : *list)
      if (c.rank() != 3 || c.dim(2) != unet_->config().context_dim)
        throw SamplingError("conditioning " + shape_str(c.shape()) + " does not fit this model (context dim " +
                            std::to_string(unet_->config().context_dim) + ")");
}

// [sum of entries * batch, T, D]: every entry repeated to the latent batch and, when token counts differ,
// tiled to their least common multiple (ComfyUI's CONDCrossAttn.concat), in the model dtype.
Tensor CfgGuider::batched_context(vk::Recorder& rec, int64_t batch, bool with_negative) {
  if (ctx_.defined() && ctx_batch_ == batch && ctx_neg_ == with_negative) return ctx_;
  std::vector<const Tensor*> entries;
  for (auto& c : pos_) entries.push_back(&c);
  if (with_negative)
    for (auto& c : neg_) entries.push_back(&c);
  int64_t T = 1;
  for (auto* e : entries) T = std::lcm(T, e->dim(1));
  if (T > 16 * 77 * 8) throw SamplingError("conditionings of token lengths that tile to " + std::to_string(T) + " tokens");
  std::vector<Tensor> keep;
  std::vector<const Tensor*> parts;
  for (auto* e : entries) {
    if (e->dim(0) != 1 && e->dim(0) != batch)
      throw SamplingError("conditioning batch " + std::to_string(e->dim(0)) + " differs from the latent batch " +
                          std::to_string(batch));
    Tensor c = e->dtype() == dtype_ ? *e : ops::cast(rec, *e, dtype_);
    if (c.dim(1) != T) {
      std::vector<const Tensor*> reps(size_t(T / c.dim(1)), &c);
      c = ops::concat(rec, reps, 1);
    }
    keep.push_back(c);
  }
  // one [1,T,D] piece per (entry, batch element), in entry-major order (matches the x repetition)
  std::vector<Tensor> pieces;
  for (auto& c : keep)
    for (int64_t b = 0; b < batch; ++b) pieces.push_back(c.dim(0) == 1 ? c : c.slice0(b, b + 1));
  for (auto& p : pieces) parts.push_back(&p);
  ctx_ = parts.size() == 1 ? *parts[0] : ops::concat(rec, parts, 0);
  ctx_batch_ = batch;
  ctx_neg_ = with_negative;
  return ctx_;
}

Denoised CfgGuider::denoise(vk::Recorder& rec, const Tensor& x, double sigma, bool need_uncond) {
  const bool use_neg = !neg_.empty() && (cfg_ != 1.0 || need_uncond);
  if (need_uncond && neg_.empty()) throw SamplingError("this sampler needs a negative conditioning (CFG++)");
  const int64_t B = x.dim(0);
  const size_t n_pos = pos_.size(), n_neg = use_neg ? neg_.size() : 0, n = n_pos + n_neg;
  Tensor ctx = batched_context(rec, B, use_neg);
  // model input: c_in * x, repeated once per conditioning entry, in the model dtype
  Tensor xin = ops::lincomb(rec, {{float(ms_->input_scale(sigma)), &x}});
  if (dtype_ != DType::F32) xin = ops::cast(rec, xin, dtype_);
  if (n > 1) {
    std::vector<const Tensor*> reps(n, &xin);
    xin = ops::concat(rec, reps, 0);
  }
  std::vector<float> ts(size_t(B) * n, ms_->timestep(float(sigma)));
  Tensor out = unet_->forward(rec, xin, ts, ctx);
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
