// The folders of a run (ComfyUI's folder_paths): where loaders look for models, LoadImage for inputs, and
// output nodes write. Relative paths resolve against the working directory, as `vkflow run` defaults.
#pragma once
#include <filesystem>

namespace vkf::graph {

struct Paths {
  std::filesystem::path models_dir = "models";
  std::filesystem::path output_dir = "output";
  std::filesystem::path input_dir = "input";
  std::filesystem::path temp_dir = std::filesystem::temp_directory_path() / "vkflow";
  // File inputs (models, LoadImage) may name an absolute path: the CLI user does so on purpose. A server
  // turns this off, so requests only reach files below the folders above (io/safe_path.h).
  bool allow_absolute_inputs = true;
};

}  // namespace vkf::graph
