// File-list inputs: COMBO inputs whose options are the files of one of the run's folders, listed when
// asked (ComfyUI's folder_paths.get_filename_list) — checkpoints and VAEs under the models dir, images in
// the input dir. Options are names relative to that folder with '/' separators (sub-folders included).
// An absolute path to an existing file is accepted too (a vkflow extension, see check_literal).
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include "engine/graph/paths.h"

namespace vkf::graph {

class FileSource {
 public:
  // *.safetensors below <models_dir>/<folder> ("checkpoints", "vae", "loras").
  static FileSource models(std::string folder);
  // Images LoadImage decodes (stb_image: png, jpg, jpeg, bmp, gif, tga, psd, hdr, pic, pnm, ppm, pgm)
  // below the input dir.
  static FileSource input_images();

  std::filesystem::path dir(const Paths& paths) const;
  // Sorted; empty when the folder does not exist. Symlinked folders are followed (depth-capped).
  std::vector<std::string> list(const Paths& paths) const;
  // For messages: "the .safetensors files below models/checkpoints" or, when that folder is missing, why
  // nothing is listed and which option sets it.
  std::string describe(const Paths& paths) const;

 private:
  enum class Root { Models, Input };
  FileSource(Root root, std::string folder) : root_(root), folder_(std::move(folder)) {}
  Root root_;
  std::string folder_;  // under the models dir; empty for the input dir
};

// True for the file extensions FileSource::input_images() lists (case-insensitive).
bool is_image_file_name(const std::filesystem::path& p);

}  // namespace vkf::graph
