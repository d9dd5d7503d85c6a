#include "engine/models/vae.h"

#include <cmath>
#include <stdexcept>

#include "engine/models/nn.h"

namespace vkf::models {

Vae::Vae(const VaeConfig& cfg, const Weights& w, std::string prefix) : cfg_(cfg), s_(w, std::move(prefix)) {}

// norm1 -> swish -> conv1 -> norm2 -> swish -> conv2; nin_shortcut when channels change. GroupNorm eps 1e-6.
Tensor Vae::resblock(vk::Recorder& rec, const Tensor& x, const Scope& s) const {
  Tensor h = nn::group_norm(rec, x, s.sub("norm1"), 1e-6f, true);
  h = nn::conv_same(rec, h, s.sub("conv1"));
  h = nn::group_norm(rec, h, s.sub("norm2"), 1e-6f, true);
  h = nn::conv_same(rec, h, s.sub("conv2"));
  Tensor skip = s.has("nin_shortcut.weight") ? nn::conv_same(rec, x, s.sub("nin_shortcut")) : x;
  return nn::add(rec, skip, h);
}

// Single-head self-attention over all h*w positions, q/k/v/proj_out 1x1 convs, scale C^-0.5, residual.
Tensor Vae::mid_attention(vk::Recorder& rec, const Tensor& x, const Scope& s) const {
  const int64_t C = x.dim(1), H = x.dim(2), W = x.dim(3);
  Tensor h = nn::group_norm(rec, x, s.sub("norm"), 1e-6f, false);
  Tensor q = nn::nchw_to_nlc(rec, nn::conv_same(rec, h, s.sub("q")));
  Tensor k = nn::nchw_to_nlc(rec, nn::conv_same(rec, h, s.sub("k")));
  Tensor v = nn::nchw_to_nlc(rec, nn::conv_same(rec, h, s.sub("v")));
  Tensor a = nn::attention(rec, q, k, v, 1, false, 1.0f / std::sqrt(float(C)));
  Tensor o = nn::conv_same(rec, nn::nlc_to_nchw(rec, a, H, W), s.sub("proj_out"));
  return nn::add(rec, x, o);
}

Tensor Vae::middle(vk::Recorder& rec, const Tensor& x, const Scope& s) const {
  Tensor h = resblock(rec, x, s.sub("mid.block_1"));
  if (cfg_.mid_attn) h = mid_attention(rec, h, s.sub("mid.attn_1"));
  return resblock(rec, h, s.sub("mid.block_2"));
}

Tensor Vae::decode(vk::Recorder& rec, const Tensor& z) const {
  if (z.rank() != 4 || z.dim(1) != cfg_.embed_dim)
    throw std::invalid_argument("vae decode: z must be [B," + std::to_string(cfg_.embed_dim) + ",h,w], got " + shape_str(z.shape()));
  auto d = s_.sub("decoder");
  Tensor h = nn::conv_same(rec, z, s_.sub("post_quant_conv"));
  h = nn::conv_same(rec, h, d.sub("conv_in"));
  h = middle(rec, h, d);
  const int levels = int(cfg_.ch_mult.size());
  for (int i = levels - 1; i >= 0; --i) {
    auto up = d.sub("up." + std::to_string(i));
    for (int j = 0; j <= cfg_.num_res_blocks; ++j) h = resblock(rec, h, up.sub("block." + std::to_string(j)));
    if (i != 0) h = nn::conv_same(rec, nn::upsample2x(rec, h), up.sub("upsample.conv"));
  }
  h = nn::group_norm(rec, h, d.sub("norm_out"), 1e-6f, true);
  return nn::conv_same(rec, h, d.sub("conv_out"));
}

Posterior Vae::encode(vk::Recorder& rec, const Tensor& image) const {
  const int64_t f = cfg_.downsample_factor();
  if (image.rank() != 4 || image.dim(1) != cfg_.in_channels)
    throw std::invalid_argument("vae encode: image must be [B," + std::to_string(cfg_.in_channels) + ",H,W], got " +
                                shape_str(image.shape()));
  if (image.dim(2) % f || image.dim(3) % f)
    throw std::invalid_argument("vae encode: image size must be a multiple of " + std::to_string(f));
  auto e = s_.sub("encoder");
  Tensor h = nn::conv_same(rec, image, e.sub("conv_in"));
  const int levels = int(cfg_.ch_mult.size());
  for (int i = 0; i < levels; ++i) {
    auto down = e.sub("down." + std::to_string(i));
    for (int j = 0; j < cfg_.num_res_blocks; ++j) h = resblock(rec, h, down.sub("block." + std::to_string(j)));
    if (i != levels - 1) h = nn::conv(rec, h, down.sub("downsample.conv"), 2, {0, 1, 0, 1});  // pad right/bottom only
  }
  h = middle(rec, h, e);
  h = nn::group_norm(rec, h, e.sub("norm_out"), 1e-6f, true);
  h = nn::conv_same(rec, h, e.sub("conv_out"));
  Tensor moments = nn::conv_same(rec, h, s_.sub("quant_conv"));
  const int64_t zc = moments.dim(1) / 2;
  Posterior p;
  p.mean = nn::slice_channels(rec, moments, 0, zc);
  p.logvar = nn::clamp(rec, nn::slice_channels(rec, moments, zc, 2 * zc), -30.0f, 20.0f);
  return p;
}

}  // namespace vkf::models
