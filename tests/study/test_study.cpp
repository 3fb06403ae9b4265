// The study driver (validation/study.hpp): every bad config key is rejected with its
// name and the allowed values; a tiny study writes CSV, JSON, Markdown (and plots when
// matplotlib is there) whose numbers agree; an interrupted run resumes to the same
// file a fresh run writes; results do not depend on the thread count.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
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

// A fresh directory per test, removed at the end.
// 2 methods x 2 precisions (one stochastic) x 2 generators x 2 sizes x 2 seeds = 32 runs.
const char* const tiny_config = R"({
  "name": "tiny",
  "methods": ["trinv/forward_substitution", "trinv/recursive_merge:base=4"],
  "precisions": ["fp64", {"format": "bf16", "accumulate": "fp32", "rounding": "sr"}],
  "generators": ["deltanet", {"name": "deltanet-equal", "beta": 1}],
  "sizes": [8, 16],
  "seeds": [3, 4]
})";

}  // namespace

// ---- Config validation ---------------------------------------------------------------

struct BadConfig {
  const char* what;
  std::string json;
  std::vector<std::string> must_mention;  // the key path, and some of the allowed values
};

std::string with(const std::string& key, const std::string& value) {
  std::map<std::string, std::string> base = {{"methods", R"(["trinv/forward_substitution"])"},
                                             {"precisions", R"(["fp64"])"},
                                             {"generators", R"(["deltanet"])"},
                                             {"sizes", "[8]"},
                                             {"seeds", "[1]"}};
  base[key] = value;
  std::string j = "{";
  for (const auto& [k, v] : base)
    if (!v.empty()) j += (j.size() > 1 ? ", \"" : "\"") + k + "\": " + v;
  return j + "}";
}

