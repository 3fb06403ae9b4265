// `triscan wy --representation R --format F --generator G --n C --dk D [--dv D]
//  [--method M] [--seed S] [generator options] [--json]`: builds a WY representation
// of generated inputs and measures it against MPFR (issue 4, "CLI").
//   R = chunk/deltanet | chunk/gated | chunk/kda | chunk/deltaproduct | chunk/dplr: the
//       delta-rule chunk WY of one chunk of C = --n tokens (validation/chunk_wy_experiment.hpp)
//   R = householder/explicit | wy | compact_wy | ut | tree (with their parameters):
//       Q = H_1 ... H_r of r = --n generalized Householder transformations of order
//       m = --dk (default 128), V = K^T from the generator's keys and beta from its beta
//       (or --beta B), or true reflectors beta = 2/||k||^2 with --reflectors
//       (validation/householder_experiment.hpp; --method is not used: householder/ut
//       takes its trinv method as `householder/ut:trinv=...`)
// JSON keys (one object per item, then the summary line): representation_error,
// orthogonality_loss (null where not meaningful: the delta-rule transitions are not
// orthogonal), w_error, u_error, status, plus product_error, state_error, cond,
// kappa_majorant, error_bound.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>

#include "validation/chunk_wy_experiment.hpp"
#include "validation/cli/cli.hpp"
#include "validation/cli/summary.hpp"
#include "validation/experiment.hpp"
#include "validation/householder_experiment.hpp"

