#include "engine/io/png.h"

#include <stb/stb_image.h>
#include <unistd.h>
#include <zlib.h>

#include <cstring>
#include <fstream>
#include <memory>
#include <regex>
#include <stdexcept>

extern "C" unsigned char* stbi_write_png_to_mem(const unsigned char* pixels, int stride_bytes, int x, int y, int n,
                                                int* out_len);  // exported by libstb, not declared in its header

namespace vkf::io {

DecodedImage load_image(const std::filesystem::path& file, uint64_t max_pixels) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) throw std::runtime_error(file.string() + ": image file not found");
  int w = 0, h = 0, n = 0;
  if (!stbi_info(file.c_str(), &w, &h, &n)) throw std::runtime_error(file.string() + ": not a readable image (" + stbi_failure_reason() + ")");
  if (uint64_t(w) * uint64_t(h) > max_pixels)
    throw std::runtime_error(file.string() + ": image of " + std::to_string(w) + "x" + std::to_string(h) + " is too large");
  std::unique_ptr<unsigned char, void (*)(void*)> data(stbi_load(file.c_str(), &w, &h, &n, 4), stbi_image_free);
  if (!data) throw std::runtime_error(file.string() + ": cannot decode image (" + stbi_failure_reason() + ")");
  DecodedImage img{w, h, n, std::vector<float>(size_t(w) * size_t(h) * 4)};
  for (size_t i = 0; i < img.rgba.size(); ++i) img.rgba[i] = float(data.get()[i]) / 255.0f;
  return img;
}

namespace {
void put_u32(std::vector<uint8_t>& v, uint32_t x) {
  for (int s = 24; s >= 0; s -= 8) v.push_back(uint8_t(x >> s));
}
}  // namespace

std::vector<uint8_t> encode_png(const std::vector<uint8_t>& pixels, int width, int height, int channels,
                                const std::vector<std::pair<std::string, std::string>>& text) {
  int len = 0;
  std::unique_ptr<unsigned char, void (*)(void*)> png(
      stbi_write_png_to_mem(pixels.data(), width * channels, width, height, channels, &len), free);
  if (!png || len < 33) throw std::runtime_error("PNG encoding failed");
  // signature (8) + IHDR chunk (4+4+13+4 = 25) come first; text chunks go right after IHDR.
  std::vector<uint8_t> out(png.get(), png.get() + 33);
  for (auto& [key, value] : text) {
    std::vector<uint8_t> chunk = {'t', 'E', 'X', 't'};
    chunk.insert(chunk.end(), key.begin(), key.end());
    chunk.push_back(0);
    chunk.insert(chunk.end(), value.begin(), value.end());
    put_u32(out, uint32_t(chunk.size() - 4));
    out.insert(out.end(), chunk.begin(), chunk.end());
    put_u32(out, uint32_t(crc32(0, chunk.data(), uInt(chunk.size()))));
  }
  out.insert(out.end(), png.get() + 33, png.get() + len);
  return out;
}

std::filesystem::path save_numbered_png(const std::filesystem::path& dir, const std::string& prefix,
                                        const std::vector<uint8_t>& png) {
  namespace fs = std::filesystem;
  fs::path full = dir / prefix;  // the prefix may contain subfolders, as in ComfyUI
  fs::path folder = full.parent_path();
  std::string base = full.filename().string();
  if (base.empty()) throw std::runtime_error("filename_prefix '" + prefix + "' has no file name");
  fs::create_directories(folder);
  int counter = 1;
  const std::regex pat("^" + std::regex_replace(base, std::regex(R"([.^$|()\[\]{}*+?\\])"), R"(\$&)") + R"(_(\d{5,})_\.png$)");
  for (auto& e : fs::directory_iterator(folder)) {
    std::smatch m;
    std::string name = e.path().filename().string();
    if (std::regex_match(name, m, pat)) counter = std::max(counter, std::stoi(m[1]) + 1);
  }
  fs::path tmp = folder / ("." + base + ".tmp" + std::to_string(::getpid()));
  {
    std::ofstream f(tmp, std::ios::binary);
    f.write(reinterpret_cast<const char*>(png.data()), std::streamsize(png.size()));
    if (!f.flush()) {
      std::error_code ec;
      fs::remove(tmp, ec);
      throw std::runtime_error("cannot write " + tmp.string());
    }
  }
  for (;; ++counter) {
    char num[32];
    std::snprintf(num, sizeof num, "_%05d_.png", counter);
    fs::path target = folder / (base + num);
    if (::link(tmp.c_str(), target.c_str()) == 0) {
      fs::remove(tmp);
      return target;
    }
    if (errno != EEXIST) {
      std::error_code ec;
      fs::remove(tmp, ec);
      throw std::runtime_error("cannot create " + target.string() + ": " + std::strerror(errno));
    }
  }
}

}  // namespace vkf::io