TEST(StudyConfig, EveryBadKeyOrValueIsNamedWithTheAllowedValues) {
  const std::vector<BadConfig> cases = {
      {"unknown top-level key", with("method", R"(["x"])"), {"'method'", "allowed: name, description, kind, methods"}},
      {"unknown kind", with("kind", R"("lstm")"), {"'kind'", "inversion, wy, scan"}},
      {"missing list", with("methods", ""), {"'methods'", "missing"}},
      {"empty list", with("sizes", "[]"), {"'sizes'", "non-empty"}},
      {"unknown method", with("methods", R"(["trinv/nope"])"), {"'methods[0]'", "trinv/forward_substitution"}},
      {"bad method parameter", with("methods", R"(["trinv/blocked:nb=0"])"), {"'methods[0]'", "nb"}},
      {"unknown method parameter", with("methods", R"(["trinv/blocked:bs=4"])"), {"'methods[0]'", "bs"}},
      {"duplicate method", with("methods", R"(["trinv/blocked:nb=8", "trinv/blocked:nb=8"])"), {"'methods[1]'", "twice"}},
      {"unknown format", with("precisions", R"([{"format": "fp17"}])"), {"'precisions[0].format'", "fp16", "bf16"}},
      {"unknown accumulate format", with("precisions", R"([{"format": "fp16", "accumulate": "fp33"}])"),
       {"'precisions[0].accumulate'", "fp32"}},
      {"unknown rounding", with("precisions", R"([{"format": "fp16", "rounding": "up"}])"),
       {"'precisions[0].rounding'", "rn", "sr"}},
      {"unknown precision key", with("precisions", R"([{"format": "fp16", "acc": "fp32"}])"),
       {"'precisions[0].acc'", "accumulate", "storage"}},
      {"unknown accumulation", with("precisions", R"([{"format": "fp16", "accumulation": "fast"}])"),
       {"'precisions[0].accumulation'", "exact-products"}},
      {"unknown generator", with("generators", R"(["deltanett"])"), {"'generators[0]'", "deltanet-equal", "kda"}},
      {"generator option it does not use", with("generators", R"([{"name": "ones", "gate": -1}])"),
       {"'generators[0]'", "gate"}},
      {"unknown generator key", with("generators", R"([{"name": "gated", "gat": -1}])"),
       {"'generators[0].gat'", "gate", "beta_max"}},
      {"generator option of the wrong type", with("generators", R"([{"name": "gated", "gate": "slow"}])"),
       {"'generators[0].gate'", "number"}},
      {"size 0", with("sizes", "[8, 0]"), {"'sizes[1]'", "[1, 1024]"}},
      {"size too large", with("sizes", "[4096]"), {"'sizes[0]'", "[1, 1024]"}},
      {"size not an integer", with("sizes", "[8.5]"), {"'sizes[0]'", "integer"}},
      {"negative seed", with("seeds", "[-1]"), {"'seeds[0]'", "out of range"}},
      {"duplicate seed", with("seeds", "[1, 1]"), {"'seeds[1]'", "twice"}},
      {"check_accuracy not a bool", with("check_accuracy", R"("yes")"), {"'check_accuracy'", "true or false"}},
      {"unknown report metric", with("report_metrics", R"(["error"])"), {"'report_metrics[0]'", "right_residual"}},
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
  EXPECT_THROW(parse_study_config("{\"methods\": [", "test"), std::invalid_argument);
}

TEST(StudyConfig, AllExpandsToTheRegistryAndPresetsParse) {
  const StudyConfig c = parse_study_config(with("methods", R"(["all"])"), "test");
  ASSERT_EQ(c.methods.size(), trinv_methods().size());
  for (std::size_t i = 0; i < c.methods.size(); ++i) EXPECT_EQ(c.methods[i], trinv_methods()[i].name);
  for (const auto& name : study_preset_names()) {
    try {
      const StudyConfig p = study_preset(name);
      EXPECT_EQ(p.name, name);
      EXPECT_FALSE(plan_study(p).empty()) << name;
    } catch (const std::invalid_argument& e) {
      ADD_FAILURE() << "preset " << name << ": " << e.what();
    }
  }
  EXPECT_THROW(study_preset("no-such-preset"), std::invalid_argument);
}

TEST(StudyConfig, PlanKeysAreUniqueAndDeterministic) {
  const StudyConfig c = parse_study_config(tiny_config, "tiny");
  const auto plan = plan_study(c);
  ASSERT_EQ(plan.size(), 32u);
  std::map<std::string, int> seen;
  for (const auto& r : plan) EXPECT_EQ(++seen[r.key], 1) << "duplicate key " << r.key;
  EXPECT_EQ(plan[0].key, "inversion|trinv/forward_substitution|fp64 rn|deltanet|8|3");
  EXPECT_EQ(plan_study(c)[31].key, plan[31].key);
}

// ---- End to end ----------------------------------------------------------------------

TEST(StudyRun, TinyStudyWritesCsvJsonAndAReportWithTheCsvNumbers) {
  TempDir dir("e2e");
  const StudyConfig c = parse_study_config(tiny_config, "tiny");
  const StudySummary s = run_study(c, quiet_options(dir.path, 2, true));
  ASSERT_TRUE(s.completed);
  EXPECT_EQ(s.run, 32u);
  for (const char* f : {"results.csv", "results.json", "report.md"}) EXPECT_TRUE(fs::exists(dir.path / f)) << f;
  for (const char* f : {"results.partial.csv", "results.csv.tmp", "report.md.tmp", "results.json.tmp"})
    EXPECT_FALSE(fs::exists(dir.path / f)) << f << " left behind";

  const auto rows = read_study_csv((dir.path / "results.csv").string());
  ASSERT_EQ(rows.size(), 32u);
  const auto plan = plan_study(c);
  for (std::size_t i = 0; i < rows.size(); ++i) EXPECT_EQ(rows[i].key, plan[i].key) << "rows in plan order";

  // Real numbers: fp64 Method 1 on these well-conditioned inputs is within its bound
  // gamma_{n+3} cond(L) (Higham ASNA Thm 8.5), and the bf16 errors are of order u_bf16.
  for (const auto& r : rows) {
    const std::string where = r.method + " " + r.precision + " " + r.generator + " n=" + std::to_string(r.n) +
                              " seed=" + std::to_string(r.seed);
    EXPECT_EQ(r.status, "ok") << where;
    EXPECT_TRUE(std::isfinite(r.forward_error)) << where;
    if (r.method == "trinv/forward_substitution") {
      EXPECT_EQ(r.within_bound, "yes") << where << ": error " << r.forward_error_inf << " bound " << r.bound;
      EXPECT_LE(r.forward_error_inf, r.bound) << where;
    }
    if (r.format == "bf16" && r.generator == "deltanet") {  // (near-)equal keys: inverse entries
                                                             // in {0, +-1}, often exact in bf16
      EXPECT_GT(r.forward_error, 1e-5) << where << " (bf16 rounding must show)";
      EXPECT_LT(r.forward_error, 64 * r.unit_roundoff) << where;
    }
  }

  // results.json: one row per run with the same numbers, plus the environment.
  const auto j = nlohmann::json::parse(read_text(dir.path / "results.json"));
  ASSERT_EQ(j.at("rows").size(), rows.size());
  for (const char* k : {"triscan_version", "git_revision", "compiler", "cpu", "date"})
    EXPECT_FALSE(j.at("environment").at(k).get<std::string>().empty()) << k;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(j["rows"][i]["key"], rows[i].key);
    EXPECT_EQ(j["rows"][i]["forward_error"].get<double>(), rows[i].forward_error) << rows[i].key;
  }

  // report.md: each table cell's number is the largest forward error of its group in the
  // CSV, formatted %.1e (computed here independently of the report writer).
  const std::string md = read_text(dir.path / "report.md");
  EXPECT_EQ(md.rfind("# Accuracy study `tiny`", 0), 0u);
  EXPECT_NE(md.find("**Finding**"), std::string::npos);
  EXPECT_NE(md.find("32 runs: 32 ok."), std::string::npos) << md.substr(0, 400);
  std::map<std::tuple<std::string, std::string, std::string>, double> largest;
  for (const auto& r : rows) {
    double& m = largest[{r.method, r.precision, r.generator}];
    m = std::max(m, r.forward_error);
  }
  for (const auto& [key, value] : largest) {
    char expected[32];
    std::snprintf(expected, sizeof expected, "%.1e", value);
    const auto& [method, precision, generator] = key;
    EXPECT_EQ(report_cell(md, precision, method, generator), expected) << method << " " << precision << " " << generator;
  }
}

