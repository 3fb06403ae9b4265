// Shared by the CLI tests: run the built `triscan` executable as a user runs it, capture
// stdout, stderr and the exit code, and split --json output into objects.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

namespace triscan::cli_test {

struct Result {
  int code = -1;
  std::string out, err;
};

// `triscan ARGS` (TRISCAN_CLI_PATH is set by tests/cli/CMakeLists.txt).
inline Result run_cli(const std::string& args) {
  const std::string err_file =
      std::filesystem::temp_directory_path() / ("triscan_cli_err_" + std::to_string(::getpid()));
  const std::string cmd = std::string(TRISCAN_CLI_PATH) + " " + args + " 2>" + err_file;
  Result r;
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

// One JSON object per non-empty line.
inline std::vector<nlohmann::json> json_lines(const std::string& text) {
  std::vector<nlohmann::json> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  return out;
}

}  // namespace triscan::cli_test
