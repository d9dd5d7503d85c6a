// Conditioning nodes: CLIPTextEncode, CLIPSetLastLayer, ConditioningCombine, ConditioningZeroOut.
#include "nodes/conditioning.h"

#include "engine/graph/registry.h"
#include "engine/models/prompt_encode.h"
#include "engine/ops/lincomb.h"
#include "engine/text/clip_tokenizer.h"
#include "engine/text/prompt_weights.h"
#include "nodes/value_types.h"

namespace vkf::nodes {
namespace {

using namespace graph;

}  // namespace

CondEntry encode_clip_text(vk::Context& g, const Clip& clip, const std::string& text_l, const std::string& text_g,
                           const models::SizeCond& size) {
  // ComfyUI's emphasis syntax ("(word:1.2)") and windows, per tower (its context length and pad id).
  const auto windows = [&](const models::ClipTextEncoder* enc, const std::string& text) {
    if (!enc) return text::TokenWindows{};
    return text::tokenize_weighted(*clip.tokenizer, text, size_t(enc->config().max_positions), enc->config().pad_id);
  };
  auto r = models::encode_prompt(g, *clip.ckpt, windows(clip.ckpt->text.get(), text_l),
                                 windows(clip.ckpt->text_g.get(), text_g), clip.stop_at_layer);
  return CondEntry{r.context, r.pooled, size};
}

namespace {

NodeRegistrar clip_text_encode(NodeDef("CLIPTextEncode")
                                   .display("CLIP Text Encode (Prompt)")
                                   .category("conditioning")
                                   .input_string("text", "", true)
                                   .input("clip", "CLIP")
                                   .output("CONDITIONING")
                                   .execute([](NodeContext& ctx, const Inputs& in) -> Outputs {
                                     const auto& clip = in.get<Clip>("clip");
                                     const std::string text = in.get_string("text");
                                     CondEntry e = encode_clip_text(gpu(ctx), clip, text, text, {});
                                     const size_t bytes = e.context.bytes() + e.pooled->bytes();
                                     return {make_value("CONDITIONING", Conditioning{{e}}, bytes)};
                                   }));

NodeRegistrar clip_set_last_layer(NodeDef("CLIPSetLastLayer")
                                      .display("CLIP Set Last Layer")
                                      .category("conditioning")
                                      .input("clip", "CLIP")
                                      .input_int("stop_at_clip_layer", -1, -24, -1, 1)
                                      .output("CLIP")
                                      .execute([](NodeContext&, const Inputs& in) -> Outputs {
                                        // As ComfyUI: a layer deeper than a tower takes that tower's last
                                        // layer (with the final LayerNorm); SDXL sets both towers.
                                        Clip c = in.get<Clip>("clip");
                                        c.stop_at_layer = int(in.get_int("stop_at_clip_layer"));
                                        return {make_value("CLIP", c)};
                                      }));

NodeRegistrar conditioning_combine(NodeDef("ConditioningCombine")
                                       .display("Conditioning (Combine)")
                                       .category("conditioning")
                                       .input("conditioning_1", "CONDITIONING")
                                       .input("conditioning_2", "CONDITIONING")
                                       .output("CONDITIONING")
                                       .execute([](NodeContext&, const Inputs& in) -> Outputs {
                                         Conditioning c = in.get<Conditioning>("conditioning_1");
                                         for (auto& e : in.get<Conditioning>("conditioning_2").entries) c.entries.push_back(e);
                                         return {make_value("CONDITIONING", c)};
                                       }));

NodeRegistrar conditioning_zero_out(NodeDef("ConditioningZeroOut")
                                        .display("ConditioningZeroOut")
                                        .category("advanced/conditioning")
                                        .input("conditioning", "CONDITIONING")
                                        .output("CONDITIONING")
                                        .execute([](NodeContext& ctx, const Inputs& in) -> Outputs {
                                          Conditioning c = in.get<Conditioning>("conditioning");
                                          vk::Recorder rec(gpu(ctx));
                                          for (auto& e : c.entries) {
                                            e.context = ops::lincomb(rec, {{0.0f, &e.context}});
                                            if (e.pooled) e.pooled = ops::lincomb(rec, {{0.0f, &*e.pooled}});
                                          }
                                          rec.submit();
                                          return {make_value("CONDITIONING", c)};
                                        }));

}  // namespace
}  // namespace vkf::nodes
