#include "engine/io/png_text.h"

#include <zlib.h>

#include <cstring>
#include <algorithm>
#include <fstream>
#include <stdexcept>
#include <vector>

namespace vkf::io {
namespace {

uint32_t be32(const unsigned char* p) { return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3]; }

// zlib inflate with an output cap (a text chunk is a graph, not a bomb).
bool inflate_text(const unsigned char* data, size_t n, std::string& out, size_t cap = size_t(256) << 20) {
  z_stream zs{};
  if (inflateInit(&zs) != Z_OK) return false;
  zs.next_in = const_cast<unsigned char*>(data);
  zs.avail_in = uInt(n);
  char buf[65536];
  int r;
  do {
    zs.next_out = reinterpret_cast<unsigned char*>(buf);
    zs.avail_out = sizeof buf;
    r = inflate(&zs, Z_NO_FLUSH);
    if (r != Z_OK && r != Z_STREAM_END) break;
    out.append(buf, sizeof buf - zs.avail_out);
    if (out.size() > cap) break;
  } while (r != Z_STREAM_END);
  inflateEnd(&zs);
  return r == Z_STREAM_END;
}

}  // namespace

std::map<std::string, std::string> read_png_text(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + file.string());
  unsigned char sig[8];
  static const unsigned char kSig[8] = {137, 80, 78, 71, 13, 10, 26, 10};
  if (!in.read(reinterpret_cast<char*>(sig), 8) || std::memcmp(sig, kSig, 8) != 0)
    throw std::runtime_error(file.string() + " is not a PNG file");
  std::error_code ec;
  const uint64_t file_size = std::filesystem::file_size(file, ec);
  if (ec) throw std::runtime_error("cannot read " + file.string());
  std::map<std::string, std::string> out;
  for (;;) {
    unsigned char hdr[8];
    if (!in.read(reinterpret_cast<char*>(hdr), 8)) break;
    uint32_t len = be32(hdr);
    std::string type(reinterpret_cast<char*>(hdr + 4), 4);
    // A length beyond the file's end is a damaged chunk: stop before allocating it (up to 4 GiB, zeroed).
    const auto at = in.tellg();
    if (type == "IDAT" || type == "IEND" || at < 0 || uint64_t(len) + 4 > file_size - uint64_t(at)) break;
    bool text = type == "tEXt" || type == "zTXt" || type == "iTXt";
    if (!text) {
      in.seekg(std::streamoff(len) + 4, std::ios::cur);
      continue;
    }
    std::vector<unsigned char> d(len);
    if (len && !in.read(reinterpret_cast<char*>(d.data()), len)) break;
    in.seekg(4, std::ios::cur);  // CRC
    auto nul = std::find(d.begin(), d.end(), 0);
    if (nul == d.end()) continue;
    std::string key(d.begin(), nul);
    size_t p = size_t(nul - d.begin()) + 1;
    std::string value;
    if (type == "tEXt") {
      value.assign(d.begin() + long(p), d.end());
    } else if (type == "zTXt") {
      if (p + 1 > d.size() || !inflate_text(d.data() + p + 1, d.size() - p - 1, value)) continue;
    } else {  // iTXt: flag, method, language\0, translated keyword\0, text
      if (p + 2 > d.size()) continue;
      bool compressed = d[p] != 0;
      size_t q = p + 2;
      for (int skip = 0; skip < 2; ++skip) {
        auto z = std::find(d.begin() + long(q), d.end(), 0);
        if (z == d.end()) { q = d.size() + 1; break; }
        q = size_t(z - d.begin()) + 1;
      }
      if (q > d.size()) continue;
      if (compressed) {
        if (!inflate_text(d.data() + q, d.size() - q, value)) continue;
      } else {
        value.assign(d.begin() + long(q), d.end());
      }
    }
    out[key] = std::move(value);
  }
  return out;
}

}  // namespace vkf::io
