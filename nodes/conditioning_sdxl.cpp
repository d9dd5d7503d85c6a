// SDXL's text-encode nodes (ComfyUI comfy_extras/nodes_clip_sdxl.py): CLIPTextEncodeSDXL (separate prompts for
// CLIP-L and OpenCLIP-G plus the size conditioning) and CLIPTextEncodeSDXLRefiner (aesthetic score + size).
#include "engine/graph/registry.h"
#include "nodes/conditioning.h"

namespace vkf::nodes {
namespace {

using namespace graph;

constexpr int kMaxResolution = 16384;  // ComfyUI's MAX_RESOLUTION

Outputs conditioning_out(const CondEntry& e) {
  return {make_value("CONDITIONING", Conditioning{{e}}, e.context.bytes() + e.pooled->bytes())};
}

NodeRegistrar clip_text_encode_sdxl(
    NodeDef("CLIPTextEncodeSDXL")
        .category("advanced/conditioning")
        .description("Encodes text_l with SDXL's CLIP-L and text_g with OpenCLIP-G, and attaches the size "
                     "conditioning (original size, crop, target size) the base model's vector input is built from.")
        .input("clip", "CLIP")
        .input_int("width", 1024, 0, kMaxResolution)
        .input_int("height", 1024, 0, kMaxResolution)
        .input_int("crop_w", 0, 0, kMaxResolution)
        .input_int("crop_h", 0, 0, kMaxResolution)
        .input_int("target_width", 1024, 0, kMaxResolution)
        .input_int("target_height", 1024, 0, kMaxResolution)
        .input_string("text_g", "", true)
        .input_string("text_l", "", true)
        .output("CONDITIONING")
        .execute([](NodeContext& ctx, const Inputs& in) -> Outputs {
          const auto& clip = in.get<Clip>("clip");
          if (!clip.ckpt->text || !clip.ckpt->text_g)
            throw std::invalid_argument("CLIPTextEncodeSDXL needs SDXL base's two text encoders (CLIP-L and OpenCLIP-G); "
                                        "this CLIP is a " + clip.ckpt->config.family + " model's");
          models::SizeCond s;
          s.width = double(in.get_int("width")), s.height = double(in.get_int("height"));
          s.crop_w = double(in.get_int("crop_w")), s.crop_h = double(in.get_int("crop_h"));
          s.target_width = double(in.get_int("target_width")), s.target_height = double(in.get_int("target_height"));
          return conditioning_out(encode_clip_text(gpu(ctx), clip, in.get_string("text_l"), in.get_string("text_g"), s));
        }));

NodeRegistrar clip_text_encode_sdxl_refiner(
    NodeDef("CLIPTextEncodeSDXLRefiner")
        .category("advanced/conditioning")
        .description("Encodes text for the SDXL refiner (OpenCLIP-G) with the aesthetic score and size its vector "
                     "input is built from.")
        .input_float("ascore", 6.0, 0.0, 1000.0, 0.01)
        .input_int("width", 1024, 0, kMaxResolution)
        .input_int("height", 1024, 0, kMaxResolution)
        .input_string("text", "", true)
        .input("clip", "CLIP")
        .output("CONDITIONING")
        .execute([](NodeContext& ctx, const Inputs& in) -> Outputs {
          const auto& clip = in.get<Clip>("clip");
          models::SizeCond s;
          s.aesthetic_score = in.get_float("ascore");
          s.width = double(in.get_int("width")), s.height = double(in.get_int("height"));
          const std::string text = in.get_string("text");
          return conditioning_out(encode_clip_text(gpu(ctx), clip, text, text, s));
        }));

}  // namespace
}  // namespace vkf::nodes