TEST(StudyRun, PlotsArePresentWhenMatplotlibIs) {
  TempDir dir("plots");
  const StudyConfig c = parse_study_config(tiny_config, "tiny");
  const StudySummary s = run_study(c, quiet_options(dir.path, 2, true));
  ASSERT_TRUE(s.completed);
  const std::string md = read_text(dir.path / "report.md");
  if (s.plots_note.find("no matplotlib") != std::string::npos) {
    EXPECT_NE(md.find("Plots were skipped: python3 has no matplotlib"), std::string::npos);
    GTEST_SKIP() << "python3 has no matplotlib: the report says plots were skipped (checked); PNGs not checked";
  }
  ASSERT_EQ(s.plots_note, "") << "plot rendering failed: " << read_text(dir.path / "plots.log");
  for (const char* p : {"error_vs_n_fp64_rn.png", "heatmap_fp64_rn.png", "error_vs_n_bf16_fp32acc_sr.png",
                        "heatmap_bf16_fp32acc_sr.png", "residual_vs_n_fp64_rn.png", "residual_vs_n_bf16_fp32acc_sr.png"}) {
    const fs::path f = dir.path / "plots" / p;
    ASSERT_TRUE(fs::exists(f)) << p;
    EXPECT_GT(fs::file_size(f), 5000u) << p;
    EXPECT_EQ(read_text(f).substr(1, 3), "PNG") << p;
    EXPECT_NE(md.find(std::string("](plots/") + p + ")"), std::string::npos) << p << " not linked from report.md";
  }
}

// ---- Resume ----------------------------------------------------------------------------

TEST(StudyRun, ResumeAfterAnInterruptionRunsOnlyTheRestAndGivesTheSameFile) {
  TempDir fresh("fresh"), broken("resume");
  const StudyConfig c = parse_study_config(tiny_config, "tiny");
  ASSERT_TRUE(run_study(c, quiet_options(fresh.path, 1, false)).completed);

  // Interrupted after 11 rows: no final files, 11 rows in the partial file.
  StudyOptions o = quiet_options(broken.path, 1, false);
  o.on_row = [](std::size_t done) { return done < 11; };
  const StudySummary first = run_study(c, o);
  EXPECT_FALSE(first.completed);
  EXPECT_EQ(first.run, 11u);
  for (const char* f : {"results.csv", "results.json", "report.md"})
    EXPECT_FALSE(fs::exists(broken.path / f)) << f << " written by an interrupted run";
  const fs::path partial = broken.path / "results.partial.csv";
  ASSERT_EQ(read_study_csv(partial.string()).size(), 11u);
  // A torn last line, as a kill in the middle of a write leaves it.
  {
    std::ofstream torn(partial, std::ios::app);
    torn << "inversion|trinv/recursive_merge:base=4|fp64 rn|deltanet|8|3,inversion,trinv/rec";
  }

  std::size_t ran = 0;
  o.resume = true;
  o.on_row = [&ran](std::size_t) { ++ran; return true; };
  const StudySummary second = run_study(c, o);
  ASSERT_TRUE(second.completed);
  EXPECT_EQ(second.resumed, 11u);
  EXPECT_EQ(second.run, 21u);
  EXPECT_EQ(ran, 21u);
  EXPECT_FALSE(fs::exists(partial));
  EXPECT_EQ(read_text(broken.path / "results.csv"), read_text(fresh.path / "results.csv"));

  // Resuming a finished study runs nothing and rewrites the same results.
  ran = 0;
  const StudySummary third = run_study(c, o);
  EXPECT_EQ(third.resumed, 32u);
  EXPECT_EQ(ran, 0u);
  EXPECT_EQ(read_text(broken.path / "results.csv"), read_text(fresh.path / "results.csv"));
}

