#include "engine/vk/pipeline_cache_file.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <system_error>

namespace vkf::vk {
namespace {
constexpr char kMagic[8] = {'V', 'K', 'F', 'P', 'C', 'A', 'C', 'H'};
constexpr uint32_t kVersion = 1;

// vkflow header: magic, version, identity, blob size, FNV-1a 64 of the blob.
struct FileHeader {
  char magic[8];
  uint32_t version;
  uint32_t vendor_id, device_id, driver_version;
  uint8_t uuid[16];
  uint64_t size;
  uint64_t checksum;
};
static_assert(sizeof(FileHeader) == 56);

uint64_t fnv1a(const char* p, size_t n) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; ++i) h = (h ^ uint8_t(p[i])) * 1099511628211ull;
  return h;
}

uint32_t u32_at(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
}  // namespace

std::filesystem::path pipeline_cache_dir(const std::filesystem::path& override_dir) {
  if (!override_dir.empty()) return override_dir;
  if (const char* d = std::getenv("VKFLOW_PIPELINE_CACHE_DIR"); d && *d) return d;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return std::filesystem::path(x) / "vkflow";
  if (const char* h = std::getenv("HOME"); h && *h) return std::filesystem::path(h) / ".cache" / "vkflow";
  return {};
}

std::string pipeline_cache_file_name(const CacheIdentity& id) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "pipelines_%04x_%04x_%08x_", id.vendor_id, id.device_id, id.driver_version);
  std::string s = buf;
  for (uint8_t b : id.uuid) {
    std::snprintf(buf, sizeof buf, "%02x", b);
    s += buf;
  }
  return s + ".bin";
}

std::vector<char> wrap_pipeline_cache(const CacheIdentity& id, const std::vector<char>& blob) {
  FileHeader h{};
  std::memcpy(h.magic, kMagic, 8);
  h.version = kVersion;
  h.vendor_id = id.vendor_id, h.device_id = id.device_id, h.driver_version = id.driver_version;
  std::memcpy(h.uuid, id.uuid, 16);
  h.size = blob.size();
  h.checksum = fnv1a(blob.data(), blob.size());
  std::vector<char> out(sizeof h + blob.size());
  std::memcpy(out.data(), &h, sizeof h);
  if (!blob.empty()) std::memcpy(out.data() + sizeof h, blob.data(), blob.size());
  return out;
}

std::optional<std::vector<char>> unwrap_pipeline_cache(const CacheIdentity& id, const std::vector<char>& file,
                                                       std::string& why) {
  FileHeader h{};
  if (file.size() < sizeof h) return why = "shorter than its header (truncated)", std::nullopt;
  std::memcpy(&h, file.data(), sizeof h);
  if (std::memcmp(h.magic, kMagic, 8) != 0) return why = "not a vkflow pipeline cache", std::nullopt;
  if (h.version != kVersion) return why = "format version " + std::to_string(h.version), std::nullopt;
  if (h.vendor_id != id.vendor_id || h.device_id != id.device_id || h.driver_version != id.driver_version ||
      std::memcmp(h.uuid, id.uuid, 16) != 0)
    return why = "made by another device or driver version", std::nullopt;
  if (h.size != file.size() - sizeof h) return why = "size does not match its header (truncated)", std::nullopt;
  const char* blob = file.data() + sizeof h;
  if (fnv1a(blob, size_t(h.size)) != h.checksum) return why = "checksum mismatch (corrupted)", std::nullopt;
  // The driver's own header (VkPipelineCacheHeaderVersionOne): length, version, vendor, device, UUID.
  if (h.size < 32) return why = "driver data shorter than a Vulkan pipeline cache header", std::nullopt;
  const uint32_t hdr_len = u32_at(blob), hdr_ver = u32_at(blob + 4);
  if (hdr_len < 32 || hdr_len > h.size || hdr_ver != 1 /* VK_PIPELINE_CACHE_HEADER_VERSION_ONE */)
    return why = "malformed Vulkan pipeline cache header", std::nullopt;
  if (u32_at(blob + 8) != id.vendor_id || u32_at(blob + 12) != id.device_id || std::memcmp(blob + 16, id.uuid, 16) != 0)
    return why = "Vulkan header names another device", std::nullopt;
  return std::vector<char>(blob, blob + h.size);
}

bool write_file_atomically(const std::filesystem::path& path, const std::vector<char>& bytes) {
  static std::atomic<unsigned> counter{0};
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  const auto tmp = path.parent_path() / (path.filename().string() + ".tmp." + std::to_string(::getpid()) + "." +
                                         std::to_string(counter++));
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) return false;
    f.write(bytes.data(), std::streamsize(bytes.size()));
    f.flush();
    if (!f) {
      f.close();
      std::filesystem::remove(tmp, ec);
      return false;
    }
  }
  std::filesystem::rename(tmp, path, ec);
  if (!ec) return true;
  std::filesystem::remove(tmp, ec);
  return false;
}

}  // namespace vkf::vk
