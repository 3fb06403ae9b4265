// `triscan invert --method M --format F [...] --generator G --n N [--json]`: runs M on
// generated inputs and measures each result against the MPFR reference of the same
// rounded input (validation/experiment.hpp).
#include <cstdio>

#include "validation/cli/cli.hpp"
#include "validation/cli/summary.hpp"
#include "validation/experiment.hpp"

namespace triscan::cli {
namespace {

struct InvertArgs {
  std::string method = "trinv/forward_substitution";
  PrecisionOptions precision;
  InputOptions input;
  bool no_check = false;
  bool json = false;
};

int run_invert(const InvertArgs& a) {
  const MethodSpec method = MethodSpec::parse(a.method);
  trinv_method(method.name);  // unknown name: usage error listing the methods
  TrinvOptions opts;
  opts.precision = validation::make_precision(
      {a.precision.format, a.precision.accumulate, a.precision.storage, a.precision.output,
       a.precision.rounding, "", a.input.seed});
  opts.check_accuracy = !a.no_check;
  validation::validate(generator_params(a.input, 0));

  Summary summary;
  if (!a.json)
    std::printf("# %s  %s  %s n=%ld\n%6s %8s %-15s %11s %11s %11s %11s %11s %11s\n", method.to_string().c_str(),
                opts.precision.describe().c_str(), a.input.generator.c_str(), a.input.n, "item", "seed",
                "status", "fwd_error", "right_res", "left_res", "lapack", "kappa", "cond");
  for (long b = 0; b < a.input.batch; ++b) {
    const auto rec = validation::run_inversion(method, opts, generator_params(a.input, b));
    const auto& m = rec.metrics;
    summary.add_status(rec.result.status);
    const std::pair<const char*, double> metrics[] = {
        {"forward_error", m.forward_error}, {"right_residual", m.right_residual},
        {"left_residual", m.left_residual}, {"lapack_ratio", m.lapack_ratio},
        {"kappa", m.kappa},                 {"cond", m.cond}};
    for (const auto& [k, v] : metrics) summary.add_metric(k, v);
    if (a.json) {
      nlohmann::ordered_json j = {{"method", rec.method},
                          {"format", a.precision.format},
                          {"precision", rec.precision},
                          {"generator", a.input.generator},
                          {"n", rec.n},
                          {"seed", rec.generator.seed},
                          {"status", std::string(status_name(rec.result.status))},
                          {"iterations", rec.result.iterations},
                          {"growth", json_number(m.growth)},
                          {"componentwise_error", json_number(m.componentwise_error)},
                          {"nonfinite", m.nonfinite}};
      for (const auto& [k, v] : metrics) j[k] = json_number(v);
      if (!rec.result.message.empty()) j["message"] = rec.result.message;
      print_json_line(j);
    } else {
      std::printf("%6ld %8llu %-15s %11.3e %11.3e %11.3e %11.3e %11.3e %11.3e\n", b,
                  static_cast<unsigned long long>(rec.generator.seed),
                  std::string(status_name(rec.result.status)).c_str(), m.forward_error,
                  m.right_residual, m.left_residual, m.lapack_ratio, m.kappa, m.cond);
      if (!rec.result.message.empty()) std::printf("       %s\n", rec.result.message.c_str());
    }
  }
  if (a.json) print_json_line(summary.json());
  return 0;
}

}  // namespace

void register_invert(CLI::App& app, Runner& run) {
  auto args = std::make_shared<InvertArgs>();
  auto* cmd = app.add_subcommand("invert", "invert generated matrices and measure against MPFR");
  cmd->add_option("--method", args->method, "registered method spec (see `triscan methods`)");
  add_precision_options(*cmd, args->precision);
  add_input_options(*cmd, args->input);
  cmd->add_flag("--no-check", args->no_check, "switch off the a-posteriori accuracy check");
  cmd->add_flag("--json", args->json, "one JSON object per matrix, then a summary line");
  cmd->callback([&run, args] { run = [args] { return run_invert(*args); }; });
}

}  // namespace triscan::cli
