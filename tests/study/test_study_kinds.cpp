// The study kinds "wy" and "scan" (validation/study.hpp, docs/study.md "Kinds"): their
// config keys are checked before any work with the key and the allowed values; a small
// study of each runs end to end with real numbers inside the documented bounds; the
// report's cells are the CSV's numbers; --resume and the thread count do not change
// the results; metrics of another kind are empty fields, NaN ones are "nan".
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "tests/study/study_test_util.hpp"
#include "validation/study.hpp"

namespace fs = std::filesystem;
using namespace triscan;
using namespace triscan::validation;
using namespace triscan::study_test;

namespace {

// 2 chunk/ representations (each fits one generator) + 2 householder/ (both) = 6 pairs
// x 2 precisions x 2 sizes x 2 seeds = 48 runs.
const char* const wy_config = R"({
  "name": "tiny-wy",
  "kind": "wy",
  "methods": ["chunk/deltanet", "chunk/gated", "householder/compact_wy", "householder/wy"],
  "precisions": ["fp64", {"format": "bf16", "accumulate": "fp32"}],
  "generators": [{"name": "deltanet", "dk": 16, "dv": 8}, {"name": "gated", "dk": 16, "dv": 8}],
  "sizes": [8, 16],
  "seeds": [1, 2],
  "report_metrics": ["representation_error", "w_error", "orthogonality_loss"]
})";

// 4 algorithms x 3 precisions (one with an fp32 state, one stochastic) x 3 kinds x 2 lengths x 2 seeds.
const char* const scan_config = R"({
  "name": "tiny-scan",
  "kind": "scan",
  "methods": ["all"],
  "precisions": ["fp64", {"format": "bf16", "output": "fp32", "state": "fp32"}, {"format": "fp16", "rounding": "sr"}],
  "scan_kinds": ["diagonal", "dense", "delta"],
  "dim": 3,
  "sizes": [16, 100],
  "seeds": [1, 2]
})";


}  // namespace

// ---- Config validation ---------------------------------------------------------------

