#include "triscan/registry.hpp"

#include <cerrno>
#include <cstdlib>
#include <stdexcept>

namespace triscan {
namespace {

// Position of the first ',' outside parentheses, or npos.
std::size_t find_top_level_comma(std::string_view s) {
  int depth = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '(') ++depth;
    if (s[i] == ')') --depth;
    if (s[i] == ',' && depth == 0) return i;
  }
  return std::string_view::npos;
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

}  // namespace

MethodSpec MethodSpec::parse(std::string_view text) {
  MethodSpec spec;
  const auto colon = text.find(':');
  spec.name = std::string(text.substr(0, colon));
  if (spec.name.empty()) throw std::invalid_argument("method spec '" + std::string(text) + "': empty method name");
  if (colon == std::string_view::npos) return spec;
  std::string_view rest = text.substr(colon + 1);
  while (!rest.empty()) {
    const auto comma = find_top_level_comma(rest);
    const std::string_view item = rest.substr(0, comma);
    const auto eq = item.find('=');
    if (eq == std::string_view::npos || eq == 0)
      throw std::invalid_argument("method spec '" + std::string(text) + "': bad parameter '" +
                                  std::string(item) + "' (expected key=value)");
    std::string key(item.substr(0, eq));
    if (spec.params.count(key))
      throw std::invalid_argument("method spec '" + std::string(text) + "': repeated key '" + key + "'");
    std::string_view value = item.substr(eq + 1);
    // A nested spec with its own parameters is written in parentheses:
    // trinv/refine:base=(trinv/newton_schulz:start=scaled,iters=14),steps=1
    if (value.size() >= 2 && value.front() == '(' && value.back() == ')')
      value = value.substr(1, value.size() - 2);
    spec.params[key] = std::string(value);
    if (comma == std::string_view::npos) break;
    rest = rest.substr(comma + 1);
    if (rest.empty())
      throw std::invalid_argument("method spec '" + std::string(text) + "': trailing ','");
  }
  return spec;
}

std::string MethodSpec::to_string() const {
  std::string out = name;
  char sep = ':';
  for (const auto& [k, v] : params) {
    out += sep + k + "=" + v;
    sep = ',';
  }
  return out;
}

long MethodSpec::get_int(const std::string& key, long fallback, long lo, long hi) const {
  auto it = params.find(key);
  if (it == params.end()) return fallback;
  errno = 0;
  char* end = nullptr;
  const long v = std::strtol(it->second.c_str(), &end, 10);
  if (errno != 0 || end == it->second.c_str() || *end != '\0' || v < lo || v > hi)
    throw std::invalid_argument(name + ": parameter '" + key + "=" + it->second +
                                "' must be an integer in [" + std::to_string(lo) + ", " +
                                std::to_string(hi) + "]");
  return v;
}

double MethodSpec::get_double(const std::string& key, double fallback, double lo, double hi) const {
  auto it = params.find(key);
  if (it == params.end()) return fallback;
  errno = 0;
  char* end = nullptr;
  const double v = std::strtod(it->second.c_str(), &end);
  if (errno != 0 || end == it->second.c_str() || *end != '\0' || !(v >= lo && v <= hi))
    throw std::invalid_argument(name + ": parameter '" + key + "=" + it->second +
                                "' must be a number in [" + std::to_string(lo) + ", " +
                                std::to_string(hi) + "]");
  return v;
}

std::string MethodSpec::get_string(const std::string& key, const std::string& fallback,
                                   const std::vector<std::string>& allowed) const {
  auto it = params.find(key);
  if (it == params.end()) return fallback;
  if (!allowed.empty()) {
    bool ok = false;
    for (const auto& a : allowed) ok = ok || a == it->second;
    if (!ok)
      throw std::invalid_argument(name + ": parameter '" + key + "=" + it->second +
                                  "' is not one of: " + join(allowed));
  }
  return it->second;
}

void MethodSpec::check_keys(const std::vector<std::string>& known) const {
  for (const auto& [k, v] : params) {
    bool ok = false;
    for (const auto& a : known) ok = ok || a == k;
    if (!ok)
      throw std::invalid_argument(name + ": unknown parameter '" + k + "'" +
                                  (known.empty() ? " (this method takes none)"
                                                 : " (allowed: " + join(known) + ")"));
  }
}

}  // namespace triscan
