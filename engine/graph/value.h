// Value: what flows on a link or sits in a widget. Either a literal (INT, FLOAT, STRING, BOOLEAN) or a
// typed, immutable, shared object (e.g. "LATENT", "MODEL") whose C++ type is checked on access, so GPU
// objects can travel through the graph layer without it knowing them.
#pragma once
#include <concepts>
#include <cstdint>
#include <memory>
#include <string>
#include <typeindex>
#include <typeinfo>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/graph/errors.h"

namespace vkf::graph {

class Value {
 public:
  enum class Kind { None, Int, Float, String, Bool, Object };

  Value() = default;
  template <std::integral I>
    requires(!std::same_as<I, bool>)
  Value(I v) : kind_(Kind::Int), i_(static_cast<int64_t>(v)) {
    if constexpr (std::is_unsigned_v<I>) big_unsigned_ = static_cast<uint64_t>(v) > uint64_t(INT64_MAX);
  }
  template <std::floating_point F>
  Value(F v) : kind_(Kind::Float), f_(static_cast<double>(v)) {}
  Value(bool v) : kind_(Kind::Bool), b_(v) {}
  Value(std::string v) : kind_(Kind::String), s_(std::move(v)) {}
  Value(const char* v) : kind_(Kind::String), s_(v) {}

  // A typed object: `type` is the graph type name ("LATENT"); `bytes` an estimate of the memory it keeps
  // alive (host or device), used to bound the output cache.
  template <class T>
  static Value object(std::string type, std::shared_ptr<T> obj, size_t bytes = 0) {
    Value v;
    v.kind_ = Kind::Object;
    v.type_ = std::move(type);
    v.tid_ = std::type_index(typeid(std::remove_cv_t<T>));
    v.obj_ = std::shared_ptr<const void>(std::move(obj));
    v.bytes_ = bytes;
    return v;
  }

  Kind kind() const { return kind_; }
  bool is_none() const { return kind_ == Kind::None; }
  bool is_object() const { return kind_ == Kind::Object; }
  // Graph type name: "INT", "FLOAT", "STRING", "BOOLEAN", the object's type, or "" for None.
  std::string type() const;

  // Literal access; each throws ValueTypeError on another kind. as_float accepts an Int (FLOAT from int,
  // as ComfyUI). as_int throws for an unsigned value above INT64_MAX; as_uint64 reads it (seeds go to 2^64-1).
  int64_t as_int() const;
  uint64_t as_uint64() const;
  double as_float() const;
  const std::string& as_string() const;
  bool as_bool() const;

  // Object access, checked against both the graph type's C++ type: throws ValueTypeError naming both.
  template <class T>
  const T& get() const {
    return *get_shared<T>();
  }
  template <class T>
  std::shared_ptr<const T> get_shared() const {
    check_object(std::type_index(typeid(std::remove_cv_t<T>)), typeid(T).name());
    return std::static_pointer_cast<const T>(obj_);
  }
  // True when this holds an object of C++ type T.
  template <class T>
  bool holds() const {
    return kind_ == Kind::Object && tid_ == std::type_index(typeid(std::remove_cv_t<T>));
  }

  size_t bytes() const;                    // reported size for objects, a small estimate for literals
  // What a viewer shows about the value on a link: set by the node family that made it (tensors: shape
  // and dtype, e.g. "samples [1,4,8,8] f32"); empty when none was given.
  const std::string& summary() const { return summary_; }
  Value& with_summary(std::string s) {
    summary_ = std::move(s);
    return *this;
  }
  nlohmann::json to_json() const;          // literals as JSON; objects as {"type": T}
  std::string describe() const;            // short text for messages: `INT 42`, `LATENT object`

 private:
  void check_object(std::type_index want, const char* want_name) const;

  Kind kind_ = Kind::None;
  int64_t i_ = 0;
  bool big_unsigned_ = false;  // i_ holds the bit pattern of a uint64 above INT64_MAX
  double f_ = 0;
  bool b_ = false;
  std::string s_;
  std::string type_;
  std::type_index tid_ = std::type_index(typeid(void));
  std::shared_ptr<const void> obj_;
  size_t bytes_ = 0;
  std::string summary_;
};

using Outputs = std::vector<Value>;

}  // namespace vkf::graph
