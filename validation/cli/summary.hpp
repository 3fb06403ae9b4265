// validation/cli/summary.hpp — the summary line every --json subcommand ends with:
// {"summary": true, "status_counts": {...}, "worst_status": ..., "<metric>": {"max": ..,
// "median": ..}} (DESIGN.md "CLI conventions"). Non-finite metric values count in the
// max (NaN is reported as the max: a NaN is never hidden) and are left out of the median.
#pragma once

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "triscan/status.hpp"
#include "validation/cli/cli.hpp"

namespace triscan::cli {

class Summary {
 public:
  void add_status(Status s) {
    ++counts_[std::string(status_name(s))];
    worst_ = worst(worst_, s);
    any_ = true;
  }
  void add_metric(const std::string& key, double value) { values_[key].push_back(value); }

  nlohmann::ordered_json json() const {
    nlohmann::ordered_json counts = nlohmann::ordered_json::object();
    for (const auto& [k, v] : counts_) counts[k] = v;
    nlohmann::ordered_json j = {{"summary", true}, {"status_counts", counts},
                        {"worst_status", any_ ? std::string(status_name(worst_)) : "ok"}};
    for (const auto& [key, vals] : values_) j[key] = {{"max", json_number(max_of(vals))}, {"median", json_number(median_of(vals))}};
    return j;
  }

  static double max_of(const std::vector<double>& v) {
    double m = -INFINITY;
    for (double x : v) {
      if (std::isnan(x)) return x;
      m = std::max(m, x);
    }
    return v.empty() ? NAN : m;
  }
  static double median_of(std::vector<double> v) {
    v.erase(std::remove_if(v.begin(), v.end(), [](double x) { return !std::isfinite(x); }), v.end());
    if (v.empty()) return NAN;
    std::sort(v.begin(), v.end());
    const std::size_t h = v.size() / 2;
    return v.size() % 2 ? v[h] : 0.5 * (v[h - 1] + v[h]);
  }

 private:
  std::map<std::string, long> counts_;
  Status worst_ = Status::ok;
  bool any_ = false;
  std::map<std::string, std::vector<double>> values_;
};

}  // namespace triscan::cli
