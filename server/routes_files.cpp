// File-facing routes: /view, /upload/image, /object_info, /models, /embeddings, /system_stats.
#include <fcntl.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include <stb/stb_image.h>

#include "engine/graph/registry.h"
#include "engine/models/model_paths.h"
#include "server/app.h"
#include "server/device_stats.h"
#include "server/safe_path.h"

namespace vkf::server {
using nlohmann::json;
namespace fs = std::filesystem;

namespace {
std::string mime_of(const fs::path& p) {
  std::string e = p.extension().string();
  for (auto& c : e) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (e == ".png") return "image/png";
  if (e == ".jpg" || e == ".jpeg") return "image/jpeg";
  if (e == ".webp") return "image/webp";
  if (e == ".gif") return "image/gif";
  if (e == ".json") return "application/json";
  if (e == ".txt") return "text/plain";
  return "application/octet-stream";
}

// Width and height from a PNG's IHDR (signature, length, "IHDR", then big-endian width and height).
bool png_header_size(std::string_view d, uint64_t& w, uint64_t& h) {
  if (d.size() < 24 || d.substr(0, 8) != std::string_view("\x89PNG\r\n\x1a\n", 8) || d.substr(12, 4) != "IHDR") return false;
  auto be32 = [&](size_t at) {
    uint64_t v = 0;
    for (size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(d[at + i]);
    return v;
  };
  w = be32(16);
  h = be32(20);
  return w > 0 && h > 0;
}

const fs::path* dir_of_type(const AppOptions& o, const std::string& type) {
  if (type == "output") return &o.paths.output_dir;
  if (type == "input") return &o.paths.input_dir;
  if (type == "temp") return &o.paths.temp_dir;
  return nullptr;
}

// Writes `data` to a temp file in `dir`, then gives it its final name: rename() when overwriting, link()
// (fails if the name exists) otherwise, so no reader ever sees a partial file. False when `final` exists
// and overwrite is off.
bool write_atomic(const fs::path& final, const std::string& data, bool overwrite) {
  fs::path tmp = final.parent_path() / (".upload-" + std::to_string(::getpid()) + "-XXXXXX");
  std::string t = tmp.string();
  int fd = ::mkstemp(t.data());
  if (fd < 0) throw std::runtime_error("cannot create a temp file in " + final.parent_path().string());
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n <= 0) {
      ::close(fd);
      ::unlink(t.c_str());
      throw std::runtime_error("write failed: " + final.string());
    }
    off += static_cast<size_t>(n);
  }
  ::fsync(fd);
  ::close(fd);
  int rc = overwrite ? ::rename(t.c_str(), final.c_str()) : ::link(t.c_str(), final.c_str());
  int err = errno;
  if (!overwrite || rc != 0) ::unlink(t.c_str());
  if (rc != 0 && !overwrite && err == EEXIST) return false;
  if (rc != 0) throw std::runtime_error("cannot write " + final.string());
  return true;
}
// Whether `p` is a regular file holding exactly `data`.
bool same_contents(const fs::path& p, const std::string& data) {
  std::error_code ec;
  if (!fs::is_regular_file(p, ec) || fs::file_size(p, ec) != data.size() || ec) return false;
  std::ifstream f(p, std::ios::binary);
  std::string have(data.size(), '\0');
  return f.read(have.data(), std::streamsize(have.size())) && have == data;
}
}  // namespace

Response App::view(const Request&, const Target& t) {
  auto fn = t.query.find("filename");
  if (fn == t.query.end() || fn->second.empty())
    return json_response(400, {{"error", "filename is required"}});
  std::string type = t.query.count("type") ? t.query.at("type") : "output";
  std::string sub = t.query.count("subfolder") ? t.query.at("subfolder") : "";
  const fs::path* base = dir_of_type(opt_, type);
  if (!base) return json_response(400, {{"error", "type must be output, input or temp"}});
  auto pc = resolve_under(*base, sub, fn->second);
  if (pc.status) return json_response(pc.status, {{"error", pc.reason}});
  std::error_code ec;
  if (!fs::is_regular_file(pc.path, ec)) return json_response(404, {{"error", "not found"}});
  std::ifstream f(pc.path, std::ios::binary);
  std::ostringstream ss;
  ss << f.rdbuf();
  auto r = text_response(200, ss.str(), mime_of(pc.path));
  r.headers.emplace_back("Content-Disposition", "filename=\"" + pc.path.filename().string() + "\"");
  return r;
}