// ---- Determinism -------------------------------------------------------------------------

TEST(StudyRun, SameSeedsGiveTheSameNumbersForAnyThreadCount) {
  TempDir one("t1"), two("t2");
  const StudyConfig c = parse_study_config(tiny_config, "tiny");  // includes stochastic rounding
  ASSERT_TRUE(run_study(c, quiet_options(one.path, 1, false)).completed);
  ASSERT_TRUE(run_study(c, quiet_options(two.path, 2, false)).completed);
  const std::string a = read_text(one.path / "results.csv"), b = read_text(two.path / "results.csv");
  EXPECT_EQ(a, b);
  // Stochastic rounding really is in play: the two seeds of one input give different errors.
  const auto rows = read_study_csv((one.path / "results.csv").string());
  const StudyRow* s3 = nullptr;
  const StudyRow* s4 = nullptr;
  for (const auto& r : rows)
    if (r.rounding == "sr" && r.method == "trinv/forward_substitution" && r.n == 16 && r.generator == "deltanet")
      (r.seed == 3 ? s3 : s4) = &r;
  ASSERT_TRUE(s3 && s4);
  EXPECT_NE(s3->forward_error, s4->forward_error);
  // A row computed again on its own equals the file's.
  const auto plan = plan_study(c);
  const StudyRow again = run_study_row(c, plan[20]);
  EXPECT_EQ(study_csv_line(again), study_csv_line(rows[20]));
}

TEST(StudyCsv, RowsRoundTripIncludingNonFiniteValuesAndQuotes) {
  StudyRow r;
  r.key = "k|1";
  r.method = "trinv/refine:base=(trinv/newton_schulz:iters=3),steps=1";
  r.forward_error = std::nan("");
  r.forward_error_inf = INFINITY;
  r.kappa = 0.1 + 0.2;
  r.seed = 18446744073709551615ull;
  r.message = "overflow at \"N^4\", step 2\nnext line";
  const auto rows = csv_round_trip(study_csv_line(r));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].method, r.method);
  EXPECT_TRUE(std::isnan(rows[0].forward_error));
  EXPECT_EQ(rows[0].forward_error_inf, INFINITY);
  EXPECT_EQ(rows[0].kappa, r.kappa);  // 17 significant digits round-trip
  EXPECT_EQ(rows[0].seed, r.seed);
  EXPECT_EQ(rows[0].message, "overflow at \"N^4\", step 2 next line");
  EXPECT_EQ(study_csv_line(rows[0]), study_csv_line(rows[0]));
}

// ---- Bounds ----------------------------------------------------------------------------

// The a-priori bounds of validation/bounds.hpp hold on real runs, including the growth
// bounds on the inputs that make them large (equal and correlated keys), and methods
// without a known bound get none.
TEST(StudyBounds, GrowthAndSubstitutionBoundsHoldAndUnknownOnesAreAbsent) {
  const StudyConfig c = parse_study_config(R"({
    "methods": ["trinv/forward_substitution", "trinv/forward_substitution_row", "trinv/blocked:nb=4",
                "trinv/recursive_merge:base=4", "trinv/product_form", "trinv/neumann", "trinv/newton_schulz",
                "trinv/newton_schulz:start=scaled", "trinv/refine"],
    "precisions": ["fp64", {"format": "fp16", "accumulate": "fp32"}],
    "generators": ["deltanet-equal", "deltanet-correlated", "gaussian"],
    "sizes": [16, 24],
    "seeds": [1]
  })", "bounds");
  for (const auto& run : plan_study(c)) {
    const StudyRow r = run_study_row(c, run);
    const bool none = r.method == "trinv/newton_schulz:start=scaled" || r.method == "trinv/refine";
    EXPECT_EQ(r.bound_name.empty(), none) << run.key;
    if (none) {
      EXPECT_TRUE(std::isnan(r.bound)) << run.key;
      EXPECT_EQ(r.within_bound, "") << run.key;
      continue;
    }
    if (!std::isfinite(r.forward_error_inf)) continue;  // overflow: reported by the status
    EXPECT_EQ(r.within_bound, "yes") << run.key << ": forward_error_inf " << r.forward_error_inf << " > bound "
                                     << r.bound << " (" << r.bound_name << ")";
    EXPECT_GT(r.bound, 0.0) << run.key;
  }
}
