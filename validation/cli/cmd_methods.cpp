// `triscan methods [--json]`: the registered methods with family, cost and stability:
// triangular inversion, Householder-product representations, scan algorithms.
#include <cstdio>

#include "triscan/householder.hpp"
#include "triscan/scan.hpp"
#include "triscan/trinv.hpp"
#include "validation/cli/cli.hpp"

namespace triscan::cli {
namespace {

std::string joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : "; ") + s;
  return out;
}

int run_methods(bool json) {
  const auto& methods = trinv_methods();
  for (const auto& m : methods) {
    if (json) {
      print_json_line({{"name", m.name},
                       {"family", m.family},
                       {"flops", m.flops_formula},
                       {"flops_n64", m.flops(64)},
                       {"product_rich", m.product_rich},
                       {"stability", m.stability},
                       {"params", m.params},
                       {"supports_upper", m.supports_upper},
                       {"supports_non_unit", m.supports_non_unit}});
    } else {
      std::printf("%s\n  family: %s   flops: %s%s\n  stability: %s\n", m.name.c_str(),
                  m.family.c_str(), m.flops_formula.c_str(), m.product_rich ? "   (matrix-product rich)" : "",
                  m.stability.c_str());
      if (!m.params.empty()) std::printf("  parameters: %s\n", joined(m.params).c_str());
    }
  }
  for (const auto& m : householder_methods()) {
    if (json) {
      print_json_line({{"name", m.name},
                       {"family", "householder"},
                       {"description", m.description},
                       {"flops", m.flops_formula},
                       {"flops_m256_r64", m.flops(256, 64)},
                       {"stability", m.stability},
                       {"params", m.params}});
    } else {
      std::printf("%s\n  family: householder   flops: %s\n  stability: %s\n", m.name.c_str(),
                  m.flops_formula.c_str(), m.stability.c_str());
      if (!m.params.empty()) std::printf("  parameters: %s\n", joined(m.params).c_str());
    }
  }
  for (const auto& a : scan_algorithms()) {
    if (json) {
      print_json_line({{"name", a.name},
                       {"family", "scan"},
                       {"description", a.description},
                       {"work", a.work},
                       {"depth", a.depth},
                       {"params", a.params}});
    } else {
      std::printf("%s\n  family: scan   work: %s   depth: %s\n  %s\n", a.name.c_str(), a.work.c_str(), a.depth.c_str(),
                  a.description.c_str());
      if (!a.params.empty()) std::printf("  parameters: %s\n", joined(a.params).c_str());
    }
  }
  if (json)
    print_json_line({{"summary", true},
                     {"count", methods.size() + householder_methods().size() + scan_algorithms().size()}});
  return 0;
}

}  // namespace

void register_methods(CLI::App& app, Runner& run) {
  auto* cmd = app.add_subcommand("methods", "list the registered methods");
  auto json = std::make_shared<bool>(false);
  cmd->add_flag("--json", *json, "one JSON object per method, then a summary line");
  cmd->callback([&run, json] { run = [json] { return run_methods(*json); }; });
}

}  // namespace triscan::cli