namespace triscan::cli {
namespace {

struct WyArgs {
  std::string representation;
  std::string method = "trinv/forward_substitution";
  PrecisionOptions precision;
  InputOptions input;
  long householder_steps = 2;
  bool cumulative_g = false;
  bool reflectors = false;
  bool no_check = false;
  bool json = false;
};

// One measured item, whatever the representation family.
struct WyItem {
  Status status = Status::ok;
  double representation_error = 0, orthogonality_loss = NAN, w_error = NAN, u_error = NAN;
  nlohmann::ordered_json extra = nlohmann::ordered_json::object();  // family-specific keys
};

WyItem run_chunk(const WyArgs& a, const Precision& prec, const MethodSpec& method, long item) {
  validation::ChunkWyCase c;
  c.representation = a.representation.substr(std::string("chunk/").size());
  c.generator = generator_params(a.input, item);
  c.chunk = a.input.n;
  c.householder_steps = a.householder_steps;
  c.method = method;
  c.precision = prec;
  c.cumulative_g = a.cumulative_g;
  c.check_accuracy = !a.no_check;
  const validation::ChunkWyRecord r = validation::run_chunk_wy_case(c);
  WyItem it;
  it.status = r.status;
  it.representation_error = r.representation_error;
  it.w_error = r.w_error;
  it.u_error = r.u_error;
  it.extra = {{"product_error", json_number(r.product_error)},
              {"state_error", json_number(r.state_error)},
              {"cond", json_number(r.cond)},
              {"kappa_majorant", json_number(r.kappa_majorant)},
              {"error_bound", json_number(r.error_bound)},
              {"steps", r.steps}};
  return it;
}

validation::HouseholderCase householder_case(const WyArgs& a, const Precision& prec, long item) {
  validation::HouseholderCase c;
  c.representation = MethodSpec::parse(a.representation);
  c.precision = prec;
  c.r = a.input.n;
  c.m = a.input.dk.value_or(128);
  c.reflectors = a.reflectors;
  c.generator = generator_params(a.input, item);
  c.seed = c.generator->seed;
  return c;
}

WyItem run_householder(const WyArgs& a, const Precision& prec, long item) {
  const validation::HouseholderRecord r = validation::run_householder_case(householder_case(a, prec, item));
  WyItem it;
  it.status = r.status;
  it.representation_error = r.representation_error;
  it.orthogonality_loss = r.orthogonality_loss;
  it.extra = {{"apply_error", json_number(r.apply_error)},
              {"apply_transpose_error", json_number(r.apply_transpose_error)},
              {"product_norm_bound", json_number(r.product_norm_bound)},
              {"m", r.m},
              {"r", r.r}};
  return it;
}

// The one dispatch point between representation families. Checked once before any output.
enum class Family { chunk, householder };
Family representation_family(const std::string& R) {
  if (R.rfind("chunk/", 0) == 0) {
    const auto& names = validation::chunk_wy_representations();
    if (std::find(names.begin(), names.end(), R.substr(6)) != names.end()) return Family::chunk;
  } else if (R.rfind("householder/", 0) == 0) {
    householder_method(MethodSpec::parse(R).name);  // unknown name: the error lists them
    return Family::householder;
  }
  throw UsageError("--representation: '" + R +
                   "' is unknown (householder/... or chunk/deltanet|gated|kda|deltaproduct|dplr)");
}

WyItem run_representation(const WyArgs& a, const Precision& prec, const MethodSpec& method,
                          long item) {
  if (representation_family(a.representation) == Family::chunk) return run_chunk(a, prec, method, item);
  return run_householder(a, prec, item);
}

int run_wy(const WyArgs& a) {
  const MethodSpec method = MethodSpec::parse(a.method);
  trinv_method(method.name);  // unknown name: usage error listing the methods
  const Precision prec =
      validation::make_precision({a.precision.format, a.precision.accumulate, a.precision.storage,
                                  a.precision.output, a.precision.rounding, "", a.input.seed});
  // usage errors before any output
  if (representation_family(a.representation) == Family::chunk && a.reflectors)
    throw UsageError("--reflectors: only for householder/... representations");
  if (representation_family(a.representation) == Family::chunk)
    validation::chunk_wy_family(a.representation.substr(6), a.input.generator);
  else if (a.reflectors && (a.input.beta || a.input.beta_max))
    throw UsageError(std::string(a.input.beta ? "--beta" : "--beta-max") +
                     ": not with --reflectors (their beta is 2/||k||^2)");
  else
    validation::make_householder_input(householder_case(a, prec, 0));  // bad case fields: errors now
  validation::validate(generator_params(a.input, 0));
  Summary summary;
  if (!a.json) {
    const bool chunk = representation_family(a.representation) == Family::chunk;
    const std::string shape = chunk ? "C=" + std::to_string(a.input.n)
                                    : "r=" + std::to_string(a.input.n) + " m=" + std::to_string(a.input.dk.value_or(128));
    std::printf("# %s  %s  %s  %s %s\n%6s %8s %-15s %11s %11s %11s %11s %11s %11s\n", a.representation.c_str(),
                chunk ? method.to_string().c_str() : "-", prec.describe().c_str(), a.input.generator.c_str(),
                shape.c_str(), "item", "seed", "status", "repr_error", "w_error", "u_error", "cond", "bound",
                "orth_loss");
  }
  for (long b = 0; b < a.input.batch; ++b) {
    const WyItem it = run_representation(a, prec, method, b);
    summary.add_status(it.status);
    const std::pair<const char*, double> metrics[] = {
        {"representation_error", it.representation_error},
        {"w_error", it.w_error},
        {"u_error", it.u_error}};
    for (const auto& [k, v] : metrics) summary.add_metric(k, v);
    const auto seed = generator_params(a.input, b).seed;
    if (a.json) {
      nlohmann::ordered_json j = {{"representation", a.representation},
                                  {"method", method.to_string()},
                                  {"format", a.precision.format},
                                  {"precision", prec.describe()},
                                  {"generator", a.input.generator},
                                  {"n", a.input.n},
                                  {"seed", seed},
                                  {"status", std::string(status_name(it.status))}};
      for (const auto& [k, v] : metrics) j[k] = json_number(v);
      j["orthogonality_loss"] = std::isnan(it.orthogonality_loss)
                                    ? nlohmann::ordered_json(nullptr)
                                    : json_number(it.orthogonality_loss);
      for (const auto& [k, v] : it.extra.items()) j[k] = v;
      print_json_line(j);
    } else {
      const double cond = it.extra.contains("cond") && it.extra["cond"].is_number()
                              ? it.extra["cond"].get<double>()
                              : NAN;
      const double bound = it.extra.contains("error_bound") && it.extra["error_bound"].is_number()
                               ? it.extra["error_bound"].get<double>()
                               : NAN;
      std::printf(
          "%6ld %8llu %-15s %11.3e %11.3e %11.3e %11.3e %11.3e %11s\n", b,
          static_cast<unsigned long long>(seed), std::string(status_name(it.status)).c_str(),
          it.representation_error, it.w_error, it.u_error, cond, bound,
          std::isnan(it.orthogonality_loss) ? "-" : std::to_string(it.orthogonality_loss).c_str());
    }
  }
  if (a.json) print_json_line(summary.json());
  return 0;
}

}  // namespace

void register_wy(CLI::App& app, Runner& run) {
  auto args = std::make_shared<WyArgs>();
  auto* cmd = app.add_subcommand("wy", "WY representations (delta-rule chunk WY) against MPFR");
  cmd->add_option("--representation", args->representation,
                  "chunk/deltanet | chunk/gated | chunk/kda | chunk/deltaproduct | chunk/dplr | "
                  "householder/explicit | householder/wy | householder/compact_wy | householder/ut | "
                  "householder/tree (householder: r = --n transformations of order m = --dk)")
      ->required();
  cmd->add_option("--method", args->method,
                  "trinv method spec for (I + A)^-1 (see `triscan methods`)");
  add_precision_options(*cmd, args->precision);
  add_input_options(*cmd, args->input);
  cmd->add_option("--householder-steps", args->householder_steps,
                  "chunk/deltaproduct: Householder steps per token")
      ->check(CLI::Range(1L, 64L));
  cmd->add_flag("--cumulative-g", args->cumulative_g,
                "hand the library pre-summed in-chunk log-decays");
  cmd->add_flag("--reflectors", args->reflectors,
                "householder/...: true reflectors, beta = 2/||k||^2 (orthogonality loss reported)");
  cmd->add_flag("--no-check", args->no_check, "switch off the trinv a-posteriori accuracy check");
  cmd->add_flag("--json", args->json, "one JSON object per item, then a summary line");
  cmd->callback([&run, args] { run = [args] { return run_wy(*args); }; });
}

}  // namespace triscan::cli
