// The study kind "delta" (the chunkwise delta-rule forward, validation/study.hpp) and
// studies of parts (docs/study.md "Kinds", "Parts"): bad keys and values are named with
// the allowed values before any work; a tiny delta study runs end to end, each row the
// numbers `triscan delta-forward` computes for the same case (run_delta_forward_case,
// built here by hand), inside the first-order bounds of docs/wy.md; the report's cells
// are the CSV's; --resume and the thread count leave the files byte-identical; a study
// of a scan part and a delta part writes one CSV with both kinds and a report section
// (with its plots) per part.
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

#include "validation/chunk_wy_experiment.hpp"
#include "tests/study/study_test_util.hpp"
#include "validation/study.hpp"

namespace fs = std::filesystem;
using namespace triscan;
using namespace triscan::validation;
using namespace triscan::study_test;

namespace {

// 2 chunk sizes x 3 precisions x 3 families x 2 lengths (partial chunks) x 1 seed = 36.
const char* const delta_config = R"({
  "name": "tiny-delta",
  "kind": "delta",
  "families": ["deltanet", {"name": "gated", "gate": -0.1}, "kda"],
  "chunks": [16, 32],
  "precisions": ["fp64", "fp32", {"format": "bf16", "state": "fp32"}],
  "heads": 2, "dk": 4, "dv": 3,
  "sizes": [20, 45],
  "seeds": [1],
  "report_metrics": ["output_error", "state_error"]
})";

const char* const parts_config = R"({
  "name": "tiny-parts",
  "description": "scan and delta",
  "parts": [
    {"kind": "scan", "methods": ["scan/sequential", "scan/chunked"], "precisions": ["fp32"],
     "scan_kinds": ["diagonal"], "dim": 2, "sizes": [16, 64], "seeds": [1]},
    {"kind": "delta", "families": ["deltanet"], "chunks": [16], "precisions": ["fp32"],
     "dk": 4, "dv": 4, "sizes": [16, 40], "seeds": [1]}
  ]
})";


}  // namespace

// ---- Config validation ---------------------------------------------------------------

