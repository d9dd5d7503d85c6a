#include "engine/graph/literals.h"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <sstream>

#include "engine/io/safe_path.h"

namespace vkf::graph {

namespace {

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\n\r\f\v"), e = s.find_last_not_of(" \t\n\r\f\v");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

// Python int(str): optional sign and decimal digits only.
std::optional<Value> parse_int(const std::string& raw) {
  std::string s = trim(raw);
  size_t i = (!s.empty() && (s[0] == '+' || s[0] == '-')) ? 1 : 0;
  if (i == s.size()) return std::nullopt;
  for (size_t k = i; k < s.size(); ++k)
    if (!std::isdigit((unsigned char)s[k])) return std::nullopt;
  errno = 0;
  if (s[0] == '-') {
    long long v = std::strtoll(s.c_str(), nullptr, 10);
    if (errno) return std::nullopt;
    return Value(static_cast<int64_t>(v));
  }
  unsigned long long v = std::strtoull(s.c_str() + i, nullptr, 10);
  if (errno) return std::nullopt;
  return Value(static_cast<uint64_t>(v));
}

std::optional<double> parse_float(const std::string& raw) {
  std::string s = trim(raw);
  if (s.empty()) return std::nullopt;
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size()) return std::nullopt;
  return v;
}

std::string py_str(const nlohmann::json& v) {
  if (v.is_boolean()) return v.get<bool>() ? "True" : "False";
  return v.dump();
}

long double as_ld(const nlohmann::json& j) {
  if (j.is_number_unsigned()) return (long double)j.get<uint64_t>();
  if (j.is_number_integer()) return (long double)j.get<int64_t>();
  return (long double)j.get<double>();
}

long double as_ld(const Value& v) {
  if (v.kind() == Value::Kind::Int) {
    auto j = v.to_json();
    return as_ld(j);
  }
  return (long double)v.as_float();
}

std::string num_text(const Value& v) { return v.to_json().dump(); }

// Offset of the first byte that breaks well-formed UTF-8 (RFC 3629: no overlongs, surrogates or code
// points past U+10FFFF), or npos. A graph file cannot hold such bytes (the JSON parser refuses them), but
// `--set` and API callers can; caught here they are an invalid input instead of a JSON exception later
// (signatures and the PNG "prompt" chunk dump the graph).
size_t bad_utf8_at(const std::string& s) {
  const auto* b = reinterpret_cast<const unsigned char*>(s.data());
  for (size_t i = 0, n = s.size(); i < n;) {
    const unsigned c = b[i];
    size_t len = c < 0x80 ? 1 : (c >= 0xC2 && c <= 0xDF) ? 2 : (c >= 0xE0 && c <= 0xEF) ? 3 : (c >= 0xF0 && c <= 0xF4) ? 4 : 0;
    if (len == 0 || i + len > n) return i;
    // The second byte's range is narrower after E0 (overlong), ED (surrogates), F0 (overlong), F4 (> U+10FFFF).
    unsigned lo = c == 0xE0 ? 0xA0 : c == 0xF0 ? 0x90 : 0x80, hi = c == 0xED ? 0x9F : c == 0xF4 ? 0x8F : 0xBF;
    for (size_t k = 1; k < len; ++k) {
      if (b[i + k] < (k == 1 ? lo : 0x80) || b[i + k] > (k == 1 ? hi : 0xBF)) return i;
    }
    i += len;
  }
  return std::string::npos;
}

}  // namespace

