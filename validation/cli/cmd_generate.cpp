// `triscan generate --generator G --n N --seed S [--json] [--tensors --out DIR]`:
// prints the generated matrix with its condition numbers kappa_inf and cond (Skeel),
// computed from the MPFR reference inverse; --tensors writes L and every tensor the
// matrix was built from as .npy files (numpy.load / torch.from_numpy read them).
#include <cstdio>
#include <filesystem>

#include "triscan/metrics.hpp"
#include "triscan/reference.hpp"
#include "validation/cli/cli.hpp"
#include "validation/cli/summary.hpp"
#include "validation/generators.hpp"
#include "validation/npy.hpp"

namespace triscan::cli {
namespace {

struct GenerateArgs {
  InputOptions input;
  bool json = false;
  bool tensors = false;
  std::string out;
};

// kappa_inf(L) = ||L||_inf ||L^-1||_inf and cond(L) = || |L^-1| |L| ||_inf.
std::pair<double, double> condition_numbers(const validation::Generated& g) {
  const Matrix<double> inv = reference_inverse_double(g.L.view(), Triangle::lower, g.diagonal);
  const index_t n = g.L.rows();
  Matrix<double> abs_prod(n, n);
  for (index_t i = 0; i < n; ++i)
    for (index_t k = 0; k <= i; ++k)
      for (index_t j = 0; j <= k; ++j) abs_prod(i, j) += std::fabs(inv(i, k)) * std::fabs(g.L(k, j));
  return {norm_inf(g.L.view()) * norm_inf(inv.view()), norm_inf(abs_prod.view())};
}

void write_tensors(const std::string& dir, const std::string& prefix, const validation::Generated& g) {
  std::filesystem::create_directories(dir);
  const index_t n = g.L.rows();
  validation::write_npy(dir + "/" + prefix + "L.npy", {n, n},
                        std::vector<double>(g.L.data(), g.L.data() + n * n));
  for (const auto& [name, t] : g.tensors) {
    std::vector<std::int64_t> shape(t.shape.begin(), t.shape.end());
    validation::write_npy(dir + "/" + prefix + name + ".npy", shape, t.data);
  }
}

int run_generate(const GenerateArgs& a) {
  if (a.tensors && a.out.empty()) throw UsageError("--tensors needs --out DIR");
  if (!a.tensors && !a.out.empty()) throw UsageError("--out is only used with --tensors");
  Summary summary;
  for (long b = 0; b < a.input.batch; ++b) {
    const validation::GeneratorParams p = generator_params(a.input, b);
    const auto g = validation::generate(p);
    const auto [kappa, cond] = condition_numbers(g);
    summary.add_status(Status::ok);
    summary.add_metric("kappa", kappa);
    summary.add_metric("cond", cond);
    const index_t n = g.L.rows();
    if (a.json) {
      nlohmann::ordered_json rows = nlohmann::ordered_json::array();
      for (index_t i = 0; i < n; ++i) {
        nlohmann::ordered_json row = nlohmann::ordered_json::array();
        for (index_t j = 0; j < n; ++j) row.push_back(json_number(g.L(i, j)));
        rows.push_back(row);
      }
      print_json_line({{"generator", p.name}, {"n", n}, {"seed", p.seed},
                       {"diagonal", g.diagonal == Diagonal::unit ? "unit" : "non_unit"},
                       {"kappa", json_number(kappa)}, {"cond", json_number(cond)}, {"matrix", rows}});
    } else {
      std::printf("# %s n=%ld seed=%llu  kappa_inf=%.6g  cond=%.6g\n", p.name.c_str(), static_cast<long>(n),
                  static_cast<unsigned long long>(p.seed), kappa, cond);
      for (index_t i = 0; i < n; ++i) {
        for (index_t j = 0; j < n; ++j) std::printf("%s%.6g", j ? " " : "", g.L(i, j));
        std::printf("\n");
      }
    }
    if (a.tensors) write_tensors(a.out, a.input.batch > 1 ? "b" + std::to_string(b) + "_" : "", g);
  }
  if (a.json) print_json_line(summary.json());
  return 0;
}

}  // namespace

void register_generate(CLI::App& app, Runner& run) {
  auto args = std::make_shared<GenerateArgs>();
  auto* cmd = app.add_subcommand("generate", "generate a test matrix (and its tensors)");
  add_input_options(*cmd, args->input);
  cmd->add_flag("--json", args->json, "one JSON object per matrix, then a summary line");
  cmd->add_flag("--tensors", args->tensors, "write L and the tensors it is built from as .npy files");
  cmd->add_option("--out", args->out, "folder for --tensors");
  cmd->callback([&run, args] { run = [args] { return run_generate(*args); }; });
}

}  // namespace triscan::cli