TEST(StudyDeltaConfig, EveryBadKeyOrValueIsNamedWithTheAllowedValues) {
  struct Bad {
    const char* what;
    std::string json;
    std::vector<std::string> must_mention;
  };
  const std::string base = R"("kind": "delta", "precisions": ["fp32"], "sizes": [32], "seeds": [1])";
  auto delta = [&](const std::string& extra) { return "{" + base + ", " + extra + "}"; };
  const std::string fam = R"("families": ["deltanet"])", ch = R"("chunks": [16])";
  const std::vector<Bad> cases = {
      {"unknown family", delta(R"("families": ["mamba"], )" + ch),
       {"'families[0]'", "deltanet", "deltanet-equal", "gated", "kda"}},
      {"unknown family in an object", delta(R"("families": [{"name": "dplr"}], )" + ch),
       {"'families[0].name'", "gated", "kda"}},
      {"family key", delta(R"("families": [{"name": "gated", "decay": -1}], )" + ch),
       {"'families[0].decay'", "gate", "beta_max"}},
      {"gate on kda", delta(R"("families": [{"name": "kda", "gate": -0.1}], )" + ch), {"'families[0].gate'", "gated"}},
      {"gate out of range", delta(R"("families": [{"name": "gated", "gate": 1}], )" + ch), {"'families[0]'", "gate"}},
      {"duplicate family", delta(R"("families": ["kda", "kda"], )" + ch), {"'families[1]'", "twice"}},
      {"missing families", delta(ch), {"'families'", "missing"}},
      {"chunk size 48", delta(fam + R"(, "chunks": [16, 48])"), {"'chunks[1]'", "16, 32, 64, 128"}},
      {"missing chunks", delta(fam), {"'chunks'", "missing"}},
      {"methods are the chunk sizes", delta(fam + ", " + ch + R"(, "methods": ["all"])"),
       {"'methods'", "unknown key for kind 'delta'", "families", "chunks", "heads", "initial_state"}},
      {"key of another kind", delta(fam + ", " + ch + R"(, "scan_kinds": ["delta"])"),
       {"'scan_kinds'", "unknown key for kind 'delta'", "trinv_method"}},
      {"heads 0", delta(fam + ", " + ch + R"(, "heads": 0)"), {"'heads'", "[1, 64]"}},
      {"dk too large", delta(fam + ", " + ch + R"(, "dk": 1000)"), {"'dk'", "[1, 256]"}},
      {"dv not an integer", delta(fam + ", " + ch + R"(, "dv": 2.5)"), {"'dv'", "integer"}},
      {"initial_state not a bool", delta(fam + ", " + ch + R"(, "initial_state": 1)"),
       {"'initial_state'", "true or false"}},
      {"unknown trinv method", delta(fam + ", " + ch + R"(, "trinv_method": "trinv/nope")"),
       {"'trinv_method'", "trinv/forward_substitution"}},
      {"unknown state format",
       R"({"kind": "delta", "families": ["deltanet"], "chunks": [16], "precisions": [{"format": "bf16", "state": "fp33"}], "sizes": [32], "seeds": [1]})",
       {"'precisions[0].state'", "fp32", "bf16"}},
      {"length above the limit", R"({"kind": "delta", "families": ["deltanet"], "chunks": [16], "precisions": ["fp32"], "sizes": [2097152], "seeds": [1]})",
       {"'sizes[0]'", "[1, 1048576]"}},
      {"metric of another kind", delta(fam + ", " + ch + R"(, "report_metrics": ["forward_error"])"),
       {"'report_metrics[0]'", "output_error", "state_error"}},
      // studies of parts
      {"parts: a part's key is named with its part",
       R"({"parts": [{"kind": "scan", "methods": ["all"], "precisions": ["fp32"], "scan_kinds": ["diagonal"], "sizes": [8], "seeds": [1]},
                     {"kind": "delta", "families": ["deltanet"], "chunks": [17], "precisions": ["fp32"], "sizes": [8], "seeds": [1]}]})",
       {"'parts[1].chunks[0]'", "16, 32, 64, 128"}},
      {"parts: two of one kind",
       R"({"parts": [{"kind": "delta", "families": ["deltanet"], "chunks": [16], "precisions": ["fp32"], "sizes": [8], "seeds": [1]},
                     {"kind": "delta", "families": ["kda"], "chunks": [16], "precisions": ["fp32"], "sizes": [8], "seeds": [1]}]})",
       {"'parts[1].kind'", "parts[0]", "inversion, wy, scan, delta"}},
      {"parts: other top-level keys", R"({"parts": [], "kind": "scan"})", {"'kind'", "name, description, parts"}},
      {"parts: empty", R"({"parts": []})", {"'parts'", "non-empty"}},
      {"parts: a name inside", R"({"parts": [{"name": "x", "kind": "delta"}]})", {"'parts[0].name'", "top level"}},
      {"parts: not an object", R"({"parts": ["scan-length"]})", {"'parts[0]'", "object"}},
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

