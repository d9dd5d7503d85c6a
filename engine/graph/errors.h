// Exceptions of the graph layer. Every message names the node (id + class) and the input when one is known,
// so a user can find the offending box in the editor or the line in the JSON.
#pragma once
#include <stdexcept>
#include <string>

namespace vkf::graph {

// Base of everything the graph layer throws.
struct GraphError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Malformed graph JSON (syntax or structure); line/column are 1-based, 0 when unknown.
struct ParseError : GraphError {
  ParseError(const std::string& msg, size_t line_ = 0, size_t column_ = 0)
      : GraphError(msg), line(line_), column(column_) {}
  size_t line, column;
};

// A Value read as the wrong type (Value::get<T>, Inputs::get_int, ...).
struct ValueTypeError : GraphError {
  using GraphError::GraphError;
};

// Thrown by NodeContext::check_cancel(); the executor reports execution_interrupted.
struct Interrupted : GraphError {
  Interrupted() : GraphError("execution interrupted") {}
};

// An error raised while executing one node: the executor wraps any exception in this.
struct NodeExecutionError : GraphError {
  NodeExecutionError(std::string node, std::string cls, const std::string& msg)
      : GraphError("node " + node + " (" + cls + "): " + msg), node_id(std::move(node)), class_type(std::move(cls)),
        message(msg) {}
  std::string node_id, class_type, message;
};

}  // namespace vkf::graph
