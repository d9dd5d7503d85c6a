// Literal ("widget") values: conversion of a JSON literal to an input's type the way ComfyUI's
// validate_inputs does (Python int()/float()/str()), and the min/max/list checks that follow it.
#pragma once
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/graph/schema.h"
#include "engine/graph/value.h"

namespace vkf::graph {

// Converts `v` for `spec` (INT, FLOAT, STRING, BOOLEAN, COMBO). Returns nullopt and the reason in `why`
// when the conversion fails (ComfyUI's invalid_input_type). As Python: INT from a float truncates toward
// zero, INT/FLOAT from a numeric string parse it ("12", " 1e3 "), STRING from a number prints it.
// Deviations: null is refused everywhere; BOOLEAN from a string accepts only "true"/"false" (Python's
// bool("false") is True). COMBO takes strings only (checked against the list by check_literal).
std::optional<Value> coerce_literal(const InputSpec& spec, const nlohmann::json& v, std::string* why);

struct LiteralProblem {
  std::string type;     // value_smaller_than_min, value_bigger_than_max, value_not_in_list
  std::string message;  // ComfyUI's text, e.g. "Value 0 smaller than min of 1"
  std::string details;
};

// Range and list checks of an already coerced literal; options_fn exceptions propagate. File-list inputs
// are checked against the files under `paths`; an absolute path passes when it names an existing file.
std::optional<LiteralProblem> check_literal(const InputSpec& spec, const Value& v, const Paths& paths);

// Link type compatibility as ComfyUI's validate_node_input: equal, either side "*", or comma-separated
// type sets that intersect ("IMAGE,MASK" accepts "MASK"). A COMBO input also accepts STRING.
bool types_match(const std::string& received, const std::string& expected);

}  // namespace vkf::graph
