// `triscan delta-forward --format F --length T --heads H --dk D --dv D --chunk C
//  [--gate G] [--generator G] [--state-format F2] [--method M] [--seed S] [--json]`:
// runs the chunkwise delta-rule forward (include/triscan/delta.hpp) on generated inputs
// and prints the output and final-state errors against the token recurrence in MPFR
// (validation/mpfr/delta_forward.cpp), with their first-order bounds and the status.
// The family follows the generator: deltanet* -> deltanet, gated -> gated, kda -> kda;
// --gate without --generator means gated.
#include <cmath>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "validation/chunk_wy_experiment.hpp"
#include "validation/cli/cli.hpp"
#include "validation/cli/summary.hpp"
#include "validation/experiment.hpp"

namespace triscan::cli {
namespace {

struct DeltaArgs {
  PrecisionOptions precision;
  std::string method = "trinv/forward_substitution";
  std::optional<std::string> generator;
  std::string state_format;  // "": fp32 for formats narrower than fp32, else --format
  long length = 256, heads = 1, dk = 64, dv = 64, chunk = 64;
  std::optional<double> gate, beta, beta_max;
  std::uint64_t seed = 1;
  long batch = 1;
  bool json = false;
};

int run_delta(const DeltaArgs& a) {
  const MethodSpec method = MethodSpec::parse(a.method);
  trinv_method(method.name);
  const Precision prec =
      validation::make_precision({a.precision.format, a.precision.accumulate, a.precision.storage,
                                  a.precision.output, a.precision.rounding, "", a.seed});
  Format state = prec.storage;
  if (!a.state_format.empty()) {
    try {
      state = format_by_name(a.state_format);
    } catch (const std::invalid_argument& e) {
      throw UsageError(std::string("--state-format: ") + e.what());
    }
  } else if (prec.storage.precision < 24) {
    state = format_by_name("fp32");
  }
  if (a.chunk != 16 && a.chunk != 32 && a.chunk != 64 && a.chunk != 128)
    throw UsageError("--chunk: " + std::to_string(a.chunk) + " is not one of 16, 32, 64, 128");
  const std::string gen = a.generator ? *a.generator : (a.gate ? "gated" : "deltanet");
  const std::string family = gen.rfind("deltanet", 0) == 0 ? "deltanet" : gen;
  if (family != "deltanet" && family != "gated" && family != "kda")
    throw UsageError("--generator: '" + gen +
                     "' is not a delta-rule generator (deltanet*, gated, kda)");
  validation::GeneratorParams gp;
  gp.name = gen;
  gp.dk = a.dk;
  gp.dv = a.dv;
  gp.gate = a.gate;
  gp.beta = a.beta;
  gp.beta_max = a.beta_max;
  gp.n = a.chunk;
  validation::validate(gp);

  Summary summary;
  if (!a.json)
    std::printf(
        "# delta-forward %s  %s state=%s  %s T=%ld H=%ld dk=%ld dv=%ld C=%ld\n%6s %8s %-15s %12s "
        "%12s %12s %12s\n",
        family.c_str(), prec.describe().c_str(), state.name.c_str(), gen.c_str(), a.length, a.heads,
        a.dk, a.dv, a.chunk, "item", "seed", "status", "output_err", "state_err", "output_bnd",
        "state_bnd");
  for (long b = 0; b < a.batch; ++b) {
    validation::DeltaForwardCase c;
    c.family = family;
    c.generator = gp;
    c.generator.seed = a.seed + static_cast<std::uint64_t>(b);
    c.length = a.length;
    c.heads = a.heads;
    c.chunk = a.chunk;
    c.method = method;
    c.precision = prec;
    c.state_format = state;
    const auto r = validation::run_delta_forward_case(c);
    summary.add_status(r.status);
    summary.add_metric("output_error", r.output_error);
    summary.add_metric("state_error", r.state_error);
    if (a.json) {
      print_json_line({{"family", family},
                       {"generator", gen},
                       {"format", a.precision.format},
                       {"precision", prec.describe()},
                       {"state_format", state.name},
                       {"length", a.length},
                       {"heads", a.heads},
                       {"dk", a.dk},
                       {"dv", a.dv},
                       {"chunk", a.chunk},
                       {"seed", c.generator.seed},
                       {"status", std::string(status_name(r.status))},
                       {"output_error", json_number(r.output_error)},
                       {"state_error", json_number(r.state_error)},
                       {"output_bound", json_number(r.output_bound)},
                       {"state_bound", json_number(r.state_bound)}});
    } else {
      std::printf("%6ld %8llu %-15s %12.3e %12.3e %12.3e %12.3e\n", b,
                  static_cast<unsigned long long>(c.generator.seed),
                  std::string(status_name(r.status)).c_str(), r.output_error, r.state_error,
                  r.output_bound, r.state_bound);
    }
  }
  if (a.json) print_json_line(summary.json());
  return 0;
}

}  // namespace

void register_delta_forward(CLI::App& app, Runner& run) {
  auto args = std::make_shared<DeltaArgs>();
  auto* cmd = app.add_subcommand("delta-forward",
                                 "chunkwise delta-rule forward against the MPFR recurrence");
  add_precision_options(*cmd, args->precision);
  cmd->add_option("--state-format", args->state_format,
                  "format of the carried state (default: fp32 under narrower formats)");
  cmd->add_option("--method", args->method, "trinv method spec for (I + A)^-1");
  cmd->add_option("--generator", args->generator,
                  "deltanet* | gated | kda (default deltanet, gated with --gate)");
  cmd->add_option("--length", args->length, "sequence length T")->check(CLI::Range(1L, 1L << 20));
  cmd->add_option("--heads", args->heads, "heads H")->check(CLI::Range(1L, 1024L));
  cmd->add_option("--dk", args->dk, "key dimension")->check(CLI::Range(1L, 4096L));
  cmd->add_option("--dv", args->dv, "value dimension")->check(CLI::Range(1L, 4096L));
  cmd->add_option("--chunk", args->chunk, "chunk size C: 16, 32, 64 or 128");
  cmd->add_option("--gate", args->gate, "per-token log-decay scale (gated, kda)");
  auto* beta = cmd->add_option("--beta", args->beta, "fixed beta");
  cmd->add_option("--beta-max", args->beta_max, "beta ~ U(0, beta_max)")->excludes(beta);
  cmd->add_option("--seed", args->seed, "random seed");
  cmd->add_option("--batch", args->batch, "number of runs (seed + item)")
      ->check(CLI::Range(1L, 1L << 20));
  cmd->add_flag("--json", args->json, "one JSON object per run, then a summary line");
  cmd->callback([&run, args] { run = [args] { return run_delta(*args); }; });
}

}  // namespace triscan::cli
