// Reads the text chunks of a PNG (tEXt, zTXt, iTXt): ComfyUI and vkflow store the graph there as "prompt"
// (API format) and "workflow" (UI format).
#pragma once
#include <filesystem>
#include <map>
#include <string>

namespace vkf::io {

// keyword -> text. Throws std::runtime_error naming the file when it is unreadable or not a PNG; a
// damaged chunk ends the scan (the chunks read so far are returned). Chunks stop at IDAT/IEND.
std::map<std::string, std::string> read_png_text(const std::filesystem::path& file);

}  // namespace vkf::io
