// `triscan` — the command line of the triscan library. `triscan --help` lists the
// subcommands; DESIGN.md "CLI conventions" gives the rules all of them follow.
#include <cmath>
#include <cstdio>
#include <iostream>

#include "validation/cli/cli.hpp"
#include "validation/generators.hpp"

namespace triscan::cli {

void register_wy(CLI::App& app, Runner& run);             // validation/cli/cmd_wy.cpp
void register_delta_forward(CLI::App& app, Runner& run);  // validation/cli/cmd_delta_forward.cpp

void add_input_options(CLI::App& cmd, InputOptions& in) {
  cmd.add_option("--generator", in.generator, "input generator (see `triscan generate --help`)");
  cmd.add_option("--n", in.n, "matrix size (chunk size C)")->check(CLI::Range(1L, 1L << 16));
  cmd.add_option("--seed", in.seed, "random seed");
  cmd.add_option("--batch", in.batch, "number of matrices")->check(CLI::Range(1L, 1L << 24));
  cmd.add_option("--dk", in.dk, "key dimension")->check(CLI::Range(1L, 1L << 16));
  cmd.add_option("--dv", in.dv, "value dimension")->check(CLI::Range(1L, 1L << 16));
  auto* beta = cmd.add_option("--beta", in.beta, "fixed beta for every token");
  cmd.add_option("--beta-max", in.beta_max, "beta ~ U(0, beta_max)")->excludes(beta);
  cmd.add_option("--gate", in.gate, "per-token log-decay (gated, kda, dplr)");
  cmd.add_option("--scale", in.scale, "rescale N so that ||N||_inf equals this");
}

validation::GeneratorParams generator_params(const InputOptions& in, long item) {
  validation::GeneratorParams g;
  g.name = in.generator;
  g.n = in.n;
  g.seed = in.seed + static_cast<std::uint64_t>(item);
  if (in.dk) g.dk = *in.dk;
  if (in.dv) g.dv = *in.dv;
  g.beta = in.beta;
  g.beta_max = in.beta_max;
  g.gate = in.gate;
  g.scale = in.scale;
  return g;
}

void add_precision_options(CLI::App& cmd, PrecisionOptions& p) {
  cmd.add_option("--format", p.format, "operand format (default for the other three)");
  cmd.add_option("--accumulate", p.accumulate, "accumulation format");
  cmd.add_option("--storage", p.storage, "format of intermediates and of the stored input");
  cmd.add_option("--output", p.output, "output format");
  cmd.add_option("--rounding", p.rounding, "rn | rna | rz | ru | rd | sr | sr-equal");
}

void print_json_line(const nlohmann::ordered_json& j) { std::cout << j.dump() << '\n'; }

nlohmann::ordered_json json_number(double x) {
  if (std::isnan(x)) return "nan";
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  return x;
}

}  // namespace triscan::cli

int main(int argc, char** argv) {
  using namespace triscan::cli;
  CLI::App app{"triscan: triangular inversion, WY representations and scans in every precision"};
  app.require_subcommand(1, 1);
  app.set_version_flag("--version", std::string("triscan ") + TRISCAN_VERSION);
  Runner run;
  register_formats(app, run);
  register_generate(app, run);
  register_methods(app, run);
  register_invert(app, run);
  register_study(app, run);
  register_scan(app, run);
  register_wy(app, run);
  register_delta_forward(app, run);
  // CLI11 reports a misspelt subcommand as "a subcommand is required"; name it instead.
  if (argc > 1 && argv[1][0] != '-') {
    bool known = false;
    for (const auto* sub : app.get_subcommands({})) known = known || sub->get_name() == argv[1];
    if (!known) {
      std::fprintf(stderr, "triscan: unknown subcommand '%s' (see --help)\n", argv[1]);
      return 2;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "triscan: %s (see --help)\n", e.what());
    return 2;
  }
  try {
    return run();
  } catch (const UsageError& e) {
    std::fprintf(stderr, "triscan: %s\n", e.what());
    return 2;
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "triscan: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "triscan: error: %s\n", e.what());
    return 1;
  }
}