Response App::upload(const Request& req) {
  auto bad = [&](int st, const std::string& msg) { return json_response(st, {{"error", msg}}); };
  auto parts = parse_multipart(req.header("content-type"), req.body);
  if (!parts) return bad(400, "expected a multipart/form-data body");
  const FormPart* image = nullptr;
  std::string type = "input", sub;
  bool overwrite = false;
  for (auto& p : *parts) {
    if (p.name == "image") image = &p;
    else if (p.name == "type") type = p.data;
    else if (p.name == "subfolder") sub = p.data;
    else if (p.name == "overwrite") overwrite = p.data == "true" || p.data == "1";
  }
  if (!image || image->filename.empty()) return bad(400, "no image part with a filename");
  const fs::path* base = dir_of_type(opt_, type);
  if (!base) return bad(400, "type must be input, output or temp");
  if (image->filename.find('/') != std::string::npos) return bad(400, "'/' in filename");
  auto pc = resolve_under(*base, sub, image->filename);
  if (pc.status) return bad(pc.status, pc.reason);
  // Only the header is read (never the pixels), so a decompression bomb costs nothing to refuse.
  int w = 0, h = 0, c = 0;
  uint64_t pw = 0, ph = 0;
  if (stbi_info_from_memory(reinterpret_cast<const stbi_uc*>(image->data.data()), static_cast<int>(image->data.size()),
                            &w, &h, &c)) {
    pw = uint64_t(w), ph = uint64_t(h);
  } else if (!png_header_size(image->data, pw, ph)) {  // stb refuses a PNG over 2^30 bytes as undecodable
    return bad(400, "not a decodable image: " + image->filename);
  }
  if (pw > uint64_t(opt_.max_image_side) || ph > uint64_t(opt_.max_image_side) || pw * ph > opt_.max_image_pixels)
    return bad(413,
               "image " + std::to_string(pw) + "x" + std::to_string(ph) + " exceeds the decoded size limit");
  std::error_code ec;
  fs::create_directories(pc.path.parent_path(), ec);
  // Re-check after creating the folders: a symlinked subfolder must not lead outside.
  auto again = resolve_under(*base, sub, image->filename);
  if (again.status || again.path != pc.path) return bad(403, "path leaves its folder");
  fs::path target = pc.path;
  std::string name = image->filename;
  const std::string stem = pc.path.stem().string(), ext = pc.path.extension().string();
  for (int i = 1;; ++i) {
    // ComfyUI (#3465): the same bytes already under that name are not stored again; that name is answered.
    if (!overwrite && same_contents(target, image->data)) break;
    if (write_atomic(target, image->data, overwrite)) break;
    if (i > 9999) return bad(409, "no free name for " + image->filename);
    name = stem + " (" + std::to_string(i) + ")" + ext;  // ComfyUI's duplicate naming
    target = pc.path.parent_path() / name;
  }
  return json_response(200, {{"name", name}, {"subfolder", sub}, {"type", type}});
}

Response App::object_info(const Request&, const std::string& cls) {
  // The same code as `vkflow nodes --json`: the classes registered at the time asked.
  const auto& reg = *opt_.registry;
  json j = json::object();
  if (!cls.empty()) {
    if (reg.find(cls)) j[cls] = reg.get(cls).object_info(opt_.paths);
    return json_response(200, j);  // ComfyUI: {} for an unknown class
  }
  return json_response(200, reg.object_info(opt_.paths));
}

Response App::models(const Request&, const std::string& folder) {
  static const std::vector<std::string> kFolders = {"checkpoints", "vae", "loras", "embeddings"};
  auto strip = [](std::vector<std::string> v) {  // embeddings are listed without their extension
    for (auto& s : v) s = fs::path(s).replace_extension().string();
    return v;
  };
  if (folder == "\x01embeddings") return json_response(200, strip(models::list_model_files(opt_.paths.models_dir, "embeddings")));
  if (folder.empty()) return json_response(200, kFolders);
  if (std::find(kFolders.begin(), kFolders.end(), folder) == kFolders.end())
    return json_response(404, {{"error", "unknown model folder '" + folder + "'"}});
  return json_response(200, models::list_model_files(opt_.paths.models_dir, folder));
}

Response App::system_stats(const Request&) {
  struct sysinfo si {};
  ::sysinfo(&si);
  const uint64_t unit = si.mem_unit ? si.mem_unit : 1;
  json sys = {{"os", "posix"},
              {"ram_total", uint64_t(si.totalram) * unit},
              {"ram_free", uint64_t(si.freeram + si.bufferram) * unit},
              {"comfyui_version", "vkflow"},
              {"python_version", ""},
              {"pytorch_version", ""},
              {"embedded_python", false},
              {"argv", json::array({"vkflow", "serve"})}};
  // ComfyUI lists the one device it runs on; torch_vram_* (PyTorch's reserved pool) maps to this
  // process's own use of the heap where VK_EXT_memory_budget reports it.
  json dev = {{"name", "vulkan"}, {"type", "vulkan"}, {"index", 0}, {"vram_total", 0}, {"vram_free", 0},
              {"torch_vram_total", 0}, {"torch_vram_free", 0}};
  if (auto m = device_memory(opt_.device)) {
    dev["name"] = "vulkan:" + std::to_string(m->index) + " " + m->name;
    dev["index"] = m->index;
    dev["vram_total"] = m->total;
    dev["vram_free"] = m->free;
    dev["torch_vram_total"] = m->used;
    dev["vulkan_device_type"] = m->type;
    dev["vram_source"] = m->budget ? "VK_EXT_memory_budget" : "heap size";
  }
  return json_response(200, {{"system", sys}, {"devices", json::array({dev})}});
}

}  // namespace vkf::server
