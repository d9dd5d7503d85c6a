#include "engine/graph/schema.h"

#include <stdexcept>

namespace vkf::graph {

bool InputSpec::is_widget() const {
  return type == kInt || type == kFloat || type == kString || type == kBoolean || type == kCombo;
}

std::vector<std::string> InputSpec::combo_options(const Paths& paths) const {
  if (files) return files->list(paths);
  return options_fn ? options_fn() : options;
}

nlohmann::json InputSpec::object_info(const Paths& paths) const {
  nlohmann::json opts = nlohmann::json::object();
  if (!default_value.is_null()) opts["default"] = default_value;
  if (!min.is_null()) opts["min"] = min;
  if (!max.is_null()) opts["max"] = max;
  if (!step.is_null()) opts["step"] = step;
  if (type == kString) opts["multiline"] = multiline;
  if (!tooltip.empty()) opts["tooltip"] = tooltip;
  nlohmann::json head = type;
  if (type == kCombo) {
    try {
      head = combo_options(paths);
    } catch (const std::exception&) {
      head = nlohmann::json::array();  // e.g. a models folder that is missing: validation reports it
    }
  }
  if (opts.empty()) return nlohmann::json::array({head});
  return nlohmann::json::array({head, opts});
}

NodeDef::NodeDef(std::string class_type) : class_type_(std::move(class_type)) {
  if (class_type_.empty()) throw std::logic_error("NodeDef: empty class_type");
}

NodeDef& NodeDef::display(std::string name) { display_name_ = std::move(name); return *this; }
NodeDef& NodeDef::category(std::string c) { category_ = std::move(c); return *this; }
NodeDef& NodeDef::description(std::string d) { description_ = std::move(d); return *this; }

InputSpec& NodeDef::add(std::string name, std::string type) {
  if (find_input(name)) throw std::logic_error("NodeDef " + class_type_ + ": input '" + name + "' declared twice");
  inputs_.push_back(InputSpec{});
  inputs_.back().name = std::move(name);
  inputs_.back().type = std::move(type);
  return inputs_.back();
}

InputSpec& NodeDef::last(const char* what) {
  if (inputs_.empty()) throw std::logic_error("NodeDef " + class_type_ + ": " + what + "() before any input");
  return inputs_.back();
}

NodeDef& NodeDef::input_int(std::string name, nlohmann::json def, nlohmann::json min, nlohmann::json max,
                            nlohmann::json step) {
  auto& s = add(std::move(name), kInt);
  s.default_value = std::move(def);
  s.min = std::move(min);
  s.max = std::move(max);
  s.step = std::move(step);
  return *this;
}

NodeDef& NodeDef::input_float(std::string name, double def, nlohmann::json min, nlohmann::json max,
                              nlohmann::json step) {
  auto& s = add(std::move(name), kFloat);
  s.default_value = def;
  s.min = std::move(min);
  s.max = std::move(max);
  s.step = std::move(step);
  return *this;
}

NodeDef& NodeDef::input_string(std::string name, std::string def, bool multiline) {
  auto& s = add(std::move(name), kString);
  s.default_value = std::move(def);
  s.multiline = multiline;
  return *this;
}

NodeDef& NodeDef::input_bool(std::string name, bool def) {
  add(std::move(name), kBoolean).default_value = def;
  return *this;
}

NodeDef& NodeDef::input_combo(std::string name, std::vector<std::string> options, std::string def) {
  auto& s = add(std::move(name), kCombo);
  s.options = std::move(options);
  if (!def.empty()) s.default_value = std::move(def);
  return *this;
}

NodeDef& NodeDef::input_combo(std::string name, std::function<std::vector<std::string>()> options_fn,
                              std::string def) {
  auto& s = add(std::move(name), kCombo);
  s.options_fn = std::move(options_fn);
  if (!def.empty()) s.default_value = std::move(def);
  return *this;
}

NodeDef& NodeDef::input_files(std::string name, FileSource source) {
  add(std::move(name), kCombo).files = std::move(source);
  return *this;
}

NodeDef& NodeDef::input(std::string name, std::string link_type) {
  add(std::move(name), std::move(link_type));
  return *this;
}

NodeDef& NodeDef::tooltip(std::string text) { last("tooltip").tooltip = std::move(text); return *this; }
NodeDef& NodeDef::output_prefix() { last("output_prefix").output_prefix = true; return *this; }
NodeDef& NodeDef::optional() { last("optional").optional = true; return *this; }

NodeDef& NodeDef::output(std::string type, std::string name, std::string tooltip) {
  if (name.empty()) name = type;
  outputs_.push_back(OutputSpec{std::move(type), std::move(name), std::move(tooltip)});
  return *this;
}

NodeDef& NodeDef::output_node(bool v) { output_node_ = v; return *this; }
NodeDef& NodeDef::not_cacheable() { cacheable_ = false; return *this; }
NodeDef& NodeDef::is_changed(IsChangedFn fn) { is_changed_ = std::move(fn); return *this; }
NodeDef& NodeDef::validate(ValidateFn fn) { validate_ = std::move(fn); return *this; }
NodeDef& NodeDef::execute(ExecuteFn fn) { execute_ = std::move(fn); return *this; }

const InputSpec* NodeDef::find_input(const std::string& name) const {
  for (auto& s : inputs_)
    if (s.name == name) return &s;
  return nullptr;
}

nlohmann::json NodeDef::object_info(const Paths& paths) const {
  nlohmann::json req = nlohmann::json::object(), opt = nlohmann::json::object();
  nlohmann::json req_order = nlohmann::json::array(), opt_order = nlohmann::json::array();
  for (auto& s : inputs_) {
    (s.optional ? opt : req)[s.name] = s.object_info(paths);
    (s.optional ? opt_order : req_order).push_back(s.name);
  }
  nlohmann::json input = {{"required", req}};
  if (!opt.empty()) input["optional"] = opt;
  nlohmann::json order = {{"required", req_order}};
  if (!opt_order.empty()) order["optional"] = opt_order;

  nlohmann::json out = nlohmann::json::array(), names = nlohmann::json::array(), is_list = nlohmann::json::array(),
                 tips = nlohmann::json::array();
  for (auto& o : outputs_) {
    out.push_back(o.type);
    names.push_back(o.name);
    is_list.push_back(false);
    tips.push_back(o.tooltip);
  }
  return {{"input", input},
          {"input_order", order},
          {"output", out},
          {"output_is_list", is_list},
          {"output_name", names},
          {"output_tooltips", tips},
          {"name", class_type_},
          {"display_name", display_name()},
          {"description", description_},
          {"python_module", "vkflow"},
          {"category", category_},
          {"output_node", output_node_}};
}

}  // namespace vkf::graph
