// triscan/registry.hpp — method specifications in the registry syntax
// `name:key=value,key=value` (DESIGN.md "One registry"). A value that is itself a
// spec with parameters goes in parentheses: `base=(trinv/newton_schulz:iters=14)`.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace triscan {

// A parsed method specification. Values may themselves contain ':' (e.g.
// `trinv/refine:base=trinv/product_form,steps=1`); only the first ':' separates
// the name from its parameters, and parameters are split on ','.
struct MethodSpec {
  std::string name;
  std::map<std::string, std::string> params;

  // Throws std::invalid_argument naming the bad token on a malformed spec
  // (empty name, a parameter without '=', an empty key, a repeated key).
  static MethodSpec parse(std::string_view text);
  std::string to_string() const;  // canonical form: keys sorted

  bool has(const std::string& key) const { return params.count(key) != 0; }
  // Typed accessors with defaults; throw std::invalid_argument naming the key and
  // the value when the value does not parse or is outside [lo, hi].
  long get_int(const std::string& key, long fallback, long lo, long hi) const;
  double get_double(const std::string& key, double fallback, double lo, double hi) const;
  std::string get_string(const std::string& key, const std::string& fallback,
                         const std::vector<std::string>& allowed) const;
  // Throws std::invalid_argument if a key outside `known` is present.
  void check_keys(const std::vector<std::string>& known) const;
};

}  // namespace triscan