TEST(StudyDeltaConfig, PlanKeysAndLabels) {
  const StudyConfig c = parse_study_config(delta_config, "delta");
  ASSERT_EQ(c.methods, (std::vector<std::string>{"chunkwise/C=16", "chunkwise/C=32"}));
  const auto plan = plan_study(c);
  ASSERT_EQ(plan.size(), 36u);
  std::map<std::string, int> seen;
  for (const auto& r : plan) EXPECT_EQ(++seen[r.key], 1) << "duplicate key " << r.key;
  EXPECT_EQ(plan[0].key,
            "delta|chunkwise/C=16|fp64 rn|deltanet|20|1|trinv/forward_substitution|H=2|dk=4|dv=3|initial_state");
  EXPECT_EQ(study_precision_label(c, 2), "bf16/fp32state rn");
  EXPECT_EQ(study_input_label(c, 1), "gated(gate=-0.1)");
  EXPECT_EQ(study_delta_family("deltanet-equal"), "deltanet");
  EXPECT_EQ(study_delta_family("kda"), "kda");
  EXPECT_EQ(study_delta_family("ones"), "");
  // Parts: the plans one after the other, each run knowing its part.
  const StudyConfig p = parse_study_config(parts_config, "parts");
  EXPECT_EQ(p.kind, "parts");
  ASSERT_EQ(p.parts.size(), 2u);
  const auto pp = plan_study(p);
  const std::size_t n0 = plan_study(p.parts[0]).size(), n1 = plan_study(p.parts[1]).size();
  ASSERT_EQ(pp.size(), n0 + n1);
  for (std::size_t i = 0; i < pp.size(); ++i) {
    EXPECT_EQ(pp[i].index, i);
    EXPECT_EQ(pp[i].part, i < n0 ? 0u : 1u);
    EXPECT_EQ(pp[i].key.substr(0, 6), i < n0 ? "scan|s" : "delta|");
  }
}

// The checked-in scan-length preset is a study of a scan part and a delta part.
TEST(StudyDeltaConfig, ScanLengthPresetHasScanAndDeltaParts) {
  const StudyConfig c = study_preset("scan-length");
  ASSERT_EQ(c.parts.size(), 2u);
  EXPECT_EQ(c.parts[0].kind, "scan");
  EXPECT_EQ(c.parts[1].kind, "delta");
  EXPECT_EQ(study_preset("default").kind, "inversion");
}

// ---- End to end --------------------------------------------------------------------------

TEST(StudyDeltaRun, TinyStudyRowsAreTheForwardsNumbersWithinTheBounds) {
  TempDir dir("run");
  const StudyConfig c = parse_study_config(delta_config, "delta");
  const StudySummary s = run_study(c, quiet_options(dir.path, 2, false));
  ASSERT_TRUE(s.completed);
  const auto rows = read_study_csv((dir.path / "results.csv").string());
  ASSERT_EQ(rows.size(), 36u);
  for (const auto& r : rows) {
    const std::string where = r.method + " " + r.precision + " " + r.generator + " T=" + std::to_string(r.n);
    EXPECT_EQ(r.kind, "delta");
    EXPECT_EQ(r.status, "ok") << where;
    // The same case built by hand, as `triscan delta-forward --format F --state-format S
    // --generator G [--gate g] --length T --heads 2 --dk 4 --dv 3 --chunk C --seed 1` builds it.
    DeltaForwardCase dc;
    dc.family = r.generator_name == "deltanet" ? "deltanet" : r.generator_name;
    dc.generator.name = r.generator_name;
    if (r.generator_name == "gated") dc.generator.gate = -0.1;
    dc.generator.dk = 4;
    dc.generator.dv = 3;
    dc.generator.seed = 1;
    dc.generator.n = r.method == "chunkwise/C=16" ? 16 : 32;
    dc.chunk = dc.generator.n;
    dc.length = r.n;
    dc.heads = 2;
    dc.precision = Precision::uniform(format_by_name(r.format));
    dc.state_format = format_by_name(r.format == "bf16" ? "fp32" : r.format);
    const DeltaForwardRecord want = run_delta_forward_case(dc);
    EXPECT_EQ(r.output_error, want.output_error) << where;
    EXPECT_EQ(r.state_error, want.state_error) << where;
    EXPECT_EQ(r.bound, want.output_bound) << where;
    EXPECT_EQ(r.state_bound, want.state_bound) << where;
    EXPECT_EQ(r.state_format, dc.state_format.name) << where;
    EXPECT_EQ(r.unit_roundoff, dc.precision.working_unit_roundoff()) << where;
    // docs/wy.md "Chunkwise forward: error bound": first-order bounds on both errors.
    EXPECT_EQ(r.bound_name, "delta_forward_bound") << where;
    EXPECT_EQ(r.within_bound, "yes") << where;
    EXPECT_LE(r.output_error, r.bound) << where;
    EXPECT_LE(r.state_error, r.state_bound) << where;
    if (r.format == "bf16") {
      EXPECT_GT(r.output_error, 1e-4) << where << " (bf16 rounding must show)";
    }
    EXPECT_GT(r.output_error, 0.0) << where;
    EXPECT_TRUE(std::isnan(r.forward_error)) << where << " (not a delta metric)";
  }
  // JSON: the delta metrics and the state format, no metric of another kind.
  const auto j = nlohmann::json::parse(read_text(dir.path / "results.json"));
  EXPECT_EQ(j.at("kind"), "delta");
  EXPECT_EQ(j["sweep"]["options"]["chunks"], nlohmann::json({16, 32}));
  ASSERT_EQ(j.at("rows").size(), rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto& row = j["rows"][i];
    EXPECT_EQ(row["output_error"].get<double>(), rows[i].output_error);
    EXPECT_EQ(row["state_bound"].get<double>(), rows[i].state_bound);
    EXPECT_EQ(row["state_format"], rows[i].state_format);
    EXPECT_FALSE(row.contains("forward_error"));
  }
  // report.md: the delta sections, and each cell the largest error of its group.
  const std::string md = read_text(dir.path / "report.md");
  EXPECT_NE(md.find("- kind: delta"), std::string::npos);
  EXPECT_NE(md.find("delta_forward_bound"), std::string::npos);
  EXPECT_NE(md.find("36 runs: 36 ok."), std::string::npos) << md.substr(0, 400);
  EXPECT_NE(md.find("output_error (median) goes from"), std::string::npos) << md.substr(0, 1500);
  std::map<std::tuple<std::string, std::string, std::string>, std::pair<double, double>> largest;
  for (const auto& r : rows) {
    auto& m = largest[{r.method, r.precision, r.generator}];
    m.first = std::max(m.first, r.output_error);
    m.second = std::max(m.second, r.state_error);
  }
  for (const auto& [key, value] : largest) {
    const auto& [method, precision, family] = key;
    EXPECT_EQ(report_cell(md, precision + " — output_error", method, family), sci(value.first)) << method << precision;
    EXPECT_EQ(report_cell(md, precision + " — state_error", method, family), sci(value.second)) << method << precision;
  }
}