TEST(StudyKindsConfig, EveryBadKeyOrValueIsNamedWithTheAllowedValues) {
  struct Bad {
    const char* what;
    std::string json;
    std::vector<std::string> must_mention;
  };
  const std::string wy_base = R"("kind": "wy", "precisions": ["fp32"], "generators": ["deltanet"], "sizes": [8], "seeds": [1])";
  const std::string scan_base = R"("kind": "scan", "methods": ["all"], "sizes": [8], "seeds": [1])";
  auto wy = [&](const std::string& extra) { return "{" + wy_base + ", " + extra + "}"; };
  auto scan = [&](const std::string& extra) { return "{" + scan_base + ", " + extra + "}"; };
  const std::string kinds = R"("scan_kinds": ["diagonal"])";
  const std::string precs = R"("precisions": ["fp32"])";
  const std::vector<Bad> cases = {
      {"unknown kind", R"({"kind": "lstm"})", {"'kind'", "inversion, wy, scan, delta"}},
      {"wy: unknown representation", wy(R"("methods": ["chunk/nope"])"), {"'methods[0]'", "chunk/deltanet", "householder/compact_wy"}},
      {"wy: a trinv method", wy(R"("methods": ["trinv/forward_substitution"])"), {"'methods[0]'", "chunk/kda", "householder/ut"}},
      {"wy: unknown householder method", wy(R"("methods": ["householder/nope"])"), {"'methods[0]'", "householder/tree"}},
      {"wy: representation that fits no generator", wy(R"("methods": ["chunk/kda"])"), {"'methods[0]'", "fits none", "kda: kda"}},
      {"wy: key of another kind", wy(R"("methods": ["all"], "scan_kinds": ["delta"])"),
       {"'scan_kinds'", "unknown key for kind 'wy'", "trinv_method", "reflectors"}},
      {"wy: unknown trinv method", wy(R"("methods": ["chunk/deltanet"], "trinv_method": "trinv/nope")"),
       {"'trinv_method'", "trinv/forward_substitution"}},
      {"wy: householder_steps 0", wy(R"("methods": ["chunk/deltaproduct"], "householder_steps": 0)"),
       {"'householder_steps'", "[1, 64]"}},
      {"wy: reflectors not a bool", wy(R"("methods": ["householder/wy"], "reflectors": "yes")"),
       {"'reflectors'", "true or false"}},
      {"wy: metric of another kind", wy(R"("methods": ["householder/wy"], "report_metrics": ["forward_error"])"),
       {"'report_metrics[0]'", "representation_error", "orthogonality_loss"}},
      {"wy: state format", R"({"kind": "wy", "methods": ["householder/wy"], "precisions": [{"format": "fp32", "state": "fp32"}], "generators": ["deltanet"], "sizes": [8], "seeds": [1]})",
       {"'precisions[0].state'", "accumulate"}},
      {"wy: chunk size above 1024", wy(R"("methods": ["householder/wy"], "sizes": [2048])"), {"'sizes[0]'", "[1, 1024]"}},
      {"scan: unknown algorithm", R"({"kind": "scan", "methods": ["scan/nope"], "precisions": ["fp32"], "scan_kinds": ["diagonal"], "sizes": [8], "seeds": [1]})",
       {"'methods[0]'", "scan/sequential", "scan/blelloch"}},
      {"scan: unknown scan kind", scan(precs + R"(, "scan_kinds": ["diag"])"), {"'scan_kinds[0]'", "log_diagonal", "delta"}},
      {"scan: duplicate scan kind", scan(precs + R"(, "scan_kinds": ["delta", "delta"])"), {"'scan_kinds[1]'", "twice"}},
      {"scan: missing scan_kinds", scan(precs), {"'scan_kinds'", "missing"}},
      {"scan: generators", scan(precs + ", " + kinds + R"(, "generators": ["deltanet"])"),
       {"'generators'", "unknown key for kind 'scan'", "scan_kinds", "decay_min"}},
      {"scan: unknown state format", scan(kinds + R"(, "precisions": [{"format": "bf16", "state": "fp31"}])"),
       {"'precisions[0].state'", "fp32", "bf16"}},
      {"scan: same precision twice (state = storage is the default)",
       scan(kinds + R"(, "precisions": ["bf16", {"format": "bf16", "state": "bf16"}])"), {"'precisions[1]'", "twice"}},
      {"scan: unknown gate", scan(precs + ", " + kinds + R"(, "gate": "both")"), {"'gate'", "none, scalar, channel"}},
      {"scan: decay_min 0", scan(precs + ", " + kinds + R"(, "decay_min": 0)"), {"'decay_min'", "(0, 1]"}},
      {"scan: gate_value positive", scan(precs + ", " + kinds + R"(, "gate_value": 1)"), {"'gate_value'", "[-700, 0]"}},
      {"scan: dim 0", scan(precs + ", " + kinds + R"(, "dim": 0)"), {"'dim'", "[1, 64]"}},
      {"scan: length above the limit",
       R"({"kind": "scan", "methods": ["all"], "precisions": ["fp32"], "scan_kinds": ["diagonal"], "sizes": [2097152], "seeds": [1]})",
       {"'sizes[0]'", "[1, 1048576]"}},
      {"scan: metric of another kind", scan(precs + ", " + kinds + R"(, "report_metrics": ["w_error"])"),
       {"'report_metrics[0]'", "bound_ratio", "max_rel_error"}},
  };
  for (const auto& c : cases) {
    try {
      parse_study_config(c.json, "test");
      ADD_FAILURE() << c.what << ": accepted " << c.json;
    } catch (const std::invalid_argument& e) {
      const std::string msg = e.what();
      for (const auto& s : c.must_mention)
        EXPECT_NE(msg.find(s), std::string::npos) << c.what << ": message lacks \"" << s << "\": " << msg;
    }
  }
}

