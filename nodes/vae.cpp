// VAE nodes: VAEDecode, VAEEncode and their tiled variants. LATENT is UNet space (VAE latent * scale).
#include "engine/graph/registry.h"
#include "engine/models/vae_tiled.h"
#include "engine/ops/image_layout.h"
#include "engine/ops/lincomb.h"
#include "nodes/finite_check.h"
#include "nodes/value_types.h"

namespace vkf::nodes {
namespace {

using namespace graph;

Tensor to_vae_dtype(vk::Recorder& rec, const Tensor& latent, const models::Checkpoint& ck) {
  // UNet-space latent -> raw VAE latent (÷ scale_factor), stored in the VAE's compute dtype.
  const float inv = 1.0f / ck.config.scale_factor;
  if (latent.dtype() == ck.dtype) return ops::lincomb(rec, {{inv, &latent}});
  auto host = to_host(rec.context(), latent);
  for (auto& v : host) v *= inv;
  return from_host(rec.context(), latent.shape(), host, ck.dtype);
}

Tensor latent_out(vk::Recorder& rec, const Tensor& mean, const models::Checkpoint& ck) {
  Tensor m = ops::lincomb(rec, {{ck.config.scale_factor, &mean}});
  if (m.dtype() == DType::F32) return m;
  rec.submit();
  return from_host(rec.context(), m.shape(), to_host(rec.context(), m), DType::F32);
}

Outputs decode(NodeContext& ctx, const Inputs& in, bool tiled) {
  const auto& ck = *in.get<Vae>("vae").ckpt;
  const auto& lat = in.get<Latent>("samples").samples;
  if (lat.dim(1) != ck.config.vae.embed_dim)
    throw std::invalid_argument("latent has " + std::to_string(lat.dim(1)) + " channels, this VAE expects " +
                                std::to_string(ck.config.vae.embed_dim));
  vk::Recorder rec(gpu(ctx));
  Tensor z = to_vae_dtype(rec, lat, ck);
  Tensor img;
  if (!tiled) {
    img = ck.vae->decode(rec, z);
  } else {
    const int64_t f = ck.config.vae.downsample_factor();
    models::TileSpec spec{std::max<int64_t>(1, in.get_int("tile_size") / f), in.get_int("overlap") / f, f, 1};
    if (spec.overlap >= spec.tile) spec.overlap = spec.tile / 4;
    img = models::run_tiled(rec, z, spec, ck.config.vae.out_ch, [&](vk::Recorder& r, const Tensor& t) { return ck.vae->decode(r, t); },
                            [&](int d, int n) { ctx.progress(uint64_t(d), uint64_t(n)); });
  }
  // Checked before vae_to_image's [0,1] clamp, which turns Inf into white and (on most drivers) NaN into black.
  FiniteCheck finite(ctx, gpu(ctx), 1);
  finite.record(rec, img, 0);
  Tensor out = ops::vae_to_image(rec, img);
  rec.submit();
  finite.require_finite([](int64_t) { return std::string("the decoded image"); });
  return {make_value("IMAGE", Image{out}, out.bytes())};
}

Outputs encode(NodeContext& ctx, const Inputs& in, bool tiled) {
  const auto& ck = *in.get<Vae>("vae").ckpt;
  const auto& px = in.get<Image>("pixels").pixels;
  const int64_t f = ck.config.vae.downsample_factor();
  const int64_t H = px.dim(1) / f * f, W = px.dim(2) / f * f;
  if (H == 0 || W == 0) throw std::invalid_argument("image smaller than the VAE's downsample factor " + std::to_string(f));
  if (px.dim(3) < 3) throw std::invalid_argument("VAEEncode needs RGB images");
  // ComfyUI crops to a multiple of the factor, centred.
  const int64_t y0 = (px.dim(1) % f) / 2, x0 = (px.dim(2) % f) / 2;
  vk::Recorder rec(gpu(ctx));
  Tensor x = ops::image_to_vae(rec, px, y0, x0, H, W, 3, ck.dtype);
  Tensor mean;
  if (!tiled) {
    mean = ck.vae->encode(rec, x).mean;
  } else {
    int64_t tile = std::max<int64_t>(f, in.get_int("tile_size") / f * f);
    models::TileSpec spec{tile, in.get_int("overlap") / f * f, 1, f};
    if (spec.overlap >= spec.tile) spec.overlap = spec.tile / 4 / f * f;
    mean = models::run_tiled(rec, x, spec, ck.config.vae.embed_dim,
                             [&](vk::Recorder& r, const Tensor& t) { return ck.vae->encode(r, t).mean; },
                             [&](int d, int n) { ctx.progress(uint64_t(d), uint64_t(n)); });
  }
  Tensor lat = latent_out(rec, mean, ck);
  FiniteCheck finite(ctx, gpu(ctx), 1);
  finite.record(rec, lat, 0);
  rec.submit();
  finite.require_finite([](int64_t) { return std::string("the encoded latent"); });
  return {make_value("LATENT", Latent{lat, std::nullopt}, lat.bytes())};
}

NodeRegistrar vae_decode(NodeDef("VAEDecode")
                             .display("VAE Decode")
                             .category("latent")
                             .input("samples", "LATENT")
                             .input("vae", "VAE")
                             .output("IMAGE")
                             .execute([](NodeContext& ctx, const Inputs& in) { return decode(ctx, in, false); }));

NodeRegistrar vae_encode(NodeDef("VAEEncode")
                             .display("VAE Encode")
                             .category("latent")
                             .input("pixels", "IMAGE")
                             .input("vae", "VAE")
                             .output("LATENT")
                             .execute([](NodeContext& ctx, const Inputs& in) { return encode(ctx, in, false); }));

// VAEDecodeTiled / VAEEncodeTiled as ComfyUI declares them: `in_name` (the thing to convert) and the VAE,
// then the tiling inputs, where only tile_size's step differs (32 decoding, 64 encoding).
NodeDef& tiled_vae_inputs(NodeDef& d, const char* in_name, const char* in_type, int tile_size_step) {
  return d.category("_for_testing")
      .input(in_name, in_type)
      .input("vae", "VAE")
      .input_int("tile_size", 512, 64, 4096, tile_size_step)
      .input_int("overlap", 64, 0, 4096, 32)
      .input_int("temporal_size", 64, 8, 4096, 4)
      .optional()
      .input_int("temporal_overlap", 8, 4, 4096, 4)
      .optional();
}

NodeRegistrar vae_decode_tiled(
    tiled_vae_inputs(NodeDef("VAEDecodeTiled").display("VAE Decode (Tiled)"), "samples", "LATENT", 32)
        .output("IMAGE")
        .execute([](NodeContext& ctx, const Inputs& in) { return decode(ctx, in, true); }));

NodeRegistrar vae_encode_tiled(
    tiled_vae_inputs(NodeDef("VAEEncodeTiled").display("VAE Encode (Tiled)"), "pixels", "IMAGE", 64)
        .output("LATENT")
        .execute([](NodeContext& ctx, const Inputs& in) { return encode(ctx, in, true); }));

}  // namespace
}  // namespace vkf::nodes
