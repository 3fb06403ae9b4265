// validation/study.hpp — the stability-study driver behind `triscan study`
// (docs/study.md): a sweep of registered methods x Precisions x generators x sizes x
// seeds. Kind "inversion" runs each as `triscan invert` runs it; kinds "wy" and "scan"
// as `triscan wy` and `triscan scan` run theirs (docs/study.md "Kinds"). Inversion: each
// run as `triscan invert` runs it (validation/experiment.hpp),
// measured against the MPFR reference and compared with the method's theoretical
// forward-error bound (validation/bounds.hpp) where one exists. Results go to
// DIR/results.csv, DIR/results.json and DIR/report.md (+ DIR/plots/*.png rendered by
// validation/plot_report.py), each written under a temporary name and renamed.
//
// Determinism: a run's numbers depend only on its key (method, precision, generator,
// n, seed): every run is single-threaded, the stochastic-rounding seed is the run's
// seed, and rows are written in plan order, so results.csv is byte-identical for any
// --threads.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "validation/chunk_wy_experiment.hpp"
#include "validation/experiment.hpp"
#include "validation/generators.hpp"
#include "validation/householder_experiment.hpp"
#include "validation/scan_experiment.hpp"

namespace triscan::validation {

// ---- Configuration ---------------------------------------------------------------

// What a study sweeps (docs/study.md "Kinds"):
//   inversion  trinv methods x precisions x generators x sizes n x seeds
//   wy         WY representations (chunk/... via run_chunk_wy_case, householder/... via
//              run_householder_case) x precisions x generators x sizes (C, or r) x seeds;
//              a chunk/ representation runs only on the generators that fit it
//   scan       scan algorithms x precisions (with a state format) x scan kinds x
//              lengths T x seeds (validation/scan_experiment.hpp)
//   delta      the chunkwise delta-rule forward (include/triscan/delta.hpp) as
//              `triscan delta-forward` runs it (run_delta_forward_case): chunk sizes C
//              (the "method" column, "chunkwise/C=64") x precisions (with a state
//              format) x families (deltanet*, gated with its gate, kda; the "generator"
//              column) x lengths T x seeds, against the MPFR token recurrence
// A config may instead hold "parts": a list of configs of different kinds run as one
// study (one results.csv, one report with a section per part; docs/study.md "Parts").
inline const std::vector<std::string> study_kinds = {"inversion", "wy", "scan", "delta"};

struct StudyConfig {
  std::string name;         // preset name, or the config file's stem
  std::string description;  // one line, shown in the report
  std::string kind = "inversion";
  std::vector<std::string> methods;         // canonical method specs ("all" expanded)
  std::vector<PrecisionFlags> precisions;   // seed is ignored: each run uses its own seed
  std::vector<GeneratorParams> generators;  // n and seed are ignored: sizes x seeds
  std::vector<index_t> sizes;
  std::vector<std::uint64_t> seeds;
  bool check_accuracy = true;  // the driver's a-posteriori `inaccurate` check
  // Metrics tabulated in report.md, one table per precision each (the first is the
  // kind's headline metric when the config names none: study_report_metric_names).
  std::vector<std::string> report_metrics = {"forward_error"};

  // kind "scan": the state format of each precision ("" = its storage format), the scan
  // kinds swept (scalar, diagonal, log_diagonal, dense, delta; the "generator" column of
  // a row) and the generation options of validation::ScanCase.
  std::vector<std::string> state_formats;
  std::vector<std::string> scan_kinds;
  index_t scan_dim = 4;
  double decay_min = 0.95;
  std::string gate = "none";  // delta: none | scalar | channel
  double gate_value = -0.1;

  // kind "wy": the trinv method chunk/ representations invert I + N with, Householder
  // steps per token of chunk/deltaproduct, and whether householder/ representations use
  // true reflectors (beta = 2/||k||^2; orthogonality_loss is reported only then).
  // Also the trinv method of kind "delta".
  std::string trinv_method = "trinv/forward_substitution";
  index_t householder_steps = 2;
  bool reflectors = true;

  // kind "delta": chunk sizes C (16, 32, 64, 128; `methods` holds "chunkwise/C=<C>" in
  // the same order), the families in `generators` (deltanet* -> deltanet, gated, kda;
  // dk/dv come from the keys below, not from the generator), heads H, head dimensions,
  // and whether the forward starts from a random initial state. The state formats are
  // in state_formats ("" = the storage format).
  std::vector<index_t> chunks;
  index_t heads = 1, dk = 16, dv = 16;
  bool initial_state = true;

