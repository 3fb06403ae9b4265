// Shared by the study tests: a temporary output folder, quiet options, reading files and
// the cells of a report's tables.
#pragma once

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "validation/study.hpp"

namespace triscan::study_test {

inline std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A fresh folder under the system's temporary directory, removed with its contents at the
// end of the scope (the process id keeps parallel test processes apart).
struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& tag) {
    path = std::filesystem::temp_directory_path() / ("triscan_study_" + tag + "_" + std::to_string(::getpid()));
    std::filesystem::remove_all(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

inline validation::StudyOptions quiet_options(const std::filesystem::path& dir, unsigned threads, bool plots) {
  validation::StudyOptions o;
  o.out_dir = dir.string();
  o.threads = threads;
  o.plots = plots;
  o.progress = false;
  o.command = "test";
  return o;
}

// The cell of report.md's table under "#### <title>": row `method`, column `input`;
// "<no ...>" when the section, column or row is missing.
inline std::string report_cell(const std::string& md, const std::string& title, const std::string& method,
                               const std::string& input) {
  const std::size_t section = md.find("#### " + title + "\n");
  if (section == std::string::npos) return "<no section " + title + ">";
  std::istringstream in(md.substr(section));
  std::string line, header;
  std::getline(in, line);
  std::getline(in, line);
  std::getline(in, header);
  auto split = [](const std::string& l) {
    std::vector<std::string> cells;
    std::string cell;
    std::istringstream s(l);
    while (std::getline(s, cell, '|')) {
      const auto b = cell.find_first_not_of(' '), e = cell.find_last_not_of(' ');
      cells.push_back(b == std::string::npos ? "" : cell.substr(b, e - b + 1));
    }
    return cells;
  };
  const auto head = split(header);
  std::size_t col = 0;
  for (std::size_t i = 0; i < head.size(); ++i)
    if (head[i] == input) col = i;
  if (col == 0) return "<no column " + input + ">";
  while (std::getline(in, line) && !line.empty()) {
    const auto cells = split(line);
    if (cells.size() > col && cells[1] == "`" + method + "`") return cells[col];
  }
  return "<no row " + method + ">";
}

// `line` written under the CSV header to a file in a fresh folder, then read back with
// read_study_csv (the round trip of one results.csv row).
inline std::vector<validation::StudyRow> csv_round_trip(const std::string& line) {
  TempDir dir("csv");
  std::filesystem::create_directories(dir.path);
  const std::filesystem::path f = dir.path / "r.csv";
  {
    std::ofstream out(f);
    out << validation::study_csv_header() << "\n" << line << "\n";
  }
  return validation::read_study_csv(f.string());
}

// A number as the reports print it (one decimal in scientific notation).
inline std::string sci(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1e", x);
  return buf;
}

}  // namespace triscan::study_test