TEST(StudyKindsConfig, PlanSkipsChunkRepresentationsOnGeneratorsThatDoNotFit) {
  const StudyConfig c = parse_study_config(wy_config, "wy");
  const auto plan = plan_study(c);
  ASSERT_EQ(plan.size(), 48u);
  std::map<std::string, int> seen;
  for (const auto& r : plan) {
    EXPECT_EQ(++seen[r.key], 1) << "duplicate key " << r.key;
    if (r.method == "chunk/deltanet") {
      EXPECT_EQ(c.generators[r.generator].name, "deltanet") << r.key;
    }
    if (r.method == "chunk/gated") {
      EXPECT_EQ(c.generators[r.generator].name, "gated") << r.key;
    }
  }
  EXPECT_EQ(plan[0].key,
            "wy|chunk/deltanet|fp64 rn|deltanet(dk=16,dv=8)|8|1|trinv/forward_substitution|nh=2|reflectors");
  const StudyConfig s = parse_study_config(scan_config, "scan");
  EXPECT_EQ(plan_study(s).size(), s.methods.size() * 3 * 3 * 2 * 2);
  EXPECT_EQ(study_precision_label(s, 1), "bf16/fp32out/fp32state rn");
  EXPECT_EQ(study_input_label(s, 2), "delta(d=3)");
}

// ---- End to end --------------------------------------------------------------------------

TEST(StudyKindsRun, WyStudyRunsEndToEndWithinTheBounds) {
  TempDir dir("wy");
  const StudyConfig c = parse_study_config(wy_config, "wy");
  const StudySummary s = run_study(c, quiet_options(dir.path, 2, false));
  ASSERT_TRUE(s.completed);
  const auto rows = read_study_csv((dir.path / "results.csv").string());
  ASSERT_EQ(rows.size(), 48u);
  for (const auto& r : rows) {
    const std::string where = r.method + " " + r.precision + " " + r.generator + " C/r=" + std::to_string(r.n) +
                              " seed=" + std::to_string(r.seed);
    EXPECT_EQ(r.kind, "wy");
    EXPECT_EQ(r.status, "ok") << where;
    const double u = r.unit_roundoff;
    if (r.method.rfind("chunk/", 0) == 0) {
      // wy_error_bound (docs/wy.md "Error bound") bounds w_error and u_error.
      EXPECT_EQ(r.bound_name, "wy_error_bound") << where;
      EXPECT_EQ(r.within_bound, "yes") << where << ": w " << r.w_error << " u " << r.u_error << " bound " << r.bound;
      EXPECT_LE(std::max(r.w_error, r.u_error), r.bound) << where;
      EXPECT_GE(r.cond, 1.0) << where;  // Skeel cond of a unit triangular matrix
      EXPECT_TRUE(std::isnan(r.orthogonality_loss)) << where << " (householder/ only)";
      if (r.format == "bf16") {
        EXPECT_GT(r.w_error, 1e-5) << where << " (bf16 rounding must show)";
      }
    } else {
      // r reflectors of order m applied in a precision with unit roundoff u: Higham ASNA
      // Lemma 19.3 gives ||Q^ - Q||_F <= sqrt(m) r gamma~_{cm}; relative to ||Q||_F =
      // sqrt(m) that is r c m u / (1 - c m u); we take c = 2. Then ||Q^T Q - I||_F <=
      // 2 ||Q^ - Q||_F + ||Q^ - Q||_F^2 (with ||Q||_2 = 1).
      const double m = 16, rr = static_cast<double>(r.n);
      const double rel = rr * 2 * m * u / (1 - 2 * m * u);
      EXPECT_TRUE(r.bound_name.empty()) << where;
      EXPECT_EQ(r.within_bound, "") << where;
      EXPECT_TRUE(std::isnan(r.w_error)) << where << " (chunk/ only)";
      if (rel < 1) {
        EXPECT_LE(r.representation_error, rel) << where;
        const double abs = rel * std::sqrt(m);
        EXPECT_LE(r.orthogonality_loss, 2 * abs + abs * abs) << where;
      }
      EXPECT_TRUE(std::isfinite(r.orthogonality_loss)) << where << " (reflectors: the loss is reported)";
      if (r.format == "bf16") {
        EXPECT_GT(r.representation_error, 1e-5) << where << " (bf16 rounding must show)";
      }
    }
  }
  // The CSV has an empty field where a metric is not the row's kind's; the JSON leaves it out.
  const std::string csv = read_text(dir.path / "results.csv");
  const auto j = nlohmann::json::parse(read_text(dir.path / "results.json"));
  ASSERT_EQ(j.at("rows").size(), rows.size());
  EXPECT_EQ(j.at("kind"), "wy");
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto& row = j["rows"][i];
    EXPECT_EQ(row["key"], rows[i].key);
    EXPECT_FALSE(row.contains("forward_error")) << rows[i].key;
    EXPECT_EQ(row["representation_error"].get<double>(), rows[i].representation_error) << rows[i].key;
    EXPECT_EQ(row.contains("w_error"), rows[i].method.rfind("chunk/", 0) == 0) << rows[i].key;
  }
  // report.md: the wy sections, and each cell the largest representation_error of its group.
  const std::string md = read_text(dir.path / "report.md");
  EXPECT_NE(md.find("- kind: wy"), std::string::npos);
  EXPECT_NE(md.find("wy_error_bound"), std::string::npos);
  EXPECT_NE(md.find("48 runs: 48 ok."), std::string::npos) << md.substr(0, 400);
  std::map<std::tuple<std::string, std::string, std::string>, double> largest;
  for (const auto& r : rows) {
    double& m = largest[{r.method, r.precision, r.generator}];
    m = std::max(m, r.representation_error);
  }
  for (const auto& [key, value] : largest) {
    const auto& [method, precision, generator] = key;
    // Three report metrics: one table per precision and metric, titled "<precision> — <metric>".
    EXPECT_EQ(report_cell(md, precision + " — representation_error", method, generator), sci(value))
        << method << " " << precision << " " << generator;
  }
  EXPECT_EQ(report_cell(md, "fp64 rn — representation_error", "chunk/deltanet", "gated(dk=16,dv=8)"), "")
      << "not run: empty cell";
}

