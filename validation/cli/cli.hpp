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

namespace triscan::cli {

// A usage error found after parsing (an unknown format name, a value out of range):
// reported as one line, exit code 2.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The shared input options of every subcommand that generates inputs.
struct InputOptions {
  std::string generator = "deltanet";
  long n = 64;
  std::uint64_t seed = 1;
  long batch = 1;
  long dk = 128;
  long dv = 128;
  std::optional<double> beta, beta_max, scale;
  double gate = -0.1;
};
void add_input_options(CLI::App& cmd, InputOptions& in);

// One JSON object per line (the --json form of every subcommand).
void print_json_line(const nlohmann::json& j);
// A double as JSON: non-finite values become the strings "nan", "inf", "-inf"
// (JSON has no such numbers, and a flagged result must never be dropped).
nlohmann::json json_number(double x);

// Registration of each subcommand: adds it to `app`; the callback runs it.
using Runner = std::function<int()>;
void register_formats(CLI::App& app, Runner& run);

}  // namespace triscan::cli