// A delta row that overflowed keeps its NaN/inf errors (never dropped): written as
// nan/inf, read back as such; the metrics of other kinds are empty fields.
TEST(StudyDeltaCsv, NonFiniteErrorsAreKeptAndOtherKindsMetricsAreEmpty) {
  StudyRow r;
  r.key = "delta|k";
  r.kind = "delta";
  r.method = "chunkwise/C=64";
  r.status = "overflow";
  r.output_error = std::nan("");
  r.state_error = INFINITY;
  r.state_bound = 0.5;
  r.bound = std::nan("");
  r.state_format = "fp16";
  r.forward_error = 0.25;  // not a delta metric: not written
  const std::string line = study_csv_line(r);
  const auto rows = csv_round_trip(line);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].status, "overflow");
  EXPECT_TRUE(std::isnan(rows[0].output_error));
  EXPECT_EQ(rows[0].state_error, INFINITY);
  EXPECT_EQ(rows[0].state_bound, 0.5);
  EXPECT_TRUE(std::isnan(rows[0].forward_error));
  EXPECT_EQ(rows[0].state_format, "fp16");
  EXPECT_EQ(study_csv_line(rows[0]), line);
  EXPECT_TRUE(study_metric_applies("output_error", "delta", r.method));
  EXPECT_FALSE(study_metric_applies("output_error", "scan", "scan/sequential"));
  EXPECT_FALSE(study_metric_applies("forward_error", "delta", r.method));
}

// ---- Resume and determinism ------------------------------------------------------------