TEST(StudyKindsRun, ScanStudyRunsEndToEndWithinTheBound) {
  TempDir dir("scan");
  const StudyConfig c = parse_study_config(scan_config, "scan");
  const StudySummary s = run_study(c, quiet_options(dir.path, 2, false));
  ASSERT_TRUE(s.completed);
  const auto rows = read_study_csv((dir.path / "results.csv").string());
  ASSERT_EQ(rows.size(), plan_study(c).size());
  for (const auto& r : rows) {
    const std::string where = r.method + " " + r.precision + " " + r.generator + " T=" + std::to_string(r.n) +
                              " seed=" + std::to_string(r.seed);
    EXPECT_EQ(r.kind, "scan");
    EXPECT_EQ(r.status, "ok") << where;
    // scan_error_bound (docs/scan.md "Error bounds"): every entry within, hence
    // forward_error <= ||b||_2 / ||H||_F (the bound column).
    EXPECT_EQ(r.bound_name, "scan_error_bound") << where;
    EXPECT_EQ(r.within_bound, "yes") << where << ": bound_ratio " << r.bound_ratio;
    EXPECT_LE(r.bound_ratio, 1.0) << where;
    EXPECT_LE(r.forward_error, r.bound) << where;
    EXPECT_LE(r.forward_error, r.max_rel_error * (1 + 1e-12)) << where << " (a mean of the per-token errors)";
    EXPECT_EQ(r.state_format, r.format == "bf16" ? "fp32" : r.format) << where;
    EXPECT_EQ(r.unit_roundoff, r.format == "fp64" ? 0x1p-53 : r.format == "fp16" ? 0x1p-11 : 0x1p-24) << where;
    if (r.format == "fp16") {
      EXPECT_GT(r.forward_error, 1e-5) << where << " (fp16 rounding must show)";
    }
    EXPECT_TRUE(std::isnan(r.cond)) << where << " (not a scan metric)";
  }
  const std::string md = read_text(dir.path / "report.md");
  EXPECT_NE(md.find("- kind: scan"), std::string::npos);
  EXPECT_NE(md.find("#### bf16/fp32out/fp32state rn"), std::string::npos);
  std::map<std::tuple<std::string, std::string, std::string>, double> largest;
  for (const auto& r : rows) {
    double& m = largest[{r.method, r.precision, r.generator}];
    m = std::max(m, r.forward_error);
  }
  for (const auto& [key, value] : largest) {
    const auto& [method, precision, input] = key;
    EXPECT_EQ(report_cell(md, precision, method, input), sci(value)) << method << " " << precision << " " << input;
  }
}

