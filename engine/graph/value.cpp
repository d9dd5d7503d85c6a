#include "engine/graph/value.h"

namespace vkf::graph {

namespace {
const char* kind_name(Value::Kind k) {
  switch (k) {
    case Value::Kind::None: return "nothing";
    case Value::Kind::Int: return "INT";
    case Value::Kind::Float: return "FLOAT";
    case Value::Kind::String: return "STRING";
    case Value::Kind::Bool: return "BOOLEAN";
    case Value::Kind::Object: return "object";
  }
  return "?";
}
}  // namespace

std::string Value::type() const { return kind_ == Kind::Object ? type_ : kind_ == Kind::None ? "" : kind_name(kind_); }

static ValueTypeError wrong(const Value& v, const char* want) {
  return ValueTypeError(std::string("expected ") + want + ", got " + v.describe());
}

int64_t Value::as_int() const {
  if (kind_ != Kind::Int) throw wrong(*this, "INT");
  if (big_unsigned_) throw ValueTypeError("INT " + std::to_string(static_cast<uint64_t>(i_)) + " does not fit int64 (read it with as_uint64)");
  return i_;
}

uint64_t Value::as_uint64() const {
  if (kind_ != Kind::Int) throw wrong(*this, "INT");
  return static_cast<uint64_t>(i_);  // negative seeds wrap like torch.manual_seed
}

double Value::as_float() const {
  if (kind_ == Kind::Float) return f_;
  if (kind_ == Kind::Int) return big_unsigned_ ? double(static_cast<uint64_t>(i_)) : double(i_);
  throw wrong(*this, "FLOAT");
}

const std::string& Value::as_string() const {
  if (kind_ != Kind::String) throw wrong(*this, "STRING");
  return s_;
}

bool Value::as_bool() const {
  if (kind_ != Kind::Bool) throw wrong(*this, "BOOLEAN");
  return b_;
}

void Value::check_object(std::type_index want, const char* want_name) const {
  if (kind_ != Kind::Object) throw wrong(*this, want_name);
  if (tid_ != want)
    throw ValueTypeError("object of graph type " + type_ + " holds C++ type " + tid_.name() + ", not " + want_name);
  if (!obj_) throw ValueTypeError("object of graph type " + type_ + " is empty");
}

size_t Value::bytes() const {
  if (kind_ == Kind::Object) return bytes_ ? bytes_ : sizeof(Value);
  return sizeof(Value) + s_.size();
}

nlohmann::json Value::to_json() const {
  switch (kind_) {
    case Kind::None: return nullptr;
    case Kind::Int: return big_unsigned_ ? nlohmann::json(static_cast<uint64_t>(i_)) : nlohmann::json(i_);
    case Kind::Float: return f_;
    case Kind::String: return s_;
    case Kind::Bool: return b_;
    case Kind::Object: return {{"type", type_}};
  }
  return nullptr;
}

std::string Value::describe() const {
  switch (kind_) {
    case Kind::None: return "nothing";
    case Kind::Object: return type_ + " object";
    case Kind::String: return "STRING \"" + (s_.size() > 40 ? s_.substr(0, 40) + "..." : s_) + "\"";
    default: return type() + " " + to_json().dump();
  }
}

}  // namespace vkf::graph
