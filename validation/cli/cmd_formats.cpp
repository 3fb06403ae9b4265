// `triscan formats [--json]`: every preset format's parameters (docs/formats.md).
#include <cstdio>

#include "triscan/format.hpp"
#include "validation/cli/cli.hpp"

namespace triscan::cli {
namespace {

const char* subnormals_name(Subnormals s) {
  switch (s) {
    case Subnormals::gradual: return "gradual";
    case Subnormals::none: return "none";
    case Subnormals::flush_to_zero: return "flush-to-zero";
  }
  return "?";
}

const char* overflow_name(Overflow o) {
  switch (o) {
    case Overflow::infinity: return "inf";
    case Overflow::saturate: return "saturate";
    case Overflow::nan: return "nan";
  }
  return "?";
}

int run_formats(bool json) {
  const auto& formats = preset_formats();
  if (!json) {
    std::printf("%-9s %3s %10s %11s %11s %12s %10s %-9s\n", "format", "p", "u", "min_subnorm",
                "min_normal", "max_finite", "subnormals", "overflow");
  }
  for (const auto& f : formats) {
    if (json) {
      print_json_line({{"format", f.name},
                       {"p", f.precision},
                       {"u", f.unit_roundoff()},
                       {"emin", f.emin},
                       {"emax", f.emax},
                       {"min_subnormal", f.min_subnormal()},
                       {"min_normal", f.min_normal()},
                       {"max_finite", f.max_value()},
                       {"subnormals", subnormals_name(f.subnormals)},
                       {"overflow", overflow_name(f.overflow)},
                       {"has_infinity", f.has_infinity}});
    } else {
      std::printf("%-9s %3d %10.3g %11.3g %11.3g %12.6g %10s %-9s\n", f.name.c_str(), f.precision,
                  f.unit_roundoff(), f.min_subnormal(), f.min_normal(), f.max_value(),
                  subnormals_name(f.subnormals), overflow_name(f.overflow));
    }
  }
  if (json) print_json_line({{"summary", true}, {"count", formats.size()}});
  return 0;
}

}  // namespace

void register_formats(CLI::App& app, Runner& run) {
  auto* cmd = app.add_subcommand("formats", "list the simulated number formats (p, u, range)");
  auto json = std::make_shared<bool>(false);
  cmd->add_flag("--json", *json, "one JSON object per format, then a summary line");
  cmd->callback([&run, json] { run = [json] { return run_formats(*json); }; });
}

}  // namespace triscan::cli