// The scan plots (validation/plot_report.py): error vs length per algorithm with the
// bound, and the algorithm x scan kind heat map, linked from report.md.
TEST(StudyKindsRun, ScanPlotsArePresentWhenMatplotlibIs) {
  TempDir dir("scanplots");
  const StudyConfig c = parse_study_config(R"({"kind": "scan", "methods": ["scan/sequential", "scan/blelloch"],
    "precisions": [{"format": "bf16", "output": "fp32", "state": "fp32"}], "scan_kinds": ["diagonal"],
    "sizes": [16, 64], "seeds": [1]})", "plots");
  const StudySummary s = run_study(c, quiet_options(dir.path, 1, true));
  ASSERT_TRUE(s.completed);
  const std::string md = read_text(dir.path / "report.md");
  if (s.plots_note.find("no matplotlib") != std::string::npos) GTEST_SKIP() << "no matplotlib: PNGs not checked";
  ASSERT_EQ(s.plots_note, "") << read_text(dir.path / "plots.log");
  for (const char* p : {"scan_error_vs_length_bf16_fp32out_fp32state_rn.png", "heatmap_bf16_fp32out_fp32state_rn.png"}) {
    const fs::path f = dir.path / "plots" / p;
    ASSERT_TRUE(fs::exists(f)) << p;
    EXPECT_EQ(read_text(f).substr(1, 3), "PNG") << p;
    EXPECT_NE(md.find(std::string("](plots/") + p + ")"), std::string::npos) << p;
  }
}

// The wy plots with two chunk sizes: the error-vs-C plot of the chunk/ rows is drawn and
// linked, next to the heat maps.
TEST(StudyKindsRun, WyErrorVsChunkSizePlotIsPresentWhenMatplotlibIs) {
  TempDir dir("wyplots");
  const StudyConfig c = parse_study_config(R"({"kind": "wy", "methods": ["chunk/deltanet", "householder/wy"],
    "precisions": ["fp32"], "generators": [{"name": "deltanet", "dk": 8, "dv": 8}], "sizes": [8, 16], "seeds": [1]})",
                                           "wyplots");
  const StudySummary s = run_study(c, quiet_options(dir.path, 1, true));
  ASSERT_TRUE(s.completed);
  const std::string md = read_text(dir.path / "report.md");
  if (s.plots_note.find("no matplotlib") != std::string::npos) GTEST_SKIP() << "no matplotlib: PNGs not checked";
  ASSERT_EQ(s.plots_note, "") << read_text(dir.path / "plots.log");
  for (const char* p : {"wy_error_vs_chunk_fp32_rn.png", "heatmap_fp32_rn.png", "orthogonality_fp32_rn.png"}) {
    const fs::path f = dir.path / "plots" / p;
    ASSERT_TRUE(fs::exists(f)) << p;
    EXPECT_EQ(read_text(f).substr(1, 3), "PNG") << p;
    EXPECT_NE(md.find(std::string("](plots/") + p + ")"), std::string::npos) << p;
  }
}

// ---- Resume and determinism ------------------------------------------------------------

TEST(StudyKindsRun, ResumeAndThreadCountGiveTheSameFilesForBothKinds) {
  for (const char* text : {scan_config, wy_config}) {
    const StudyConfig c = parse_study_config(text, "resume");
    TempDir fresh(c.kind + "_fresh"), broken(c.kind + "_broken");
    ASSERT_TRUE(run_study(c, quiet_options(fresh.path, 1, false)).completed);
    StudyOptions o = quiet_options(broken.path, 2, false);
    o.on_row = [](std::size_t done) { return done < 7; };
    const StudySummary first = run_study(c, o);
    EXPECT_FALSE(first.completed);
    EXPECT_FALSE(fs::exists(broken.path / "results.csv"));
    const std::size_t kept = read_study_csv((broken.path / "results.partial.csv").string()).size();
    EXPECT_GE(kept, 7u);
    std::size_t ran = 0;
    o.resume = true;
    o.on_row = [&ran](std::size_t) { ++ran; return true; };
    const StudySummary second = run_study(c, o);
    ASSERT_TRUE(second.completed);
    EXPECT_EQ(second.resumed, kept) << c.kind;
    EXPECT_EQ(ran, plan_study(c).size() - kept) << c.kind << ": resumed rows must not run again";
    // 1 thread fresh vs 2 threads with a resume: byte-identical results (fp16 sr included).
    EXPECT_EQ(read_text(broken.path / "results.csv"), read_text(fresh.path / "results.csv")) << c.kind;
  }
}

