// Latent nodes: EmptyLatentImage.
#include "engine/graph/registry.h"
#include "nodes/value_types.h"

namespace vkf::nodes {
namespace {

using namespace graph;

// Latent channels / downsample factor are those of SD1.x VAEs (4, 8), as ComfyUI's EmptyLatentImage.
constexpr int kLatentChannels = 4;
constexpr int kMaxLatentElements = 1 << 28;  // 1 GiB of f32: anything larger is refused, not attempted

NodeRegistrar empty_latent(
    NodeDef("EmptyLatentImage")
        .display("Empty Latent Image")
        .category("latent")
        .description("Zero latents of the given pixel size (÷8) for txt2img.")
        .input_int("width", 512, 16, 16384, 8)
        .input_int("height", 512, 16, 16384, 8)
        .input_int("batch_size", 1, 1, 4096)
        .output("LATENT")
        .execute([](NodeContext& ctx, const Inputs& in) -> Outputs {
          int64_t w = in.get_int("width") / 8, h = in.get_int("height") / 8, b = in.get_int("batch_size");
          if (double(w) * double(h) * double(b) * kLatentChannels > kMaxLatentElements)
            throw std::invalid_argument("latent of " + std::to_string(b) + "x" + std::to_string(kLatentChannels) + "x" +
                                        std::to_string(h) + "x" + std::to_string(w) + " is too large");
          auto& g = gpu(ctx);
          Tensor t = empty(g, {b, kLatentChannels, h, w}, DType::F32);
          std::vector<float> zeros(size_t(t.numel()), 0.0f);
          upload(g, t, zeros);
          return {make_value("LATENT", Latent{t, std::nullopt}, t.bytes())};
        }));

}  // namespace
}  // namespace vkf::nodes