std::optional<Value> coerce_literal(const InputSpec& spec, const nlohmann::json& v, std::string* why) {
  auto fail = [&](const std::string& w) -> std::optional<Value> {
    if (why) *why = w;
    return std::nullopt;
  };
  const std::string& t = spec.type;
  if (v.is_string())
    if (size_t at = bad_utf8_at(v.get_ref<const std::string&>()); at != std::string::npos)
      return fail("the string is not valid UTF-8 (byte " + std::to_string(at) + ")");
  if (v.is_null()) return fail("null is not a " + t + " value");
  if (v.is_object() || v.is_array()) return fail("a JSON " + std::string(v.type_name()) + " is not a " + t + " value");
  if (t == kInt) {
    if (v.is_number_unsigned()) return Value(v.get<uint64_t>());
    if (v.is_number_integer()) return Value(v.get<int64_t>());
    if (v.is_boolean()) return Value(int64_t(v.get<bool>()));
    if (v.is_number_float()) {
      double d = std::trunc(v.get<double>());
      if (!std::isfinite(d)) return fail("cannot convert " + v.dump() + " to an integer");
      if (d >= -9.2233720368547758e18 && d < 9.2233720368547758e18) return Value(static_cast<int64_t>(d));
      if (d >= 0 && d < 1.8446744073709552e19) return Value(static_cast<uint64_t>(d));
      return fail(v.dump() + " is out of the 64-bit integer range");
    }
    if (auto r = parse_int(v.get<std::string>())) return r;
    return fail("invalid literal for int() with base 10: '" + v.get<std::string>() + "'");
  }
  if (t == kFloat) {
    if (v.is_number()) return Value(v.get<double>());
    if (v.is_boolean()) return Value(v.get<bool>() ? 1.0 : 0.0);
    if (auto d = parse_float(v.get<std::string>())) return Value(*d);
    return fail("could not convert string to float: '" + v.get<std::string>() + "'");
  }
  if (t == kString) return Value(v.is_string() ? v.get<std::string>() : py_str(v));
  if (t == kBoolean) {
    if (v.is_boolean()) return Value(v.get<bool>());
    if (v.is_number()) return Value(v.get<double>() != 0);
    std::string s = trim(v.get<std::string>());
    for (auto& c : s) c = (char)std::tolower((unsigned char)c);
    if (s == "true") return Value(true);
    if (s == "false") return Value(false);
    return fail("'" + v.get<std::string>() + "' is not true or false");
  }
  if (t == kCombo) {
    if (v.is_string()) return Value(v.get<std::string>());
    return fail(v.dump() + " is not one of the listed strings");
  }
  return fail("input type " + t + " takes a link, not a literal");
}

std::optional<LiteralProblem> check_literal(const InputSpec& spec, const Value& v, const Paths& paths) {
  if (spec.type == kInt || spec.type == kFloat) {
    if (spec.type == kFloat && std::isnan(v.as_float()))
      return LiteralProblem{"invalid_input_type", "Value nan is not a number", spec.name};
    if (spec.min.is_number() && as_ld(v) < as_ld(spec.min))
      return LiteralProblem{"value_smaller_than_min",
                            "Value " + num_text(v) + " smaller than min of " + spec.min.dump(), spec.name};
    if (spec.max.is_number() && as_ld(v) > as_ld(spec.max))
      return LiteralProblem{"value_bigger_than_max",
                            "Value " + num_text(v) + " bigger than max of " + spec.max.dump(), spec.name};
  }
  if (spec.output_prefix && v.kind() == Value::Kind::String) {
    if (auto why = io::path_problem(paths.output_dir, v.as_string(), io::PathAccess::Write))
      return LiteralProblem{"value_not_allowed", "Saving image outside the output folder is not allowed.",
                            spec.name + ": " + *why};
  }
  if (spec.type == kCombo) {
    const std::string& name = v.as_string();
    // A name that leaves its folder is not in the list (ComfyUI's answer); the details say why.
    if (spec.files)
      if (auto why = io::path_problem(spec.files->dir(paths), name, io::PathAccess::Read, paths.allow_absolute_inputs))
        return LiteralProblem{"value_not_in_list", "Value not in list",
                              spec.name + ": '" + io::printable_name(name) + "' not in the list: " + *why + " (names are relative to " +
                                  spec.files->dir(paths).string() + ")"};
    if (spec.files && std::filesystem::path(name).is_absolute()) {
      std::error_code ec;
      if (std::filesystem::is_regular_file(name, ec)) return std::nullopt;
      return LiteralProblem{"value_not_in_list", "Value not in list",
                            spec.name + ": '" + io::printable_name(name) + "' does not exist (an absolute path must name an existing file)"};
    }
    auto opts = spec.combo_options(paths);
    for (auto& o : opts)
      if (o == name) return std::nullopt;
    std::ostringstream list;
    for (size_t i = 0; i < opts.size() && i < 20; ++i) list << (i ? ", " : "") << "'" << opts[i] << "'";
    if (opts.size() > 20) list << ", ... (" << opts.size() << " in all)";
    std::string details = spec.name + ": '" + (spec.files ? io::printable_name(name) : name) + "' not in [" + list.str() + "]";
    if (spec.files) details += " (" + spec.files->describe(paths) + ")";
    return LiteralProblem{"value_not_in_list", "Value not in list", details};
  }
  return std::nullopt;
}

bool types_match(const std::string& received, const std::string& expected) {
  if (received == expected || received == kAny || expected == kAny) return true;
  if (expected == kCombo && received == kString) return true;
  auto split = [](const std::string& s) {
    std::set<std::string> out;
    std::stringstream ss(s);
    std::string part;
    while (std::getline(ss, part, ',')) {
      size_t b = part.find_first_not_of(' '), e = part.find_last_not_of(' ');
      if (b != std::string::npos) out.insert(part.substr(b, e - b + 1));
    }
    return out;
  };
  auto a = split(received), b = split(expected);
  for (auto& x : a)
    if (b.count(x)) return true;
  return false;
}

}  // namespace vkf::graph
