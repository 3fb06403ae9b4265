// `triscan wy` (validation/cli/cmd_wy.cpp), run as a user runs it: JSON keys and exit
// codes. The accuracy itself is tested in tests/wy against the MPFR recurrence; here the
// CLI's numbers are checked against facts (fp64 errors at fp64 level, bounds it prints).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "tests/cli/cli_test_util.hpp"

namespace {

using triscan::cli_test::json_lines;
using triscan::cli_test::run_cli;

triscan::cli_test::Result run_wy_cli(const std::string& args) { return run_cli("wy " + args); }

}  // namespace

TEST(CliWy, ChunkRepresentationsPrintTheIssuesKeys) {
  for (const char* rg :
       {"chunk/deltanet --generator deltanet-correlated", "chunk/gated --generator gated --gate -5",
        "chunk/kda --generator kda", "chunk/dplr --generator dplr",
        "chunk/deltaproduct --generator deltanet --householder-steps 3"}) {
    const auto r = run_wy_cli(std::string("--representation ") + rg +
                              " --format fp64 --n 16 --dk 16 --dv 8 --json");
    ASSERT_EQ(r.code, 0) << rg << ": " << r.err;
    const auto lines = json_lines(r.out);
    ASSERT_EQ(lines.size(), 2u) << r.out;
    const auto& j = lines[0];
    for (const char* key :
         {"representation_error", "orthogonality_loss", "w_error", "u_error", "status", "cond"})
      EXPECT_TRUE(j.contains(key)) << rg << " lacks " << key;
    EXPECT_EQ(j["status"], "ok") << rg;
    EXPECT_TRUE(j["orthogonality_loss"].is_null());  // delta-rule transitions are not orthogonal
    // fp64 with cond(I + A) = O(C): errors at the level of fp64's u (bound printed alongside).
    EXPECT_LE(j["w_error"].get<double>(), j["error_bound"].get<double>()) << rg;
    EXPECT_LE(j["u_error"].get<double>(), j["error_bound"].get<double>()) << rg;
    EXPECT_LT(j["w_error"].get<double>(), 1e-12) << rg;
    EXPECT_TRUE(lines[1].value("summary", false));
    EXPECT_EQ(lines[1]["worst_status"], "ok");
  }
}

TEST(CliWy, Fp16OverflowIsAStatusNotAnError) {
  const auto r = run_wy_cli(
      "--representation chunk/deltanet --generator deltanet-equal --beta 1 --scale 60 --format "
      "fp16 --n 16 "
      "--dk 16 --dv 8 --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto lines = json_lines(r.out);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["status"], "overflow");
  EXPECT_EQ(lines[1]["worst_status"], "overflow");
}

// householder/... through the same subcommand: true reflectors in fp64, so the
// representation error is within Higham ASNA Lemma 19.3's 2 r (m + 4) u (the constant
// tests/householder uses) and the loss of orthogonality within twice that plus its square.
TEST(CliWy, HouseholderRepresentationsWithinTheirBound) {
  for (const char* repr : {"householder/explicit", "householder/compact_wy:construction=recursive",
                           "householder/ut:trinv=trinv/recursive_merge", "householder/tree"}) {
    const auto r = run_wy_cli(std::string("--representation ") + repr +
                              " --format fp64 --n 8 --dk 16 --reflectors --batch 2 --json");
    ASSERT_EQ(r.code, 0) << repr << ": " << r.err;
    const auto lines = json_lines(r.out);
    ASSERT_EQ(lines.size(), 3u) << r.out;
    const double bound = 2 * 8 * (16 + 4) * std::ldexp(1.0, -53);
    for (int i = 0; i < 2; ++i) {
      EXPECT_EQ(lines[i]["status"], "ok") << lines[i];
      EXPECT_LE(lines[i]["representation_error"].get<double>(), bound) << lines[i];
      EXPECT_LE(lines[i]["orthogonality_loss"].get<double>(), 2 * bound + bound * bound) << lines[i];
    }
    EXPECT_TRUE(lines.back()["summary"].get<bool>());
  }
}

TEST(CliWy, UsageErrorsExitTwoNamingTheToken) {
  struct Bad {
    const char* args;
    const char* token;
  };
  for (const Bad& b :
       {Bad{"--representation householder/nope --n 8", "householder/nope"},
        Bad{"--representation householder/ut --n 8 --dk 16 --reflectors --beta 1", "--beta"},
        Bad{"--representation chunk/deltanet --n 8 --reflectors", "--reflectors"},
        Bad{"--representation chunk/gatd --n 8", "chunk/gatd"},
        Bad{"--representation chunk/kda --generator gated --n 8", "gated"},
        Bad{"--representation chunk/deltanet --format fp17 --n 8", "fp17"},
        Bad{"--representation chunk/deltanet --method trinv/nope --n 8", "trinv/nope"},
        Bad{"--representation chunk/gated --generator gated --gate 3 --n 8", "gate"}}) {
    const auto r = run_wy_cli(b.args);
    EXPECT_EQ(r.code, 2) << b.args << ": " << r.err;
    EXPECT_NE(r.err.find(b.token), std::string::npos) << b.args << ": " << r.err;
    EXPECT_TRUE(r.out.empty()) << b.args << ": " << r.out;
  }
}

TEST(CliDeltaForward, PrintsOutputAndStateErrors) {
  auto run = [](const std::string& args) { return run_cli("delta-forward " + args); };
  const auto r =
      run("--format fp64 --length 40 --heads 2 --dk 8 --dv 8 --chunk 16 --gate -0.1 --json");
  ASSERT_EQ(r.code, 0);
  const auto lines = json_lines(r.out);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["family"], "gated");
  EXPECT_EQ(lines[0]["status"], "ok");
  EXPECT_LE(lines[0]["output_error"].get<double>(), lines[0]["output_bound"].get<double>());
  EXPECT_LE(lines[0]["state_error"].get<double>(), lines[0]["state_bound"].get<double>());
  EXPECT_LT(lines[0]["output_error"].get<double>(), 1e-12);  // fp64 (bound ~1e-11 at this size)
  const auto b = run("--format bf16 --length 40 --dk 8 --dv 8 --chunk 16 --generator kda --json");
  ASSERT_EQ(b.code, 0);
  EXPECT_EQ(json_lines(b.out)[0]["state_format"], "fp32");  // bf16 keeps an fp32 state by default
  EXPECT_EQ(run("--format fp32 --length 40 --chunk 48").code, 2);
  EXPECT_EQ(run("--format fp32 --length 40 --chunk 16 --generator dplr").code, 2);
}
