// Image nodes: LoadImage, SaveImage, PreviewImage, ImageScale, ImageInvert. IMAGE is [B,H,W,C] f32.
#include <cmath>
#include <filesystem>

#include "engine/graph/registry.h"
#include "engine/io/png.h"
#include "engine/io/safe_path.h"
#include "engine/ops/image_scale.h"
#include "engine/ops/lincomb.h"
#include "nodes/value_types.h"

namespace vkf::nodes {
namespace {

using namespace graph;
namespace fs = std::filesystem;

fs::path resolve_input(const NodeContext& ctx, const std::string& name) {
  return io::resolve_inside(ctx.paths().input_dir, name, io::PathAccess::Read, ctx.paths().allow_absolute_inputs);
}

// Writes every image of the batch as PNG with the graph embedded (ComfyUI's "prompt" tEXt chunk).
void save_batch(NodeContext& ctx, const Image& img, const fs::path& dir, const std::string& prefix, const char* type) {
  auto& g = gpu(ctx);
  const Tensor& t = img.pixels;
  const int64_t B = t.dim(0), H = t.dim(1), W = t.dim(2), C = t.dim(3);
  if (C != 1 && C != 3 && C != 4) throw std::invalid_argument("images must have 1, 3 or 4 channels, got " + std::to_string(C));
  auto data = to_host(g, t);
  std::vector<std::pair<std::string, std::string>> text;
  if (!ctx.prompt().is_null()) text.emplace_back("prompt", ctx.prompt().dump());
  if (ctx.extra_pnginfo().is_object())
    for (auto& [k, v] : ctx.extra_pnginfo().items()) text.emplace_back(k, v.dump());
  const size_t n = size_t(H * W * C);
  for (int64_t b = 0; b < B; ++b) {
    std::vector<uint8_t> px(n);
    for (size_t i = 0; i < n; ++i) {
      float v = 255.0f * data[size_t(b) * n + i];  // ComfyUI: np.clip(255*x, 0, 255).astype(uint8) truncates
      px[i] = uint8_t(std::isnan(v) ? 0.0f : std::clamp(v, 0.0f, 255.0f));
    }
    auto png = io::encode_png(px, int(W), int(H), int(C), text);
    ctx.add_image(io::save_numbered_png(dir, prefix, png), type);
  }
}

NodeRegistrar load_image(
    NodeDef("LoadImage")
        .display("Load Image")
        .category("image")
        .description("Loads a PNG/JPEG from the input folder (or an absolute path). MASK is 1 - alpha.")
        .input_files("image", FileSource::input_images())
        .tooltip("image file in the input folder (sub-folders as 'sub/x.png'), or an absolute path")
        .output("IMAGE")
        .output("MASK")
        .is_changed([](const NodeContext& ctx, const Inputs& in) {
          std::error_code ec;
          if (io::path_problem(ctx.paths().input_dir, in.get_string("image"), io::PathAccess::Read,
                               ctx.paths().allow_absolute_inputs))
            return std::string("refused");  // validation reports it
          auto t = fs::last_write_time(resolve_input(ctx, in.get_string("image")), ec);
          return ec ? std::string("missing") : std::to_string(t.time_since_epoch().count());
        })
        .execute([](NodeContext& ctx, const Inputs& in) -> Outputs {
          auto file = resolve_input(ctx, in.get_string("image"));
          auto img = io::load_image(file, ctx.limits().max_image_pixels);
          auto& g = gpu(ctx);
          const int64_t H = img.height, W = img.width;
          std::vector<float> rgb(size_t(H * W * 3)), mask(size_t(H * W), 0.0f);
          for (int64_t i = 0; i < H * W; ++i) {
            for (int c = 0; c < 3; ++c) rgb[size_t(i * 3 + c)] = img.rgba[size_t(i * 4 + c)];
            if (img.channels == 4 || img.channels == 2) mask[size_t(i)] = 1.0f - img.rgba[size_t(i * 4 + 3)];
          }
          Tensor pix = from_host(g, {1, H, W, 3}, rgb);
          Tensor m = from_host(g, {1, H, W}, mask);
          return {make_value("IMAGE", Image{pix}, pix.bytes()), make_value("MASK", Mask{m}, m.bytes())};
        }));

NodeRegistrar save_image(NodeDef("SaveImage")
                             .display("Save Image")
                             .category("image")
                             .description("Saves PNGs <prefix>_00001_.png to the output folder, graph embedded.")
                             .input("images", "IMAGE")
                             .input_string("filename_prefix", "ComfyUI")
                             .output_prefix()
                             .output_node()
                             .execute([](NodeContext& ctx, const Inputs& in) -> Outputs {
                               save_batch(ctx, in.get<Image>("images"), ctx.paths().output_dir,
                                          in.get_string("filename_prefix"), "output");
                               return {};
                             }));

NodeRegistrar preview_image(NodeDef("PreviewImage")
                                .display("Preview Image")
                                .category("image")
                                .description("Saves the images to the temp folder for viewing.")
                                .input("images", "IMAGE")
                                .output_node()
                                .execute([](NodeContext& ctx, const Inputs& in) -> Outputs {
                                  save_batch(ctx, in.get<Image>("images"), ctx.paths().temp_dir, "ComfyUI_temp", "temp");
                                  return {};
                                }));

NodeRegistrar image_scale(
    NodeDef("ImageScale")
        .display("Upscale Image")
        .category("image/upscaling")
        .input("image", "IMAGE")
        .input_combo("upscale_method", ops::scale_mode_names(), "nearest-exact")
        .input_int("width", 512, 0, 16384, 1)
        .input_int("height", 512, 0, 16384, 1)
        .input_combo("crop", {"disabled", "center"}, "disabled")
        .output("IMAGE")
        .execute([](NodeContext& ctx, const Inputs& in) -> Outputs {
          const Tensor& src = in.get<Image>("image").pixels;
          int64_t w = in.get_int("width"), h = in.get_int("height");
          if (w == 0 && h == 0) return {in.value("image")};
          // ComfyUI: a zero side keeps the aspect ratio.
          if (w == 0) w = std::max<int64_t>(1, int64_t(std::llround(double(src.dim(2)) * double(h) / double(src.dim(1)))));
          if (h == 0) h = std::max<int64_t>(1, int64_t(std::llround(double(src.dim(1)) * double(w) / double(src.dim(2)))));
          vk::Recorder rec(gpu(ctx));
          Tensor o = ops::image_scale(rec, src, h, w, ops::parse_scale_mode(in.get_string("upscale_method")),
                                      in.get_string("crop") == "center");
          rec.submit();
          return {make_value("IMAGE", Image{o}, o.bytes())};
        }));

NodeRegistrar image_invert(NodeDef("ImageInvert")
                               .display("Invert Image")
                               .category("image")
                               .input("image", "IMAGE")
                               .output("IMAGE")
                               .execute([](NodeContext& ctx, const Inputs& in) -> Outputs {
                                 const Tensor& src = in.get<Image>("image").pixels;
                                 vk::Recorder rec(gpu(ctx));
                                 Tensor o = ops::lincomb(rec, {{-1.0f, &src}}, 1.0f);
                                 rec.submit();
                                 return {make_value("IMAGE", Image{o}, o.bytes())};
                               }));

}  // namespace
}  // namespace vkf::nodes