  // A study of several parts (each a config of its own kind; kinds differ): the plan is
  // the parts' plans one after the other. The fields above are unused then.
  std::vector<StudyConfig> parts;
};

// The family chunkwise forward runs on a generator (deltanet* -> deltanet, gated, kda);
// "" when none.
std::string study_delta_family(const std::string& generator);

// Metrics report.md can tabulate, per kind (the first is the default).
const std::vector<std::string>& study_report_metric_names(const std::string& kind);
inline const std::vector<std::string> study_report_metric_names_delta = {"output_error", "state_error"};
inline const std::vector<std::string> study_report_metric_names_inversion = {
    "forward_error", "forward_error_inf", "componentwise_error", "right_residual", "left_residual", "lapack_ratio"};

// Limits of a config's values (checked by parse_study_config): sizes n (inversion), C or
// r (wy), and lengths T (scan).
inline constexpr index_t study_max_size = 1024;
inline constexpr index_t study_max_length = index_t{1} << 20;
inline constexpr std::size_t study_max_runs = 1000000;

// Parses and validates a JSON config (schema: docs/study.md). Every problem throws
// std::invalid_argument before any work, naming the key path (e.g.
// "precisions[1].format") and the allowed values: unknown keys, kinds, methods,
// method parameters, formats, rounding modes, generators, generator options, sizes
// outside [1, study_max_size], negative seeds, empty lists, duplicate entries, and a
// non-unit generator combined with a method that cannot invert non-unit matrices.
// `source` names the text in messages (a path or "preset NAME").
StudyConfig parse_study_config(const std::string& json_text, const std::string& source);
StudyConfig load_study_config(const std::string& path);  // reads a file, then parses
// Checked-in presets (validation/presets/NAME.json, embedded at configure time).
std::vector<std::string> study_preset_names();
StudyConfig study_preset(const std::string& name);  // unknown name: invalid_argument listing them
std::string study_preset_json(const std::string& name);

// ---- Runs --------------------------------------------------------------------------

// One planned run; `key` identifies it across runs of the driver (used by --resume).
struct StudyRun {
  std::size_t index = 0;  // position in plan order
  std::size_t part = 0;   // index into config.parts (0 when the config has none)
  std::string method;     // canonical spec
  std::size_t precision = 0, generator = 0;  // indices into the config's lists
  index_t n = 0;
  std::uint64_t seed = 0;
  std::string key;
};

// The sweep in plan order: methods, then precisions, generators, sizes, seeds. Kind
// "wy" leaves out the (chunk/ representation, generator) pairs that do not fit
// (chunk_wy_family); kind "scan" sweeps config.scan_kinds in place of generators. A study
// with parts: each part's plan in turn (run.part set, index counting on).
std::vector<StudyRun> plan_study(const StudyConfig& config);

// The label of config.precisions[i]: precision_label(), plus "/<state>state" for a scan
// study whose state format differs from the storage format.
std::string study_precision_label(const StudyConfig& config, std::size_t i);
// The label of a run's input: generator_label() of config.generators[i], or for a scan
// study the scan kind with its dimension ("diagonal(d=4)").
std::string study_input_label(const StudyConfig& config, std::size_t i);

// "gated(gate=-0.001)": the generator's name and the options that were set.
std::string generator_label(const GeneratorParams& g);
// "fp16/fp32acc rn": operand format, other formats where they differ, rounding.
std::string precision_label(const PrecisionFlags& p);

// The cases a run of kind scan or wy hands to the experiments (the config check dry-runs
// the same ones): scan kind config.scan_kinds[kind_index] of `length` tokens; the options
// of precision p with the run's seed (stochastic rounding) and one thread; a
// householder/ case of r transformations of order m = the generator's dk (default 128)
// with V = K^T and beta from the generator. study_chunk_fits: whether the chunk/
// representation runs on the generator (chunk_wy_family).
ScanCase study_scan_case(const StudyConfig& config, std::size_t kind_index, index_t length, std::uint64_t seed);
ScanOptions study_scan_options(const StudyConfig& config, std::size_t p, std::uint64_t seed);
HouseholderCase study_householder_case(const StudyConfig& config, const std::string& representation,
                                       const PrecisionFlags& precision, const GeneratorParams& generator, index_t r,
                                       std::uint64_t seed);
bool study_chunk_fits(const std::string& representation, const std::string& generator);
// Kind delta: the forward of family config.generators[family] (dk, dv, heads from the
// config) at chunk size `chunk` over `length` tokens, under precision p with its state
// format and the run's seed (stochastic rounding and the inputs).
DeltaForwardCase study_delta_case(const StudyConfig& config, std::size_t p, std::size_t family, index_t chunk,
                                  index_t length, std::uint64_t seed);

// One result row: the CSV columns (docs/study.md "Columns").
struct StudyRow {
  std::string key, kind, method, precision, format, accumulate, storage, output, rounding,
      generator, generator_name;
  index_t n = 0;
  std::uint64_t seed = 0;
  std::string status;
  int iterations = 0;
  double forward_error = 0, forward_error_inf = 0, componentwise_error = 0, right_residual = 0,
         left_residual = 0, lapack_ratio = 0, kappa = 0, cond = 0, growth = 0;
  std::int64_t nonfinite = 0;
  double unit_roundoff = 0;
  double bound = 0;          // bound on forward_error_inf; NaN when the method has none
  std::string bound_name;    // "" when none
  std::string within_bound;  // "yes", "no", or "" (no bound, or no finite error to compare)
  std::string message;
  // Columns added by the wy and scan kinds (after `message`; NaN, written as an empty
  // field, where a metric does not apply to the row's kind: study_metric_applies).
  std::string state_format;  // scan: the carried state's format
  double w_error = 0, u_error = 0, representation_error = 0, orthogonality_loss = 0;  // wy
  double max_rel_error = 0, bound_ratio = 0;                                          // scan
  // Columns added by the delta kind: relative Frobenius errors of the outputs o_t and of
  // the final state against the MPFR token recurrence, and the state's first-order bound
  // (the output's is `bound`; docs/wy.md "Chunkwise forward: error bound").
  double output_error = 0, state_error = 0, state_bound = 0;
};

// Whether a numeric CSV column carries a value for a row of `kind` (else it is written
// empty). The key, label, status, unit_roundoff and bound columns apply to every kind.
// For kind wy it depends on the representation family: chunk/ rows carry w_error,
// u_error, representation_error and cond; householder/ rows representation_error and
// orthogonality_loss (NaN unless config.reflectors).
bool study_metric_applies(const std::string& column, const std::string& kind, const std::string& method);

// Runs one planned run (MPFR reference, metrics and bound). Thread-safe.
StudyRow run_study_row(const StudyConfig& config, const StudyRun& run);

// ---- Files -------------------------------------------------------------------------

std::vector<std::string> study_csv_columns();
// CSV with a header line; doubles with 17 significant digits, non-finite values as
// nan/inf/-inf, text fields quoted when needed (RFC 4180). Round-trips exactly.
std::string study_csv_header();
std::string study_csv_line(const StudyRow& row);
// Reads a results file; lines that do not parse completely (an interrupted write) are
// ignored. Throws std::runtime_error when the header is neither study_csv_header() nor
// the header of files written by an earlier version (before the wy/scan columns, or
// before the delta columns), whose rows read with the added columns empty.
std::vector<StudyRow> read_study_csv(const std::string& path);

// The environment recorded in results.json and report.md.
struct StudyEnvironment {
  std::string triscan_version, git_revision, compiler, cpu, date, command;
  unsigned threads = 1;
  double seconds = 0;        // wall time of this invocation
  std::size_t resumed = 0;   // rows taken from an earlier invocation (--resume)
};
StudyEnvironment current_environment();

// The report: a finding paragraph generated from `rows`, the command that
// regenerates it, the environment, per-precision tables (method x generator: the
// largest forward_error over sizes and seeds, with status counts), and the plots
// (or a line saying why they were skipped). `plots` lists PNG names in DIR/plots/.
std::string study_report_markdown(const StudyConfig& config, const std::vector<StudyRow>& rows,
                                  const StudyEnvironment& env, const std::vector<std::string>& plots,
                                  const std::string& plots_note);
// The cell text of a report table for one (method, precision, generator) group: the
// largest finite `metric` ("%.1e"), then the flagged statuses and bound excesses.
std::string study_report_cell(const std::vector<const StudyRow*>& group,
                              const std::string& metric = "forward_error");

struct StudyOptions {
  std::string out_dir;
  unsigned threads = 1;
  bool resume = false;
  bool plots = true;         // run validation/plot_report.py
  std::string plot_script;   // default: the source tree's validation/plot_report.py
  std::string command;       // the command line recorded in the report
  bool progress = true;      // counts and ETA on stderr
  // Test hook: called after each finished row with the number finished so far; when
  // it returns false the driver stops as if interrupted (no final files written).
  std::function<bool(std::size_t)> on_row;
};

struct StudySummary {
  std::size_t planned = 0, run = 0, resumed = 0;
  bool completed = false;
  std::string plots_note;  // "" when plots were rendered
};

// Runs the study into options.out_dir (created if missing). Rows are appended to
// DIR/results.partial.csv as they finish; at the end results.csv, results.json, the
// plots and report.md are written to temporary names and renamed, and the partial
// file is removed. With `resume`, rows of DIR/results.csv and DIR/results.partial.csv
// whose key is in the plan are kept and not run again.
StudySummary run_study(const StudyConfig& config, const StudyOptions& options);

}  // namespace triscan::validation
