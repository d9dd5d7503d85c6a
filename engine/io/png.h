// PNG/JPEG files for IMAGE values: decode with stb_image, encode PNG (8-bit RGB/RGBA) with text chunks
// (ComfyUI embeds the graph as tEXt "prompt"), written atomically without overwriting existing files.
#pragma once
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace vkf::io {

struct DecodedImage {
  int width = 0, height = 0, channels = 0;  // channels of the file (1..4)
  std::vector<float> rgba;                  // height*width*4 in [0,1]
};

// Throws naming the file when it is missing, not an image, or larger than `max_pixels`.
DecodedImage load_image(const std::filesystem::path& file, uint64_t max_pixels = uint64_t(1) << 28);

struct ImageInfo {
  int width = 0, height = 0, channels = 0;
};

// The size from the file's header alone (nothing decoded), or nullopt when it is not a readable image.
std::optional<ImageInfo> image_info(const std::filesystem::path& file);

// 8-bit PNG bytes of rgb(a) [h,w,c] data already in 0..255, plus tEXt chunks after IHDR.
std::vector<uint8_t> encode_png(const std::vector<uint8_t>& pixels, int width, int height, int channels,
                                const std::vector<std::pair<std::string, std::string>>& text);

// A new hidden file `.<base>.<pid>.<n>.tmp` in `folder` (created with O_EXCL) holding `bytes`, fsynced.
std::filesystem::path write_temp_file(const std::filesystem::path& folder, const std::string& base,
                                      const std::vector<uint8_t>& bytes);

// Writes `<dir>/<prefix>_NNNNN_.png` with the first free counter (never overwrites: the final name is
// created with link(), which fails if it exists). Returns the path. No partial file is ever visible.
// Throws io::UnsafePathError when the prefix would leave `dir` (see safe_path.h).
std::filesystem::path save_numbered_png(const std::filesystem::path& dir, const std::string& prefix,
                                        const std::vector<uint8_t>& png);

}  // namespace vkf::io
