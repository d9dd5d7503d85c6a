// Conditioning nodes: CLIPTextEncode, CLIPSetLastLayer, ConditioningCombine, ConditioningZeroOut.
#include "engine/graph/registry.h"
#include "engine/ops/lincomb.h"
#include "engine/text/clip_tokenizer.h"
#include "nodes/value_types.h"

namespace vkf::nodes {
namespace {

using namespace graph;

// Prompts longer than one 77-token window are encoded in chunks of 75 tokens and concatenated along the
// token axis, as ComfyUI does. Past this many chunks the prompt is refused rather than attempted.
constexpr size_t kMaxChunks = 16;

Tensor encode_text(vk::Context& g, const Clip& clip, const std::string& text) {
  const auto& cfg = clip.ckpt->config.text;
  std::vector<int32_t> ids = clip.tokenizer->encode(text);  // [start] ... [end]
  std::vector<int32_t> body(ids.begin() + 1, ids.end() - 1);
  const size_t window = size_t(cfg.max_positions) - 2;
  size_t chunks = std::max<size_t>(1, (body.size() + window - 1) / window);
  if (chunks > kMaxChunks)
    throw std::invalid_argument("prompt is too long: " + std::to_string(body.size()) + " tokens (at most " +
                                std::to_string(kMaxChunks * window) + ")");
  std::vector<int32_t> all;
  for (size_t c = 0; c < chunks; ++c) {
    std::vector<int32_t> w = {clip.tokenizer->start_id()};
    for (size_t i = c * window; i < std::min(body.size(), (c + 1) * window); ++i) w.push_back(body[i]);
    w.push_back(clip.tokenizer->end_id());
    w.resize(size_t(cfg.max_positions), cfg.pad_id);
    all.insert(all.end(), w.begin(), w.end());
  }
  vk::Recorder rec(g);
  auto out = clip.ckpt->text->forward(rec, all, int64_t(chunks), clip.stop_at_layer);
  rec.submit();
  // [chunks, 77, D] is contiguous = [1, chunks*77, D]
  Tensor t = out.skip_output;
  return t.reshape({1, int64_t(chunks) * cfg.max_positions, t.dim(2)});
}

NodeRegistrar clip_text_encode(NodeDef("CLIPTextEncode")
                                   .display("CLIP Text Encode (Prompt)")
                                   .category("conditioning")
                                   .input_string("text", "", true)
                                   .input("clip", "CLIP")
                                   .output("CONDITIONING")
                                   .execute([](NodeContext& ctx, const Inputs& in) -> Outputs {
                                     const auto& clip = in.get<Clip>("clip");
                                     Tensor c = encode_text(gpu(ctx), clip, in.get_string("text"));
                                     return {make_value("CONDITIONING", Conditioning{{CondEntry{c, std::nullopt}}}, c.bytes())};
                                   }));

NodeRegistrar clip_set_last_layer(NodeDef("CLIPSetLastLayer")
                                      .display("CLIP Set Last Layer")
                                      .category("conditioning")
                                      .input("clip", "CLIP")
                                      .input_int("stop_at_clip_layer", -1, -24, -1, 1)
                                      .output("CLIP")
                                      .execute([](NodeContext&, const Inputs& in) -> Outputs {
                                        Clip c = in.get<Clip>("clip");
                                        int layer = int(in.get_int("stop_at_clip_layer"));
                                        if (-layer > c.ckpt->config.text.layers)
                                          throw std::invalid_argument("stop_at_clip_layer " + std::to_string(layer) +
                                                                      ": the text encoder has only " +
                                                                      std::to_string(c.ckpt->config.text.layers) + " layers");
                                        c.stop_at_layer = layer;
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
