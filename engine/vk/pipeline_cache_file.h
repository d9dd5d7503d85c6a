// The on-disk form of the driver's VkPipelineCache: one file per (vendor, device, driver version,
// pipelineCacheUUID) under the user's cache dir, wrapped in a small vkflow header (magic, identity, size,
// checksum) so a truncated, foreign or garbage file is recognised and ignored before the driver sees it.
// Written atomically (temp file + rename), so concurrent processes never read half a file.
#pragma once
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace vkf::vk {

// What a cache blob must match to be handed to the driver.
struct CacheIdentity {
  uint32_t vendor_id = 0, device_id = 0, driver_version = 0;
  uint8_t uuid[16] = {};
};

// Folder for cache files: `override_dir` if non-empty, else $VKFLOW_PIPELINE_CACHE_DIR, else
// $XDG_CACHE_HOME/vkflow, else $HOME/.cache/vkflow; empty when none can be determined.
std::filesystem::path pipeline_cache_dir(const std::filesystem::path& override_dir);

// File name keyed by the identity (a different driver or device never reads another's file).
std::string pipeline_cache_file_name(const CacheIdentity& id);

// The file's bytes wrapped around a driver blob, and back. unwrap returns the blob, or nullopt with `why`
// set (bad magic, truncated, checksum, foreign device/driver, malformed Vulkan header).
std::vector<char> wrap_pipeline_cache(const CacheIdentity& id, const std::vector<char>& blob);
std::optional<std::vector<char>> unwrap_pipeline_cache(const CacheIdentity& id, const std::vector<char>& file,
                                                       std::string& why);

// Writes `bytes` to `path` through a temp file in the same folder and a rename; false on any failure
// (the old file, if any, is left intact).
bool write_file_atomically(const std::filesystem::path& path, const std::vector<char>& bytes);

}  // namespace vkf::vk
