// `triscan scan --kind K --algorithm A --format F [--state-format F2] --length T [--dim d]
// [--seed S] [--json]`: a generated linear recurrence (validation/scan_experiment.hpp)
// scanned by each named algorithm (default: every registered one, all on the same
// input), measured against the MPFR sequential scan of the same rounded input, with the
// ratio to the a-priori bound of docs/scan.md (<= 1: within it).
#include <cstdio>

#include "triscan/scan.hpp"
#include "validation/cli/cli.hpp"
#include "validation/cli/summary.hpp"
#include "validation/experiment.hpp"
#include "validation/scan_experiment.hpp"

namespace triscan::cli {
namespace {

struct ScanArgs {
  std::string kind = "diagonal";
  std::vector<std::string> algorithms;
  PrecisionOptions precision;
  std::string state_format;
  long length = 1024;
  long dim = 4;
  std::optional<long> dk, dv;
  std::string gate = "none";
  double gate_value = -0.1;
  double decay_min = 0.95;
  bool h0 = false;
  std::uint64_t seed = 1;
  unsigned threads = 0;
  bool json = false;
};

DeltaGate gate_by_name(const std::string& g) {
  if (g == "none") return DeltaGate::none;
  if (g == "scalar") return DeltaGate::scalar;
  if (g == "channel") return DeltaGate::channel;
  throw UsageError("--gate: unknown gate '" + g + "' (none, scalar, channel)");
}

int run_scan(const ScanArgs& a) {
  validation::ScanCase c;
  try {
    c.kind = scan_kind_by_name(a.kind);
  } catch (const std::invalid_argument& e) {
    throw UsageError(std::string("--kind: ") + e.what());
  }
  c.length = a.length;
  c.dim = a.dim;
  c.dk = a.dk.value_or(0);
  c.dv = a.dv.value_or(0);
  c.gate = gate_by_name(a.gate);
  if (c.kind != ScanKind::delta && (a.gate != "none" || a.dk || a.dv))
    throw UsageError("--gate/--dk/--dv apply to --kind delta only");
  c.gate_value = a.gate_value;
  c.decay_min = a.decay_min;
  c.with_h0 = a.h0;
  c.seed = a.seed;

  ScanOptions opts;
  opts.precision = validation::make_precision({a.precision.format, a.precision.accumulate, a.precision.storage,
                                               a.precision.output, a.precision.rounding, "", a.seed});
  if (!a.state_format.empty()) {
    try {
      opts.state_format = format_by_name(a.state_format);
    } catch (const std::invalid_argument& e) {
      throw UsageError(std::string("--state-format: ") + e.what());
    }
  }
  opts.threads = a.threads;
  std::vector<MethodSpec> algs;
  if (a.algorithms.empty())
    for (const auto& info : scan_algorithms()) algs.push_back(MethodSpec::parse(info.name));
  for (const auto& s : a.algorithms) {
    algs.push_back(MethodSpec::parse(s));
    scan_algorithm(algs.back().name);  // unknown name: usage error listing the algorithms
  }

  const auto data = validation::generate_scan(c, opts.precision.operand);
  const auto in = data.input();
  const std::vector<double> ref = validation::reference_scan(in);
  const std::string state = opts.state_format.value_or(opts.precision.storage).name;
  Summary summary;
  if (!a.json)
    std::printf("# kind=%s T=%ld d=%ld %s state=%s seed=%llu\n%-26s %-15s %11s %11s %11s %11s\n", a.kind.c_str(),
                a.length, a.dim, opts.precision.describe().c_str(), state.c_str(),
                static_cast<unsigned long long>(a.seed), "algorithm", "status", "fwd_error", "max_rel_err",
                "bound_ratio", "growth");
  for (const auto& alg : algs) {
    std::vector<double> h(ref.size());
    const ScanResult r = scan(alg, in, h.data(), opts);
    validation::ScanErrors e{NAN, NAN, NAN, -1};
    if (r.status != Status::nonfinite_input)
      e = validation::measure_scan(in, h, ref, validation::scan_error_bound(in, alg.to_string(), opts, ref));
    summary.add_status(r.status);
    summary.add_metric("forward_error", e.forward_error);
    summary.add_metric("bound_ratio", e.bound_ratio);
    if (a.json) {
      nlohmann::ordered_json j = {{"kind", a.kind},
                                  {"algorithm", alg.to_string()},
                                  {"format", a.precision.format},
                                  {"state_format", state},
                                  {"precision", opts.precision.describe()},
                                  {"length", a.length},
                                  {"dim", a.dim},
                                  {"seed", a.seed},
                                  {"status", std::string(status_name(r.status))},
                                  {"forward_error", json_number(e.forward_error)},
                                  {"max_rel_error", json_number(e.max_rel_error)},
                                  {"bound_ratio", json_number(e.bound_ratio)},
                                  {"worst_token", e.worst_token},
                                  {"growth", json_number(r.growth)}};
      if (c.kind == ScanKind::delta) {
        j["dk"] = in.dk;
        j["dv"] = in.dv;
        j["gate"] = a.gate;
      }
      if (!r.message.empty()) j["message"] = r.message;
      print_json_line(j);
    } else {
      std::printf("%-26s %-15s %11.3e %11.3e %11.3e %11.3e\n", alg.to_string().c_str(),
                  std::string(status_name(r.status)).c_str(), e.forward_error, e.max_rel_error, e.bound_ratio,
                  r.growth);
      if (!r.message.empty()) std::printf("  %s\n", r.message.c_str());
    }
  }
  if (a.json) print_json_line(summary.json());
  return 0;
}

}  // namespace

void register_scan(CLI::App& app, Runner& run) {
  auto args = std::make_shared<ScanArgs>();
  auto* cmd = app.add_subcommand("scan", "scan a generated linear recurrence and measure against MPFR");
  cmd->add_option("--kind", args->kind, "scalar | diagonal | log_diagonal | dense | delta");
  cmd->add_option("--algorithm", args->algorithms,
                  "registered algorithm spec, repeatable (default: all; see docs/scan.md)");
  add_precision_options(*cmd, args->precision);
  cmd->add_option("--state-format", args->state_format, "format of the carried state (default: --storage)");
  cmd->add_option("--length", args->length, "sequence length T")->check(CLI::Range(1L, 1L << 26));
  cmd->add_option("--dim", args->dim, "channels d (delta: dk = dv = d by default)")->check(CLI::Range(1L, 1L << 12));
  cmd->add_option("--dk", args->dk, "delta: key dimension")->check(CLI::Range(1L, 1L << 12));
  cmd->add_option("--dv", args->dv, "delta: value dimension")->check(CLI::Range(1L, 1L << 12));
  cmd->add_option("--gate", args->gate, "delta: none | scalar (Gated DeltaNet) | channel (KDA)");
  cmd->add_option("--gate-value", args->gate_value, "delta: log-decays g ~ U(G, 0)")->check(CLI::Range(-700.0, 0.0));
  cmd->add_option("--decay-min", args->decay_min, "scalar/diagonal: a ~ U(D, 1)")->check(CLI::Range(1e-300, 1.0));
  cmd->add_flag("--h0", args->h0, "random initial state (default 0)");
  cmd->add_option("--seed", args->seed, "random seed");
  cmd->add_option("--threads", args->threads, "worker threads (0: all cores)");
  cmd->add_flag("--json", args->json, "one JSON object per algorithm, then a summary line");
  cmd->callback([&run, args] { run = [args] { return run_scan(*args); }; });
}

}  // namespace triscan::cli
