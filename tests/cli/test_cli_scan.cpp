// `triscan scan`, run as a user runs it: JSON lines, statuses, the error against MPFR
// within the a-priori bound (bound_ratio <= 1, docs/scan.md), and usage errors (exit 2
// naming the bad token).
#include <gtest/gtest.h>

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

triscan::cli_test::Result run_scan_cli(const std::string& args) { return run_cli("scan " + args); }

TEST(CliScan, EveryAlgorithmByDefaultWithinTheBound) {
  const auto r = run_scan_cli("--kind diagonal --format fp32 --length 1000 --dim 3 --seed 4 --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto lines = json_lines(r.out);
  ASSERT_EQ(lines.size(), 5u) << r.out;  // four algorithms, then the summary
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(lines[i]["status"], "ok") << lines[i];
    EXPECT_LE(lines[i]["bound_ratio"].get<double>(), 1.0) << lines[i];
    EXPECT_GT(lines[i]["forward_error"].get<double>(), 0.0) << lines[i];  // fp32 rounding is visible
  }
  EXPECT_TRUE(lines.back()["summary"].get<bool>());
  EXPECT_EQ(lines.back()["worst_status"], "ok");
  EXPECT_EQ(lines.back()["status_counts"]["ok"], 4);
}

TEST(CliScan, Bf16InputsWithFp32StateAndDeltaGates) {
  auto r = run_scan_cli("--kind scalar --algorithm scan/chunked:chunk=16 --format bf16 --state-format fp32 "
                        "--length 3000 --json");
  ASSERT_EQ(r.code, 0) << r.err;
  auto lines = json_lines(r.out);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["state_format"], "fp32");
  EXPECT_EQ(lines[0]["algorithm"], "scan/chunked:chunk=16");
  EXPECT_LE(lines[0]["bound_ratio"].get<double>(), 1.0);
  r = run_scan_cli("--kind delta --gate channel --algorithm scan/blelloch --format fp64 --length 64 --dim 4 "
                   "--dv 6 --h0 --json");
  ASSERT_EQ(r.code, 0) << r.err;
  lines = json_lines(r.out);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["dv"], 6);
  EXPECT_LE(lines[0]["bound_ratio"].get<double>(), 1.0);
}

TEST(CliScan, UsageErrorsNameTheToken) {
  auto r = run_scan_cli("--kind diag");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("diag"), std::string::npos) << r.err;
  r = run_scan_cli("--algorithm scan/nope --length 10");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("scan/nope"), std::string::npos) << r.err;
  r = run_scan_cli("--state-format fp99 --length 10");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("fp99"), std::string::npos) << r.err;
  r = run_scan_cli("--kind diagonal --gate scalar --length 10");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--gate"), std::string::npos) << r.err;
  r = run_scan_cli("--algorithm scan/chunked:chunk=0 --length 10");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("chunk"), std::string::npos) << r.err;
}

}  // namespace