TEST(StudyDeltaRun, ResumeAndThreadCountGiveTheSameFiles) {
  for (const char* text : {delta_config, parts_config}) {
    const StudyConfig c = parse_study_config(text, "resume");
    TempDir fresh(c.kind + "_fresh"), broken(c.kind + "_broken");
    ASSERT_TRUE(run_study(c, quiet_options(fresh.path, 1, false)).completed);
    StudyOptions o = quiet_options(broken.path, 2, false);
    o.on_row = [](std::size_t done) { return done < 5; };
    const StudySummary first = run_study(c, o);
    EXPECT_FALSE(first.completed);
    EXPECT_FALSE(fs::exists(broken.path / "results.csv"));
    const std::size_t kept = read_study_csv((broken.path / "results.partial.csv").string()).size();
    EXPECT_GE(kept, 5u);
    std::size_t ran = 0;
    o.resume = true;
    o.on_row = [&ran](std::size_t) {
      ++ran;
      return true;
    };
    const StudySummary second = run_study(c, o);
    ASSERT_TRUE(second.completed);
    EXPECT_EQ(second.resumed, kept) << c.kind;
    EXPECT_EQ(ran, plan_study(c).size() - kept) << c.kind << ": resumed rows must not run again";
    EXPECT_EQ(read_text(broken.path / "results.csv"), read_text(fresh.path / "results.csv")) << c.kind;
  }
}

// ---- Parts ---------------------------------------------------------------------------------

TEST(StudyDeltaRun, StudyOfPartsWritesBothKindsAndASectionPerPart) {
  TempDir dir("parts");
  const StudyConfig c = parse_study_config(parts_config, "parts");
  const StudySummary s = run_study(c, quiet_options(dir.path, 2, true));
  ASSERT_TRUE(s.completed);
  const auto rows = read_study_csv((dir.path / "results.csv").string());
  ASSERT_EQ(rows.size(), plan_study(c).size());
  std::map<std::string, int> kinds;
  for (const auto& r : rows) {
    ++kinds[r.kind];
    EXPECT_EQ(r.status, "ok") << r.key;
    EXPECT_EQ(r.within_bound, "yes") << r.key;
  }
  EXPECT_EQ(kinds["scan"], 4);
  EXPECT_EQ(kinds["delta"], 2);
  const auto j = nlohmann::json::parse(read_text(dir.path / "results.json"));
  EXPECT_EQ(j.at("kind"), "parts");
  ASSERT_EQ(j.at("parts").size(), 2u);
  EXPECT_EQ(j["parts"][1]["kind"], "delta");
  const std::string md = read_text(dir.path / "report.md");
  const std::size_t p1 = md.find("## Part 1: Scans (kind scan)"),
                    p2 = md.find("## Part 2: Chunkwise delta-rule forward (kind delta)");
  ASSERT_NE(p1, std::string::npos) << md;
  ASSERT_NE(p2, std::string::npos) << md;
  EXPECT_LT(p1, p2);
  EXPECT_NE(md.find("**Scans.** 4 runs: 4 ok."), std::string::npos) << md.substr(0, 600);
  EXPECT_NE(md.find("**Chunkwise delta-rule forward.** 2 runs: 2 ok."), std::string::npos) << md.substr(0, 1200);
  if (s.plots_note.find("no matplotlib") != std::string::npos) GTEST_SKIP() << "no matplotlib: PNGs not checked";
  ASSERT_EQ(s.plots_note, "") << read_text(dir.path / "plots.log");
  // In a file of several kinds every plot name starts with its kind; each is linked in its part.
  for (const char* p : {"scan_error_vs_length_fp32_rn.png", "scan_heatmap_fp32_rn.png",
                        "delta_error_vs_length_fp32_rn.png", "delta_heatmap_fp32_rn.png"}) {
    const fs::path f = dir.path / "plots" / p;
    ASSERT_TRUE(fs::exists(f)) << p;
    EXPECT_EQ(read_text(f).substr(1, 3), "PNG") << p;
    const std::size_t at = md.find(std::string("](plots/") + p + ")");
    ASSERT_NE(at, std::string::npos) << p;
    EXPECT_EQ(at > p2, std::string(p).rfind("delta_", 0) == 0) << p << " in the wrong part";
  }
}
