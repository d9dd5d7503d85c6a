#include "engine/models/vae.h"

#include <cmath>
#include <stdexcept>

#include "engine/models/nn.h"

namespace vkf::models {

Vae::Vae(const VaeConfig& cfg, const Weights& w, std::string prefix)
    : cfg_(cfg), tree_(walk_vae(cfg, ParamWalk({}, [&w](const std::string& n) { return &w.get(n); }, std::move(prefix)))) {}

// norm1 -> swish -> conv1 -> norm2 -> swish -> conv2; nin_shortcut when channels change. GroupNorm eps 1e-6.
Tensor Vae::resblock(vk::Recorder& rec, const Tensor& x, const VaeResBlockTree& p) const {
  Tensor h = nn::group_norm(rec, x, p.norm1, 1e-6f, true);
  h = nn::conv_same(rec, h, p.conv1);
  h = nn::group_norm(rec, h, p.norm2, 1e-6f, true);
  h = nn::conv_same(rec, h, p.conv2);
  Tensor skip = p.nin_shortcut ? nn::conv_same(rec, x, *p.nin_shortcut) : x;
  return nn::add(rec, skip, h);
}

// Single-head self-attention over all h*w positions, q/k/v/proj_out 1x1 convs, scale C^-0.5, residual.
Tensor Vae::mid_attention(vk::Recorder& rec, const Tensor& x, const VaeMidTree::Attn& p) const {
  const int64_t C = x.dim(1), H = x.dim(2), W = x.dim(3);
  Tensor h = nn::group_norm(rec, x, p.norm, 1e-6f, false);
  Tensor q = nn::nchw_to_nlc(rec, nn::conv_same(rec, h, p.q));
  Tensor k = nn::nchw_to_nlc(rec, nn::conv_same(rec, h, p.k));
  Tensor v = nn::nchw_to_nlc(rec, nn::conv_same(rec, h, p.v));
  Tensor a = nn::attention(rec, q, k, v, 1, false, 1.0f / std::sqrt(float(C)));
  Tensor o = nn::conv_same(rec, nn::nlc_to_nchw(rec, a, H, W), p.proj_out);
  return nn::add(rec, x, o);
}

Tensor Vae::middle(vk::Recorder& rec, const Tensor& x, const VaeMidTree& p) const {
  Tensor h = resblock(rec, x, p.block_1);
  if (p.attn_1) h = mid_attention(rec, h, *p.attn_1);
  return resblock(rec, h, p.block_2);
}

Tensor Vae::decode(vk::Recorder& rec, const Tensor& z) const {
  if (z.rank() != 4 || z.dim(1) != cfg_.embed_dim)
    throw std::invalid_argument("vae decode: z must be [B," + std::to_string(cfg_.embed_dim) + ",h,w], got " + shape_str(z.shape()));
  const auto& d = tree_.decoder;
  Tensor h = nn::conv_same(rec, z, tree_.post_quant_conv);
  h = nn::conv_same(rec, h, d.conv_in);
  h = middle(rec, h, d.mid);
  for (size_t i = d.levels.size(); i-- > 0;) {  // deepest level first
    for (const auto& b : d.levels[i].blocks) h = resblock(rec, h, b);
    if (d.levels[i].resample) h = nn::conv_same(rec, nn::upsample2x(rec, h), *d.levels[i].resample);
  }
  h = nn::group_norm(rec, h, d.norm_out, 1e-6f, true);
  return nn::conv_same(rec, h, d.conv_out);
}

Posterior Vae::encode(vk::Recorder& rec, const Tensor& image) const {
  const int64_t f = cfg_.downsample_factor();
  if (image.rank() != 4 || image.dim(1) != cfg_.in_channels)
    throw std::invalid_argument("vae encode: image must be [B," + std::to_string(cfg_.in_channels) + ",H,W], got " +
                                shape_str(image.shape()));
  if (image.dim(2) % f || image.dim(3) % f)
    throw std::invalid_argument("vae encode: image size must be a multiple of " + std::to_string(f));
  const auto& e = tree_.encoder;
  Tensor h = nn::conv_same(rec, image, e.conv_in);
  for (const auto& lv : e.levels) {
    for (const auto& b : lv.blocks) h = resblock(rec, h, b);
    if (lv.resample) h = nn::conv(rec, h, *lv.resample, 2, {0, 1, 0, 1});  // pad right/bottom only
  }
  h = middle(rec, h, e.mid);
  h = nn::group_norm(rec, h, e.norm_out, 1e-6f, true);
  h = nn::conv_same(rec, h, e.conv_out);
  Tensor moments = nn::conv_same(rec, h, tree_.quant_conv);
  const int64_t zc = moments.dim(1) / 2;
  Posterior p;
  p.mean = nn::slice_channels(rec, moments, 0, zc);
  p.logvar = nn::clamp(rec, nn::slice_channels(rec, moments, zc, 2 * zc), -30.0f, 20.0f);
  return p;
}

}  // namespace vkf::models
