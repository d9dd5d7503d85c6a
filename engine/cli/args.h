// Tiny option parser shared by commands: `--name value`, `--name=value`, flags, positionals.
#pragma once
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "engine/cli/command.h"

namespace vkf::cli {

class Args {
 public:
  // `with_value`: options that take a value; `flags`: options without. Anything else starting with
  // "--" is a UsageError.
  Args(const std::vector<std::string>& argv, std::set<std::string> with_value, std::set<std::string> flags) {
    for (size_t i = 0; i < argv.size(); ++i) {
      const std::string& a = argv[i];
      if (a.rfind("--", 0) == 0 && a.size() > 2) {
        std::string name = a.substr(2), value;
        bool inline_value = false;
        if (auto eq = name.find('='); eq != std::string::npos) {
          value = name.substr(eq + 1);
          name = name.substr(0, eq);
          inline_value = true;
        }
        if (flags.count(name)) {
          flags_.insert(name);
        } else if (with_value.count(name)) {
          if (!inline_value) {
            if (i + 1 >= argv.size()) throw UsageError("option --" + name + " needs a value");
            value = argv[++i];
          }
          values_[name].push_back(value);
        } else {
          throw UsageError("unknown option '" + a + "'");
        }
      } else if (a == "-h") {
        flags_.insert("help");
      } else {
        positional_.push_back(a);
      }
    }
  }
  bool flag(const std::string& n) const { return flags_.count(n) != 0; }
  std::optional<std::string> get(const std::string& n) const {
    auto it = values_.find(n);
    if (it == values_.end()) return std::nullopt;
    return it->second.back();
  }
  std::string require(const std::string& n) const {
    auto v = get(n);
    if (!v) throw UsageError("missing --" + n);
    return *v;
  }
  std::vector<std::string> all(const std::string& n) const {
    auto it = values_.find(n);
    return it == values_.end() ? std::vector<std::string>{} : it->second;
  }
  int get_int(const std::string& n, int def) const {
    auto v = get(n);
    if (!v) return def;
    try {
      size_t pos = 0;
      int x = std::stoi(*v, &pos);
      if (pos != v->size()) throw std::invalid_argument(*v);
      return x;
    } catch (const std::exception&) {
      throw UsageError("--" + n + " expects an integer, got '" + *v + "'");
    }
  }
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  std::map<std::string, std::vector<std::string>> values_;
  std::set<std::string> flags_;
  std::vector<std::string> positional_;
};

}  // namespace vkf::cli
