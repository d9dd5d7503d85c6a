#include "engine/graph/node_context.h"

namespace vkf::graph {

ValueTypeError Inputs::error(const std::string& name, const std::string& what) const {
  return ValueTypeError("node " + node_ + " (" + class_ + ") input '" + name + "': " + what);
}

const Value& Inputs::value(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) throw error(name, "not supplied");
  return it->second;
}

template <class F>
decltype(auto) Inputs::read(const std::string& name, F f) const {
  const Value& v = value(name);
  try {
    return f(v);
  } catch (const ValueTypeError& e) {
    throw error(name, e.what());
  }
}

int64_t Inputs::get_int(const std::string& name) const { return read(name, [](const Value& v) { return v.as_int(); }); }
uint64_t Inputs::get_uint64(const std::string& name) const {
  return read(name, [](const Value& v) { return v.as_uint64(); });
}
double Inputs::get_float(const std::string& name) const { return read(name, [](const Value& v) { return v.as_float(); }); }
const std::string& Inputs::get_string(const std::string& name) const {
  return read(name, [](const Value& v) -> const std::string& { return v.as_string(); });
}
bool Inputs::get_bool(const std::string& name) const { return read(name, [](const Value& v) { return v.as_bool(); }); }

NodeContext::NodeContext(std::string node_id, std::string class_type, const RunEnv& env, const nlohmann::json& prompt,
                         const nlohmann::json& extra_pnginfo, size_t index, size_t total)
    : node_(std::move(node_id)), class_(std::move(class_type)), env_(env), prompt_(prompt),
      extra_pnginfo_(extra_pnginfo), index_(index), total_(total) {}

void NodeContext::progress(uint64_t value, uint64_t max, std::shared_ptr<const sampling::PreviewImage> preview) {
  if (!env_.on_event) return;
  Event e(EventType::Progress);
  e.node = node_;
  e.class_type = class_;
  e.value = value;
  e.max = max;
  e.preview = std::move(preview);
  e.index = index_;
  e.total = total_;
  env_.on_event(e);
}

bool NodeContext::cancelled() const { return env_.cancel && env_.cancel->load(std::memory_order_relaxed); }

void NodeContext::check_cancel() const {
  if (cancelled()) throw Interrupted();
}

void NodeContext::ui_append(const std::string& key, nlohmann::json item) {
  if (!ui_.contains(key) || !ui_[key].is_array()) ui_[key] = nlohmann::json::array();
  ui_[key].push_back(std::move(item));
}

void NodeContext::add_image(const std::filesystem::path& file, const std::string& type) {
  namespace fs = std::filesystem;
  const fs::path& base = type == "temp" ? env_.paths.temp_dir : env_.paths.output_dir;
  std::error_code ec;
  fs::path abs_file = fs::absolute(file, ec), abs_base = fs::absolute(base, ec);
  fs::path rel = abs_file.lexically_relative(abs_base);
  std::string subfolder;
  if (!rel.empty() && *rel.begin() != "..") subfolder = rel.parent_path().generic_string();
  else subfolder = abs_file.parent_path().string();  // outside the folder: keep it findable
  ui_append("images", {{"filename", file.filename().string()}, {"subfolder", subfolder}, {"type", type}});
}

std::filesystem::path ui_image_path(const nlohmann::json& image, const Paths& paths) {
  namespace fs = std::filesystem;
  std::string type = image.value("type", "output"), sub = image.value("subfolder", "");
  fs::path base = type == "temp" ? paths.temp_dir : type == "input" ? paths.input_dir : paths.output_dir;
  fs::path s(sub);
  fs::path dir = s.is_absolute() ? s : base / s;
  return (dir / image.value("filename", "")).lexically_normal();
}

}  // namespace vkf::graph
