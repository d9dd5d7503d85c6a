#include "engine/io/png.h"

#include "engine/io/safe_path.h"

#include <stb/stb_image.h>
#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <stdexcept>

extern "C" unsigned char* stbi_write_png_to_mem(const unsigned char* pixels, int stride_bytes, int x, int y, int n,
                                                int* out_len);  // exported by libstb, not declared in its header

namespace vkf::io {

namespace {
// Width and height from a PNG's IHDR (signature, length, "IHDR", big-endian width and height), for the
// PNGs stb_image refuses to describe: it fails stbi_info for one over 2^30 decoded bytes ("too large"),
// which is exactly a PNG over any pixel limit. False when not a PNG or the header is short.
bool png_header_size(const std::filesystem::path& file, uint64_t& w, uint64_t& h) {
  std::ifstream in(file, std::ios::binary);
  unsigned char b[24];
  static const unsigned char kSig[8] = {137, 80, 78, 71, 13, 10, 26, 10};
  if (!in.read(reinterpret_cast<char*>(b), 24) || std::memcmp(b, kSig, 8) != 0 || std::memcmp(b + 12, "IHDR", 4) != 0)
    return false;
  auto be32 = [&](int at) { return uint64_t(b[at]) << 24 | uint64_t(b[at + 1]) << 16 | uint64_t(b[at + 2]) << 8 | b[at + 3]; };
  w = be32(16);
  h = be32(20);
  return w > 0 && h > 0;
}
}  // namespace

std::optional<ImageInfo> image_info(const std::filesystem::path& file) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) return std::nullopt;
  ImageInfo i;
  if (stbi_info(file.c_str(), &i.width, &i.height, &i.channels) && i.width > 0 && i.height > 0) return i;
  uint64_t w = 0, h = 0;
  if (!png_header_size(file, w, h) || w > uint64_t(INT32_MAX) || h > uint64_t(INT32_MAX)) return std::nullopt;
  return ImageInfo{int(w), int(h), 4};
}

namespace {
// For a PNG, why its chunk table is damaged: a chunk whose length runs past the end of the file, which
// stb_image would allocate (up to 2 GiB for IDAT) before finding the file short. "" when fine or not a PNG.
std::string png_chunk_problem(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  unsigned char b[8];
  static const unsigned char kSig[8] = {137, 80, 78, 71, 13, 10, 26, 10};
  if (!in.read(reinterpret_cast<char*>(b), 8) || std::memcmp(b, kSig, 8) != 0) return "";
  std::error_code ec;
  const uint64_t size = std::filesystem::file_size(file, ec);
  if (ec) return "";
  uint64_t at = 8;
  std::string last = "the signature";
  while (at + 8 <= size && in.seekg(std::streamoff(at)) && in.read(reinterpret_cast<char*>(b), 8)) {
    const uint64_t len = uint64_t(b[0]) << 24 | uint64_t(b[1]) << 16 | uint64_t(b[2]) << 8 | b[3];
    const std::string type(reinterpret_cast<char*>(b + 4), 4);
    if (type == "IEND") return "";  // its CRC may be missing: stb_image does not read it
    if (len + 12 > size - at)
      return "damaged PNG: chunk '" + type + "' of " + std::to_string(len) + " bytes runs past the end of the file (" +
             std::to_string(size) + " bytes)";
    at += len + 12;
    last = "chunk '" + type + "'";
  }
  // stb_image fails such a file with an empty reason; say what is wrong.
  return "truncated PNG: the file (" + std::to_string(size) + " bytes) ends after " + last + " without an IEND chunk";
}
}  // namespace

