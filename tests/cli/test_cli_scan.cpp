// `triscan scan`, run as a user runs it: JSON lines, statuses, the error against MPFR
// within the a-priori bound (bound_ratio <= 1, docs/scan.md), and usage errors (exit 2
// naming the bad token).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct Run {
  int code = -1;
  std::string out, err;
};

Run run_scan_cli(const std::string& args) {
  const std::string err_file =
      std::filesystem::temp_directory_path() / ("triscan_cli_scan_err_" + std::to_string(::getpid()));
  const std::string cmd = std::string(TRISCAN_CLI_PATH) + " scan " + args + " 2>" + err_file;
  Run r;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  std::size_t got;
  while ((got = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, got);
  const int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (FILE* e = fopen(err_file.c_str(), "r")) {
    while ((got = fread(buf, 1, sizeof buf, e)) > 0) r.err.append(buf, got);
    fclose(e);
  }
  std::filesystem::remove(err_file);
  return r;
}

std::vector<nlohmann::json> lines_of(const std::string& text) {
  std::vector<nlohmann::json> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  return out;
}

TEST(CliScan, EveryAlgorithmByDefaultWithinTheBound) {
  const auto r = run_scan_cli("--kind diagonal --format fp32 --length 1000 --dim 3 --seed 4 --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto lines = lines_of(r.out);
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
  auto lines = lines_of(r.out);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["state_format"], "fp32");
  EXPECT_EQ(lines[0]["algorithm"], "scan/chunked:chunk=16");
  EXPECT_LE(lines[0]["bound_ratio"].get<double>(), 1.0);
  r = run_scan_cli("--kind delta --gate channel --algorithm scan/blelloch --format fp64 --length 64 --dim 4 "
                   "--dv 6 --h0 --json");
  ASSERT_EQ(r.code, 0) << r.err;
  lines = lines_of(r.out);
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
