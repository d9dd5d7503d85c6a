// Validation before anything runs. Every problem is reported at once, in ComfyUI's vocabulary:
//   invalid_prompt (entry without class_type), missing_node_type (unknown class_type),
//   required_input_missing, bad_linked_input (malformed link, missing node, output index out of range),
//   return_type_mismatch, invalid_input_type, value_smaller_than_min, value_bigger_than_max,
//   value_not_in_list, custom_validation_failed (a node's validate() hook), exception_during_validation,
//   dependency_cycle, prompt_no_outputs.
// As ComfyUI, inputs are checked on the output nodes and their ancestors only (a stray node that would not
// run is not an error); when the graph has no output node, every node is checked.
// File-list inputs (checkpoint / VAE / input image names) are checked against the files under the Paths
// given, so a missing file is value_not_in_list before anything runs.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/graph/graph.h"
#include "engine/graph/paths.h"
#include "engine/graph/registry.h"

namespace vkf::graph {

struct ValidationError {
  std::string type;     // one of the names above
  std::string message;  // ComfyUI's message, e.g. "Required input is missing"
  std::string details;  // e.g. the input name, "steps: '0' ..."
  std::string node_id, class_type, input_name;  // empty when not about one node / input
  std::string to_string() const;  // `node 3 (KSampler) input 'steps': value_smaller_than_min: Value 0 ...`
};

struct ValidationResult {
  std::vector<ValidationError> errors;
  std::vector<std::string> outputs;  // ids of the output nodes (id order)
  bool ok() const { return errors.empty(); }
  std::string to_string() const;     // one line per error
  // ComfyUI's /prompt error body: {"error": {type, message, details}, "node_errors": {id: {errors,
  // dependent_outputs, class_type}}}.
  nlohmann::json to_json() const;
};

// File-list inputs (checkpoints, input images) are checked against the files under `paths`.
ValidationResult validate(const Graph& g, const Registry& reg = Registry::instance(), const Paths& paths = {});
inline ValidationResult validate(const Graph& g, const Paths& paths) { return validate(g, Registry::instance(), paths); }

}  // namespace vkf::graph
