// validation/cli/cli.hpp — shared pieces of the `triscan` command line
// (DESIGN.md "CLI conventions"): the shared input options, JSON output lines and
// the exit-code rules (flagged status: data, exit 0; usage error: exit 2 naming the
// bad token; runtime failure: exit 1).
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "validation/generators.hpp"

namespace triscan::cli {

// A usage error found after parsing (an unknown format name, a value out of range):
// reported as one line, exit code 2.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The shared input options of every subcommand that generates inputs.
// Options left unset are not passed to the generator (which rejects options it does
// not use, so a typo never silently does nothing).
struct InputOptions {
  std::string generator = "deltanet";
  long n = 64;
  std::uint64_t seed = 1;
  long batch = 1;  // matrix b of the batch uses seed + b
  std::optional<long> dk, dv;
  std::optional<double> beta, beta_max, gate, scale;
};
void add_input_options(CLI::App& cmd, InputOptions& in);
// The generator parameters of matrix `item` of the batch (seed + item).
validation::GeneratorParams generator_params(const InputOptions& in, long item);

// The shared precision flags (--format --accumulate --storage --output --rounding).
struct PrecisionOptions {
  std::string format = "fp64";
  std::string accumulate, storage, output;
  std::string rounding = "rn";
};
void add_precision_options(CLI::App& cmd, PrecisionOptions& p);

// One JSON object per line (the --json form of every subcommand).
void print_json_line(const nlohmann::ordered_json& j);
// A double as JSON: non-finite values become the strings "nan", "inf", "-inf"
// (JSON has no such numbers, and a flagged result must never be dropped).
nlohmann::ordered_json json_number(double x);

// Registration of each subcommand: adds it to `app`; the callback runs it.
using Runner = std::function<int()>;
void register_formats(CLI::App& app, Runner& run);
void register_generate(CLI::App& app, Runner& run);
void register_methods(CLI::App& app, Runner& run);
void register_invert(CLI::App& app, Runner& run);
void register_study(CLI::App& app, Runner& run);
void register_scan(CLI::App& app, Runner& run);

}  // namespace triscan::cli
