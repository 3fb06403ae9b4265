// `triscan study --preset NAME | --config FILE.json --out DIR [--threads N] [--resume]`:
// the stability-study driver (validation/study.hpp, docs/study.md). A bad config is a
// usage error (exit 2) found before any run.
#include <cstdio>

#include "validation/cli/cli.hpp"
#include "validation/study.hpp"

namespace triscan::cli {
namespace {

struct StudyArgs {
  std::string preset, config, out;
  unsigned threads = 1;
  bool resume = false, no_plots = false, quiet = false, list = false;
};

int run_study_command(const StudyArgs& a) {
  if (a.list) {
    for (const auto& name : validation::study_preset_names()) {
      const auto c = validation::study_preset(name);
      std::printf("%-20s %6zu runs  %s\n", name.c_str(), validation::plan_study(c).size(), c.description.c_str());
    }
    return 0;
  }
  if (a.preset.empty() == a.config.empty()) throw UsageError("study: give exactly one of --preset NAME or --config FILE");
  if (a.out.empty()) throw UsageError("study: --out DIR is required");
  const validation::StudyConfig config =
      a.preset.empty() ? validation::load_study_config(a.config) : validation::study_preset(a.preset);
  validation::StudyOptions o;
  o.out_dir = a.out;
  o.threads = a.threads;
  o.resume = a.resume;
  o.plots = !a.no_plots;
  o.progress = !a.quiet;
  o.command = "build/triscan study " + (a.preset.empty() ? "--config " + a.config : "--preset " + a.preset) +
              " --out " + a.out + (a.threads > 1 ? " --threads " + std::to_string(a.threads) : "");
  const auto s = validation::run_study(config, o);
  std::fprintf(stderr, "study %s: %zu runs (%zu run now, %zu resumed); wrote %s/report.md, results.csv, results.json\n",
               config.name.c_str(), s.planned, s.run, s.resumed, a.out.c_str());
  if (!s.plots_note.empty()) std::fprintf(stderr, "study %s: %s\n", config.name.c_str(), s.plots_note.c_str());
  return 0;
}

}  // namespace

void register_study(CLI::App& app, Runner& run) {
  auto args = std::make_shared<StudyArgs>();
  auto* cmd = app.add_subcommand("study", "sweep methods x precisions x inputs x sizes x seeds and write a report");
  auto* preset = cmd->add_option("--preset", args->preset, "a checked-in study (validation/presets/NAME.json)");
  cmd->add_option("--config", args->config, "a study config file (JSON; docs/study.md)")->excludes(preset);
  cmd->add_option("--out", args->out, "output directory (results.csv, results.json, report.md, plots/)");
  cmd->add_option("--threads", args->threads, "worker threads (results do not depend on it)")
      ->check(CLI::Range(1u, 1024u));
  cmd->add_flag("--resume", args->resume, "keep finished rows of an earlier run into --out and run the rest");
  cmd->add_flag("--no-plots", args->no_plots, "do not render the PNG plots");
  cmd->add_flag("--quiet", args->quiet, "no progress lines on stderr");
  cmd->add_flag("--list-presets", args->list, "list the checked-in presets and their run counts");
  cmd->callback([&run, args] { run = [args] { return run_study_command(*args); }; });
}

}  // namespace triscan::cli
