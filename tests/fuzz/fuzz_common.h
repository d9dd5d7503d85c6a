// Shared by the libFuzzer targets (tests/fuzz/fuzz_*.cpp, built by -DVKFLOW_FUZZ=ON): a scratch file for
// parsers that take a path, and a node registry declared like the real nodes (same input kinds: ranged
// INT/FLOAT, STRING, BOOLEAN, COMBO, file lists, output prefixes, links) whose execute() never runs, so the
// graph fuzzers validate without linking any GPU code.
#pragma once
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "engine/graph/paths.h"
#include "engine/graph/registry.h"

namespace vkf::fuzz {

// A per-process folder under /dev/shm (tmpfs) when present: every exec rewrites its file.
inline const std::filesystem::path& scratch_dir() {
  static const std::filesystem::path dir = [] {
    std::filesystem::path base = std::filesystem::exists("/dev/shm") ? "/dev/shm" : std::filesystem::temp_directory_path();
    auto d = base / ("vkflow_fuzz_" + std::to_string(getpid()));
    std::filesystem::create_directories(d);
    return d;
  }();
  return dir;
}

inline std::filesystem::path write_scratch(const std::string& name, std::string_view bytes) {
  auto p = scratch_dir() / name;
  std::ofstream(p, std::ios::binary | std::ios::trunc).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return p;
}

inline graph::Paths scratch_paths() {
  graph::Paths p;
  p.models_dir = scratch_dir() / "models";
  p.input_dir = scratch_dir() / "input";
  p.output_dir = scratch_dir() / "output";
  p.temp_dir = scratch_dir() / "temp";
  p.allow_absolute_inputs = false;  // as the server
  return p;
}

inline const graph::Registry& registry() {
  using graph::NodeDef, graph::FileSource;
  static const graph::Registry reg = [] {
    graph::Registry r;
    auto never = [](graph::NodeContext&, const graph::Inputs&) -> graph::Outputs { return {}; };
    r.add(NodeDef("CheckpointLoaderSimple").input_files("ckpt_name", FileSource::models("checkpoints"))
              .output("MODEL").output("CLIP").output("VAE").execute(never));
    r.add(NodeDef("CLIPTextEncode").input_string("text", "", true).input("clip", "CLIP").output("CONDITIONING")
              .execute(never));
    r.add(NodeDef("EmptyLatentImage").input_int("width", 512, 16, 16384, 8).input_int("height", 512, 16, 16384, 8)
              .input_int("batch_size", 1, 1, 4096).output("LATENT").execute(never));
    r.add(NodeDef("KSampler").input("model", "MODEL").input_int("seed", 0, 0, nlohmann::json(UINT64_MAX))
              .input_int("steps", 20, 1, 10000).input_float("cfg", 8.0, 0.0, 100.0, 0.1)
              .input_combo("sampler_name", {"euler", "euler_ancestral", "dpmpp_2m"}, "euler")
              .input_combo("scheduler", std::function<std::vector<std::string>()>([] {
                return std::vector<std::string>{"normal", "karras"};
              }))
              .input("positive", "CONDITIONING").input("negative", "CONDITIONING").input("latent_image", "LATENT")
              .input_float("denoise", 1.0, 0.0, 1.0).output("LATENT").execute(never));
    r.add(NodeDef("VAEDecode").input("samples", "LATENT").input("vae", "VAE").output("IMAGE").execute(never));
    r.add(NodeDef("LoadImage").input_files("image", FileSource::input_images()).output("IMAGE").output("MASK")
              .execute(never));
    r.add(NodeDef("ImageScale").input("image", "IMAGE").input_combo("crop", {"disabled", "center"}, "disabled")
              .input_bool("flag", false).optional().output("IMAGE").execute(never));
    r.add(NodeDef("SaveImage").input("images", "IMAGE").input_string("filename_prefix", "ComfyUI").output_prefix()
              .output_node().execute(never));
    r.add(NodeDef("PreviewAny").input("source", "*").output_node()
              .validate([](const graph::Inputs&) { return std::string(); }).execute(never));
    return r;
  }();
  return reg;
}

}  // namespace vkf::fuzz