DecodedImage load_image(const std::filesystem::path& file, uint64_t max_pixels) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) throw std::runtime_error(file.string() + ": image file not found");
  int w = 0, h = 0, n = 0;
  uint64_t hw = 0, hh = 0;
  if (stbi_info(file.c_str(), &w, &h, &n)) {
    hw = uint64_t(w), hh = uint64_t(h);
  } else if (!png_header_size(file, hw, hh)) {  // (a PNG stb calls "too large" is sized from its IHDR)
    if (std::filesystem::file_size(file, ec) == 0 && !ec) throw std::runtime_error(file.string() + ": empty file (0 bytes), not an image");
    throw std::runtime_error(file.string() + ": not a readable image (" + stbi_failure_reason() + ")");
  }
  if (hw * hh > max_pixels)
    throw std::runtime_error(file.string() + ": image of " + std::to_string(hw) + "x" + std::to_string(hh) + " (" +
                             std::to_string(hw * hh) + " pixels) exceeds the limit of " + std::to_string(max_pixels) +
                             " pixels (--max-image-pixels)");
  if (auto why = png_chunk_problem(file); !why.empty()) throw std::runtime_error(file.string() + ": " + why);
  std::unique_ptr<unsigned char, void (*)(void*)> data(stbi_load(file.c_str(), &w, &h, &n, 4), stbi_image_free);
  if (!data) {
    const char* why = stbi_failure_reason();
    throw std::runtime_error(file.string() + ": cannot decode image (" + (why && *why ? why : "damaged data") + ")");
  }
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
  // The prefix may contain sub-folders, as in ComfyUI, but never leave `dir` (symlinks resolved).
  fs::path full = resolve_inside(dir, prefix, PathAccess::Write);
  fs::path folder = full.parent_path();
  std::string base = full.filename().string();
  if (base.empty() || base == ".") throw std::runtime_error("filename_prefix '" + prefix + "' has no file name");
  fs::create_directories(folder);
  if (!is_within(dir, folder)) throw UnsafePathError("'" + prefix + "' is outside the folder " + dir.string());
  // First free counter after the highest present (ComfyUI's rule); names with absurd counters are ignored.
  long counter = 1;
  const std::string head = base + "_", tail = "_.png";
  for (auto& e : fs::directory_iterator(folder)) {
    std::string name = e.path().filename().string();
    if (name.size() <= head.size() + tail.size() || name.compare(0, head.size(), head) != 0 ||
        name.compare(name.size() - tail.size(), tail.size(), tail) != 0)
      continue;
    std::string digits = name.substr(head.size(), name.size() - head.size() - tail.size());
    if (digits.size() < 5 || digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string::npos) continue;
    counter = std::max(counter, std::stol(digits) + 1);
  }
  fs::path tmp = write_temp_file(folder, base, png);
  // link() creates the final name only if it does not exist, so concurrent writers (processes or
  // threads) never overwrite each other, and the name appears with the complete file. Bounded: a folder
  // cannot make this loop forever.
  for (int attempt = 0; attempt < 100000 && counter <= 999999999; ++attempt, ++counter) {
    char num[32];
    std::snprintf(num, sizeof num, "_%05ld_.png", counter);
    fs::path target = folder / (base + num);
    if (::link(tmp.c_str(), target.c_str()) == 0) {
      fs::remove(tmp);
      return target;
    }
    if (errno != EEXIST) {
      int err = errno;
      std::error_code ec;
      fs::remove(tmp, ec);
      throw std::runtime_error("cannot create " + target.string() + ": " + std::strerror(err));
    }
  }
  std::error_code ec;
  fs::remove(tmp, ec);
  throw std::runtime_error("no free file name for prefix '" + prefix + "' in " + folder.string());
}

std::filesystem::path write_temp_file(const std::filesystem::path& folder, const std::string& base,
                                      const std::vector<uint8_t>& bytes) {
  static std::atomic<unsigned> seq{0};
  for (int attempt = 0; attempt < 1000; ++attempt) {
    std::filesystem::path tmp = folder / ("." + base + "." + std::to_string(::getpid()) + "." +
                                          std::to_string(seq.fetch_add(1)) + ".tmp");
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
      if (errno == EEXIST) continue;
      throw std::runtime_error("cannot create " + tmp.string() + ": " + std::strerror(errno));
    }
    size_t done = 0;
    while (done < bytes.size()) {
      ssize_t w = ::write(fd, bytes.data() + done, bytes.size() - done);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) break;
      done += size_t(w);
    }
    int err = done == bytes.size() ? 0 : errno;
    if (!err && ::fsync(fd) != 0) err = errno;
    ::close(fd);
    if (err || done != bytes.size()) {
      ::unlink(tmp.c_str());
      throw std::runtime_error("cannot write " + tmp.string() + ": " + std::strerror(err ? err : EIO));
    }
    return tmp;
  }
  throw std::runtime_error("cannot create a temporary file in " + folder.string());
}

}  // namespace vkf::io
