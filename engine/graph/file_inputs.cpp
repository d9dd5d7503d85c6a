#include "engine/graph/file_inputs.h"

#include <algorithm>
#include <cctype>

#include "engine/models/model_paths.h"

namespace vkf::graph {

namespace fs = std::filesystem;

namespace {

std::string lower_ext(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return ext;
}

}  // namespace

bool is_image_file_name(const fs::path& p) {
  static const char* const kExts[] = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tga",
                                      ".psd", ".hdr", ".pic", ".pnm", ".ppm", ".pgm"};
  const std::string ext = lower_ext(p);
  return std::any_of(std::begin(kExts), std::end(kExts), [&](const char* e) { return ext == e; });
}

FileSource FileSource::models(std::string folder) { return FileSource(Root::Models, std::move(folder)); }
FileSource FileSource::input_images() { return FileSource(Root::Input, ""); }

fs::path FileSource::dir(const Paths& paths) const {
  return root_ == Root::Models ? paths.models_dir / folder_ : paths.input_dir;
}

std::vector<std::string> FileSource::list(const Paths& paths) const {
  if (root_ == Root::Models) return models::list_model_files(paths.models_dir, folder_);
  return models::list_files_below(paths.input_dir, is_image_file_name);
}

std::string FileSource::describe(const Paths& paths) const {
  const fs::path d = dir(paths);
  std::error_code ec;
  const char* option = root_ == Root::Models ? "--models-dir" : "--input-dir";
  if (!fs::is_directory(d, ec)) return "folder " + d.string() + " does not exist; pass " + option + " or an absolute path";
  return std::string(root_ == Root::Models ? "the .safetensors files" : "the image files") + " below " + d.string();
}

}  // namespace vkf::graph
