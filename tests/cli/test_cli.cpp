// The `triscan` command line, run as a user runs it. Expected values are facts of the
// formats' definitions (IEEE 754, OCP FP8) or hand-derived, never the program's own output.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/cli/cli_test_util.hpp"
#include "validation/npy.hpp"

namespace {

using triscan::cli_test::json_lines;
using triscan::cli_test::Result;
using triscan::cli_test::run_cli;

TEST(Cli, FormatsReportsTheStandardsValues) {
  const auto r = run_cli("formats --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto lines = json_lines(r.out);
  ASSERT_FALSE(lines.empty());
  EXPECT_TRUE(lines.back().value("summary", false));
  std::map<std::string, nlohmann::json> by_name;
  for (const auto& j : lines)
    if (j.contains("format")) by_name[j["format"]] = j;
  EXPECT_EQ(by_name.at("fp16")["u"].get<double>(), std::ldexp(1.0, -11));  // IEEE binary16
  EXPECT_EQ(by_name.at("fp16")["max_finite"].get<double>(), 65504.0);
  EXPECT_EQ(by_name.at("e4m3")["max_finite"].get<double>(), 448.0);         // OCP FP8 E4M3
  EXPECT_EQ(by_name.at("e5m2")["max_finite"].get<double>(), 57344.0);       // OCP FP8 E5M2
  EXPECT_EQ(by_name.at("bf16")["max_finite"].get<double>(), std::ldexp(255.0, 120));  // (2-2^-7) 2^127
  EXPECT_EQ(by_name.at("tf32")["min_subnormal"].get<double>(), std::ldexp(1.0, -136));
  const auto text = run_cli("formats");
  EXPECT_EQ(text.code, 0);
  EXPECT_NE(text.out.find("65504"), std::string::npos) << text.out;
}

TEST(Cli, GenerateOnesPrintsOnesBelowTheDiagonal) {
  const auto r = run_cli("generate --generator ones --n 8");
  ASSERT_EQ(r.code, 0) << r.err;
  std::istringstream in(r.out);
  std::string header;
  std::getline(in, header);
  // L^-1 is 1 on the diagonal and -1 below it: ||L||_inf = 8, ||L^-1||_inf = 2, so
  // kappa = 16; | L^-1 | |L| has row sums i + (i - 1), so cond = 8 + 7 = 15.
  EXPECT_NE(header.find("kappa_inf=16 "), std::string::npos) << header;
  EXPECT_NE(header.find("cond=15"), std::string::npos) << header;
  for (int i = 0; i < 8; ++i) {
    for (int j = 0; j < 8; ++j) {
      double v = -1;
      in >> v;
      EXPECT_EQ(v, j <= i ? 1.0 : 0.0) << "entry (" << i << ", " << j << ")";
    }
  }
}

TEST(Cli, GenerateWritesTensorsAsNpy) {
  const auto dir = std::filesystem::temp_directory_path() / ("triscan_cli_npy_" + std::to_string(::getpid()));
  const auto r = run_cli("generate --generator deltanet --n 16 --dk 8 --seed 3 --tensors --out " + dir.string() + " --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto lines = json_lines(r.out);
  ASSERT_EQ(lines.size(), 2u);
  const auto L = triscan::validation::read_npy((dir / "L.npy").string());
  const auto K = triscan::validation::read_npy((dir / "k.npy").string());
  ASSERT_EQ(L.shape, (std::vector<std::int64_t>{16, 16}));
  ASSERT_EQ(K.shape, (std::vector<std::int64_t>{16, 8}));
  const auto& rows = lines[0]["matrix"];
  const auto values = L.as_double();
  for (int i = 0; i < 16; ++i)
    for (int j = 0; j < 16; ++j) EXPECT_EQ(values[i * 16 + j], rows[i][j].get<double>());
  std::filesystem::remove_all(dir);
}

TEST(Cli, InvertJsonHasOneLinePerMatrixAndASummary) {
  const auto r = run_cli("invert --method trinv/forward_substitution --format fp64 --generator deltanet --n 16 --batch 3 --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto lines = json_lines(r.out);
  ASSERT_EQ(lines.size(), 4u);
  for (int b = 0; b < 3; ++b) {
    for (const char* key : {"method", "format", "generator", "n", "seed", "status", "forward_error",
                            "right_residual", "left_residual", "lapack_ratio", "kappa", "cond"})
      EXPECT_TRUE(lines[b].contains(key)) << key;
    EXPECT_EQ(lines[b]["status"], "ok");
    // Method 1 in fp64: normwise forward error <= c n u cond(L); c = 2 is generous
    // for n = 16 (Higham ASNA Thm 8.5 / §14.2).
    const double bound = 2 * 16 * std::ldexp(1.0, -53) * lines[b]["cond"].get<double>();
    EXPECT_LE(lines[b]["forward_error"].get<double>(), bound);
    EXPECT_EQ(lines[b]["seed"].get<int>(), 1 + b);
  }
  EXPECT_TRUE(lines[3]["summary"].get<bool>());
  EXPECT_EQ(lines[3]["status_counts"]["ok"].get<int>(), 3);
  EXPECT_EQ(lines[3]["worst_status"], "ok");
}

// `triscan methods` lists every registry: triangular inversion, Householder
// representations and scan algorithms, each name once, and a summary count.
TEST(Cli, MethodsListsEveryRegistry) {
  const auto r = run_cli("methods --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto lines = json_lines(r.out);
  ASSERT_GE(lines.size(), 2u);
  std::set<std::string> names;
  for (std::size_t i = 0; i + 1 < lines.size(); ++i) EXPECT_TRUE(names.insert(lines[i]["name"]).second) << lines[i];
  for (const char* name : {"trinv/forward_substitution", "trinv/recursive_merge", "householder/compact_wy",
                           "householder/ut", "scan/blelloch", "scan/chunked"})
    EXPECT_EQ(names.count(name), 1u) << name;
  EXPECT_TRUE(lines.back()["summary"].get<bool>());
  EXPECT_EQ(lines.back()["count"].get<std::size_t>(), names.size());
}

TEST(Cli, FlaggedStatusIsDataNotAnError) {
  // The fp16 product of a matrix whose inverse overflows fp16: entries of (I+N)^-1 for
  // N = all ones are bounded, so use a scaled gaussian instead: ||N||_inf = 1e6 makes
  // fp16's 65504 overflow in the output. Exit code 0, status flagged.
  const auto r = run_cli("invert --method trinv/forward_substitution --format fp16 --generator gaussian --n 16 --scale 1e6 --json");
  EXPECT_EQ(r.code, 0) << r.err;
  const auto lines = json_lines(r.out);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_NE(lines[0]["status"], "ok") << lines[0].dump();
}

TEST(Cli, UsageErrorsExitTwoNamingTheBadToken) {
  struct Case {
    const char* args;
    const char* token;
  };
  for (const Case& c : {Case{"frobnicate", "frobnicate"}, Case{"formats --bogus", "--bogus"},
                        Case{"invert --format fp17", "fp17"}, Case{"invert --rounding rq", "rq"},
                        Case{"invert --method trinv/nope", "trinv/nope"},
                        Case{"invert --method trinv/blocked:nb=0", "nb=0"},
                        Case{"generate --generator nope", "nope"}, Case{"generate --n 0", "--n"},
                        Case{"generate --generator ones --dk 8", "dk"}}) {
    const auto r = run_cli(c.args);
    EXPECT_EQ(r.code, 2) << c.args << "\n" << r.err;
    EXPECT_NE(r.err.find(c.token), std::string::npos) << c.args << ": " << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one line: " << r.err;
  }
}

}  // namespace
