#include "engine/models/model_paths.h"

#include <algorithm>
#include <functional>
#include <cctype>

namespace vkf::models {

namespace fs = std::filesystem;

namespace {

// What one file of `folder` is called in messages ("checkpoint 'x' not found").
std::string kind_of(std::string_view folder) {
  if (folder == "checkpoints") return "checkpoint";
  if (folder == "vae") return "VAE";
  if (folder == "loras") return "LoRA";
  return std::string(folder) + " file";
}

bool is_safetensors(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return ext == ".safetensors";
}

// "; it holds: a.safetensors, b.safetensors" (a few), or why the folder has nothing to offer.
std::string folder_hint(const fs::path& models_dir, std::string_view folder) {
  std::error_code ec;
  if (!fs::is_directory(models_dir / folder, ec)) return "; that folder does not exist";
  const auto files = list_model_files(models_dir, folder);
  if (files.empty()) return "; it holds no .safetensors files";
  constexpr size_t kShow = 5;
  std::string s = "; it holds: ";
  for (size_t i = 0; i < files.size() && i < kShow; ++i) s += (i ? ", " : "") + files[i];
  if (files.size() > kShow) s += ", ... (" + std::to_string(files.size()) + " files)";
  return s;
}

}  // namespace

fs::path resolve_model_file(const fs::path& models_dir, std::string_view folder, const std::string& name) {
  const std::string kind = kind_of(folder);
  if (name.empty()) throw ModelPathError("no " + kind + " name given (a file in " + (models_dir / folder).string() +
                                         " or an absolute path)");
  const fs::path p(name);
  if (p.is_absolute()) return p;
  for (const auto& part : p)
    if (part == "..")
      throw ModelPathError(kind + " name '" + name + "' contains '..': names are relative to " +
                           (models_dir / folder).string() + " (use an absolute path for files elsewhere)");
  const fs::path dir = models_dir / folder;
  const fs::path in_dir = dir / p;
  std::error_code ec;
  if (fs::is_regular_file(in_dir, ec)) return in_dir;
  if (fs::is_directory(in_dir, ec))
    throw ModelPathError(kind + " '" + name + "' is a folder, not a file (in " + dir.string() + ")");
  throw ModelPathError(kind + " '" + name + "' not found (looked in " + dir.string() + folder_hint(models_dir, folder) +
                       "; pass --models-dir or an absolute path)");
}

std::vector<std::string> list_files_below(const fs::path& dir, const std::function<bool(const fs::path&)>& keep) {
  std::vector<std::string> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  // Symlinked folders are followed (model collections are often linked in); the depth cap stops loops.
  constexpr int kMaxDepth = 16;
  fs::recursive_directory_iterator it(
      dir, fs::directory_options::follow_directory_symlink | fs::directory_options::skip_permission_denied, ec);
  for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it.depth() >= kMaxDepth) it.disable_recursion_pending();
    std::error_code fe;
    if (!it->is_regular_file(fe) || !keep(it->path())) continue;
    out.push_back(it->path().lexically_relative(dir).generic_string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> list_model_files(const fs::path& models_dir, std::string_view folder) {
  return list_files_below(models_dir / folder, is_safetensors);
}

}  // namespace vkf::models
