// ComfyUI-style model folders (engine/models/model_paths.h): lookup under <models-dir>/<folder>, sub-folders,
// absolute paths, '..' refused, and the listing used by `vkflow nodes` / editors.
#include <catch2/catch.hpp>

#include <fstream>

#include "engine/models/model_paths.h"
#include "tests/support/temp_dir.h"

using namespace vkf;
namespace fs = std::filesystem;

namespace {
void touch(const fs::path& p) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << "x";
}
bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

// The message of the ModelPathError that resolve_model_file throws.
std::string error_of(const fs::path& dir, std::string_view folder, const std::string& name) {
  try {
    models::resolve_model_file(dir, folder, name);
  } catch (const models::ModelPathError& e) {
    return e.what();
  }
  FAIL("no error for '" << name << "' in " << folder);
  return "";
}
}  // namespace

TEST_CASE("model paths: list_model_files is recursive, relative, .safetensors only, sorted", "[cpu][models][model_paths]") {
  test::TempDir d("model_paths");
  touch(d / "checkpoints/z.safetensors");
  touch(d / "checkpoints/sd15/b.safetensors");
  touch(d / "checkpoints/a.SAFETENSORS");
  touch(d / "checkpoints/notes.txt");
  touch(d / "checkpoints/old.ckpt");
  touch(d / "checkpoints/z.json");
  fs::create_directories(d / "checkpoints/empty.safetensors.d");
  touch(d / "vae/v.safetensors");
  CHECK(models::list_model_files(d.path(), "checkpoints") ==
        std::vector<std::string>{"a.SAFETENSORS", "sd15/b.safetensors", "z.safetensors"});
  CHECK(models::list_model_files(d.path(), "vae") == std::vector<std::string>{"v.safetensors"});
  CHECK(models::list_model_files(d.path(), "loras").empty());  // no such folder
  CHECK(models::list_model_files(d / "nowhere", "vae").empty());
}

TEST_CASE("model paths: resolve_model_file finds names, sub-folders and absolute paths", "[cpu][models][model_paths]") {
  test::TempDir d("model_paths");
  touch(d / "checkpoints/a.safetensors");
  touch(d / "checkpoints/sd15/b.safetensors");
  touch(d / "vae/v.safetensors");
  CHECK(models::resolve_model_file(d.path(), "checkpoints", "a.safetensors") == d / "checkpoints/a.safetensors");
  CHECK(models::resolve_model_file(d.path(), "checkpoints", "sd15/b.safetensors") == d / "checkpoints/sd15/b.safetensors");
  CHECK(models::resolve_model_file(d.path(), "vae", "v.safetensors") == d / "vae/v.safetensors");
  // Absolute paths are taken as they are (opening them reports a missing file).
  CHECK(models::resolve_model_file(d.path(), "vae", (d / "checkpoints/a.safetensors").string()) ==
        d / "checkpoints/a.safetensors");
  CHECK(models::resolve_model_file(d.path(), "vae", "/no/such/file.safetensors") == "/no/such/file.safetensors");
}

TEST_CASE("model paths: missing files, '..' and folders are refused with clear messages", "[cpu][models][model_paths]") {
  test::TempDir d("model_paths");
  touch(d / "checkpoints/a.safetensors");
  touch(d / "checkpoints/sd15/b.safetensors");
  SECTION("not found: names the file, the folder looked in, what is there, and what to do") {
    const auto m = error_of(d.path(), "checkpoints", "zz.safetensors");
    CHECK(contains(m, "checkpoint 'zz.safetensors' not found"));
    CHECK(contains(m, "looked in " + (d / "checkpoints").string()));
    CHECK(contains(m, "a.safetensors, sd15/b.safetensors"));
    CHECK(contains(m, "pass --models-dir or an absolute path"));
  }
  SECTION("a folder that does not exist says so") {
    const auto m = error_of(d.path(), "vae", "v.safetensors");
    CHECK(contains(m, "VAE 'v.safetensors' not found"));
    CHECK(contains(m, (d / "vae").string()));
    CHECK(contains(m, "does not exist"));
  }
  SECTION("'..' components cannot leave the folder") {
    touch(d / "vae/v.safetensors");
    for (const std::string n : {"../checkpoints/a.safetensors", "sd15/../../vae/v.safetensors", ".."}) {
      const auto m = error_of(d.path(), "checkpoints", n);
      CHECK(contains(m, "'" + n + "'"));
      CHECK(contains(m, "'..'"));
    }
  }
  SECTION("a folder and an empty name") {
    CHECK(contains(error_of(d.path(), "checkpoints", "sd15"), "is a folder"));
    CHECK(contains(error_of(d.path(), "loras", ""), "no LoRA name given"));
  }
}
