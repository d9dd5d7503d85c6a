// Node schema: a node class is a short typed declaration, like ComfyUI's INPUT_TYPES + RETURN_TYPES +
// FUNCTION. Builder calls chain; modifiers (tooltip, optional) apply to the input declared last:
//
//   static vkf::graph::NodeRegistrar reg(vkf::graph::NodeDef("EmptyLatentImage")
//       .category("latent").input_int("width", 512, 16, 16384, 8).input_int("height", 512, 16, 16384, 8)
//       .input_int("batch_size", 1, 1, 4096).output("LATENT")
//       .execute([](vkf::graph::NodeContext& ctx, const vkf::graph::Inputs& in) -> vkf::graph::Outputs { ... }));
#pragma once
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/graph/file_inputs.h"
#include "engine/graph/paths.h"
#include "engine/graph/value.h"

namespace vkf::graph {

class NodeContext;
class Inputs;

// Literal ("widget") input types; everything else is a link type (MODEL, LATENT, ...; "*" matches any).
inline constexpr const char* kInt = "INT";
inline constexpr const char* kFloat = "FLOAT";
inline constexpr const char* kString = "STRING";
inline constexpr const char* kBoolean = "BOOLEAN";
inline constexpr const char* kCombo = "COMBO";
inline constexpr const char* kAny = "*";

struct InputSpec {
  std::string name;
  std::string type;  // kInt.. kCombo, or a link type
  bool optional = false;
  nlohmann::json default_value;    // null when none
  nlohmann::json min, max, step;   // null when none (JSON keeps INT exact up to 2^64-1)
  bool multiline = false;          // STRING
  std::string tooltip;
  std::vector<std::string> options;                        // COMBO, fixed
  std::function<std::vector<std::string>()> options_fn;    // COMBO, evaluated at schema/validation time
  std::optional<FileSource> files;                         // COMBO of the files in a folder of `Paths`
  bool output_prefix = false;  // STRING naming files written below Paths::output_dir (io/safe_path.h rules)

  bool is_widget() const;                    // a literal type (may still be fed by a link of the same type)
  // files->list(paths) for a file list, else options_fn() if set, else options.
  std::vector<std::string> combo_options(const Paths& paths) const;
  // ComfyUI form: ["INT", {...}] or [[options], {...}]; file lists show the files under `paths`.
  nlohmann::json object_info(const Paths& paths = {}) const;
};

struct OutputSpec {
  std::string type;
  std::string name;  // defaults to the type, as ComfyUI's RETURN_NAMES
  std::string tooltip;
};

using ExecuteFn = std::function<Outputs(NodeContext&, const Inputs&)>;
// VALIDATE_INPUTS: sees the literal (already coerced) inputs; returns "" when fine, else the problem.
using ValidateFn = std::function<std::string(const Inputs&)>;
// IS_CHANGED: sees the literal inputs and the context (paths); its result joins the cache signature, so
// e.g. LoadImage returns the file's mtime and re-runs when the file changes.
using IsChangedFn = std::function<std::string(const NodeContext&, const Inputs&)>;

class NodeDef {
 public:
  explicit NodeDef(std::string class_type);

  NodeDef& display(std::string name);
  NodeDef& category(std::string c);
  NodeDef& description(std::string d);

  NodeDef& input_int(std::string name, nlohmann::json def, nlohmann::json min = nullptr, nlohmann::json max = nullptr,
                     nlohmann::json step = 1);
  NodeDef& input_float(std::string name, double def, nlohmann::json min = nullptr, nlohmann::json max = nullptr,
                       nlohmann::json step = 0.01);
  NodeDef& input_string(std::string name, std::string def = "", bool multiline = false);
  NodeDef& input_bool(std::string name, bool def);
  NodeDef& input_combo(std::string name, std::vector<std::string> options, std::string def = "");
  // Options listed when asked (e.g. the registered samplers); `def` is the default when not empty.
  NodeDef& input_combo(std::string name, std::function<std::vector<std::string>()> options_fn, std::string def = "");
  // A COMBO of the files in a folder of the run, e.g. .input_files("ckpt_name", FileSource::models("checkpoints")).
  NodeDef& input_files(std::string name, FileSource source);
  NodeDef& input(std::string name, std::string link_type);  // MODEL, CLIP, LATENT, ..., or kAny
  NodeDef& tooltip(std::string text);  // on the last input
  NodeDef& output_prefix();            // the last (STRING) input names files below the output folder
  NodeDef& optional();                 // the last input may be left out

  NodeDef& output(std::string type, std::string name = "", std::string tooltip = "");
  NodeDef& output_node(bool v = true);   // a sink: the executor runs it and its ancestors
  NodeDef& not_cacheable();              // re-run every time (and so everything downstream)
  NodeDef& is_changed(IsChangedFn fn);
  NodeDef& validate(ValidateFn fn);
  NodeDef& execute(ExecuteFn fn);

  const std::string& class_type() const { return class_type_; }
  const std::string& display_name() const { return display_name_.empty() ? class_type_ : display_name_; }
  const std::string& category_name() const { return category_; }
  const std::string& description_text() const { return description_; }
  const std::vector<InputSpec>& inputs() const { return inputs_; }
  const std::vector<OutputSpec>& outputs() const { return outputs_; }
  const InputSpec* find_input(const std::string& name) const;
  bool is_output_node() const { return output_node_; }
  bool is_cacheable() const { return cacheable_; }
  const IsChangedFn& is_changed_fn() const { return is_changed_; }
  const ValidateFn& validate_fn() const { return validate_; }
  const ExecuteFn& execute_fn() const { return execute_; }

  nlohmann::json object_info(const Paths& paths = {}) const;  // one entry of ComfyUI's /object_info

 private:
  InputSpec& add(std::string name, std::string type);
  InputSpec& last(const char* what);

  std::string class_type_, display_name_, category_ = "utils", description_;
  std::vector<InputSpec> inputs_;
  std::vector<OutputSpec> outputs_;
  bool output_node_ = false, cacheable_ = true;
  IsChangedFn is_changed_;
  ValidateFn validate_;
  ExecuteFn execute_;
};

}  // namespace vkf::graph
