// ComfyUI-style model folders: loaders look files up under <models-dir>/<folder>/ ("checkpoints", "vae",
// "loras"), sub-folders allowed ("sd15/model.safetensors"), or take an absolute path as is.
#pragma once
#include <filesystem>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace vkf::models {

// A model name that cannot be resolved (not found, escapes its folder, empty); the message names the
// file and the folder looked in.
struct ModelPathError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// `name` when it is absolute (not checked here: opening it reports a missing file); otherwise
// <models_dir>/<folder>/<name>, which must exist. Names with ".." components are refused so a graph
// cannot reach outside the models folder.
std::filesystem::path resolve_model_file(const std::filesystem::path& models_dir, std::string_view folder,
                                         const std::string& name);

// Regular files below `dir` (recursive, symlinked folders followed up to a depth cap) that `keep` accepts,
// relative to `dir` with '/' separators, sorted; empty when `dir` is not a folder.
std::vector<std::string> list_files_below(const std::filesystem::path& dir,
                                          const std::function<bool(const std::filesystem::path&)>& keep);

// Every .safetensors file below <models_dir>/<folder> (recursively), as names relative to that folder
// with '/' separators, sorted; empty when the folder does not exist.
std::vector<std::string> list_model_files(const std::filesystem::path& models_dir, std::string_view folder);

}  // namespace vkf::models