TEST(StudyKindsCsv, NonApplicableMetricsAreEmptyAndNaNIsKept) {
  StudyRow r;
  r.key = "scan|k";
  r.kind = "scan";
  r.method = "scan/blelloch";
  r.status = "overflow";
  r.forward_error = std::nan("");
  r.max_rel_error = INFINITY;
  r.bound_ratio = std::nan("");
  r.bound = std::nan("");
  r.state_format = "fp16";
  r.w_error = 0.5;  // not a scan metric: not written
  const std::string line = study_csv_line(r);
  const auto rows = csv_round_trip(line);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].status, "overflow");
  EXPECT_TRUE(std::isnan(rows[0].forward_error));
  EXPECT_EQ(rows[0].max_rel_error, INFINITY);
  EXPECT_TRUE(std::isnan(rows[0].w_error));
  EXPECT_EQ(rows[0].state_format, "fp16");
  EXPECT_EQ(study_csv_line(rows[0]), line);
  // The scan columns of this line: forward_error "nan", cond and w_error empty.
  const auto cols = study_csv_columns();
  std::vector<std::string> fields;
  std::string field;
  std::istringstream in(line);
  while (std::getline(in, field, ',')) fields.push_back(field);
  if (!line.empty() && line.back() == ',') fields.push_back("");
  ASSERT_EQ(fields.size(), cols.size());
  for (std::size_t i = 0; i < cols.size(); ++i) {
    if (cols[i] == "forward_error") {
      EXPECT_EQ(fields[i], "nan");
    }
    if (cols[i] == "max_rel_error") {
      EXPECT_EQ(fields[i], "inf");
    }
    if (cols[i] == "cond" || cols[i] == "w_error" || cols[i] == "iterations") {
      EXPECT_EQ(fields[i], "") << cols[i];
    }
  }
}

// A results.csv written before the wy and scan columns (header ending at `message`), or
// before the delta columns (ending at `bound_ratio`), is still read, so --resume keeps
// the rows of checked-in studies.
TEST(StudyKindsCsv, FilesWithoutTheAddedColumnsAreStillRead) {
  StudyRow r;
  r.key = "inversion|k";
  r.kind = "inversion";
  r.method = "trinv/forward_substitution";
  r.status = "ok";
  r.forward_error = 0.25;
  r.n = 8;
  const std::string line = study_csv_line(r), header = study_csv_header();
  for (const char* last : {"message", "bound_ratio"}) {
    // the columns after `last` are empty for an inversion row
    const std::size_t keep = header.find(std::string(",") + last) + 1 + std::string(last).size();
    const std::string old_header = header.substr(0, keep);
    const std::size_t added = static_cast<std::size_t>(std::count(header.begin() + static_cast<long>(keep), header.end(), ','));
    const std::string tail(added, ',');
    ASSERT_GT(added, 0u) << last;
    ASSERT_EQ(line.substr(line.size() - tail.size()), tail) << last;
    TempDir dir(std::string("legacy_") + last);
    fs::create_directories(dir.path);
    const fs::path f = dir.path / "old.csv";
    {
      std::ofstream out(f);
      out << old_header << "\n" << line.substr(0, line.size() - tail.size()) << "\n";
    }
    const auto rows = read_study_csv(f.string());
    ASSERT_EQ(rows.size(), 1u) << last;
    EXPECT_EQ(study_csv_line(rows[0]), line) << last;
    {
      std::ofstream out(f);
      out << "key,kind,something_else\n";
    }
    EXPECT_THROW(read_study_csv(f.string()), std::runtime_error);
  }
}
