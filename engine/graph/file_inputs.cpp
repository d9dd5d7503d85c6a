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

// Image files below `dir`, relative with '/', sorted (as models::list_model_files does for models).
std::vector<std::string> list_images(const fs::path& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  constexpr int kMaxDepth = 16;  // symlinked folders are followed; the cap stops loops
  fs::recursive_directory_iterator it(
      dir, fs::directory_options::follow_directory_symlink | fs::directory_options::skip_permission_denied, ec);
  for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it.depth() >= kMaxDepth) it.disable_recursion_pending();
    std::error_code fe;
    if (!it->is_regular_file(fe) || !is_image_file_name(it->path())) continue;
    out.push_back(it->path().lexically_relative(dir).generic_string());
  }
  std::sort(out.begin(), out.end());
  return out;
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
  return root_ == Root::Models ? models::list_model_files(paths.models_dir, folder_) : list_images(paths.input_dir);
}

std::string FileSource::describe(const Paths& paths) const {
  const fs::path d = dir(paths);
  std::error_code ec;
  const char* option = root_ == Root::Models ? "--models-dir" : "--input-dir";
  if (!fs::is_directory(d, ec)) return "folder " + d.string() + " does not exist; pass " + option + " or an absolute path";
  return std::string(root_ == Root::Models ? "the .safetensors files" : "the image files") + " below " + d.string();
}

}  // namespace vkf::graph
