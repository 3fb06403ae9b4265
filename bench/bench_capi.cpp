// bench_capi — the cost of the C API (include/triscan/triscan.h) over the C++ API it
// forwards to, on the same inputs in one run: triscan_invert_batch / _chunks against
// triscan::invert_batch / invert_chunks (method parsed once, statuses written straight
// into the caller's array). The C side parses the method string, checks it on an empty
// batch and copies the statuses on every call; this measures what that costs.
//
// Cases (fp32, 1 worker thread, a-posteriori check off on both sides):
//   single16   one 16 x 16 matrix            (the fixed per-call cost dominates)
//   batch64    256 matrices of 64 x 64        (a typical batch)
//   chunks64   [1, 4096, 4, 64] chunk layout  (256 chunk matrices)
// Inputs: N = ones strictly below the diagonal scaled by 1/n (finite, well conditioned).
// Google Benchmark prints its table (JSON with --benchmark_out=F
// --benchmark_out_format=json); a ratio table C / C++ of the median CPU time per call
// follows (run with --benchmark_repetitions=5, without --benchmark_report_aggregates_only).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "triscan/trinv.hpp"
#include "triscan/triscan.h"

namespace {

using namespace triscan;

struct Case {
  const char* name;
  std::int64_t count, n;  // strided batch (count matrices of n x n)
  bool chunks;            // or the chunk layout [1, count * n, 4, n] / 4 heads
};
const Case cases[] = {{"single16", 1, 16, false}, {"batch64", 256, 64, false}, {"chunks64", 64, 64, true}};
constexpr std::int64_t heads = 4;

std::vector<float> input(const Case& c) {
  const std::int64_t size = c.chunks ? c.count * c.n * heads * c.n : c.count * c.n * c.n;
  std::vector<float> a(static_cast<std::size_t>(size), 0.0f);
  const std::int64_t rows = c.chunks ? c.count * c.n * heads : c.count * c.n;
  for (std::int64_t r = 0; r < rows; ++r) {
    const std::int64_t i = c.chunks ? (r / heads) % c.n : r % c.n;
    for (std::int64_t j = 0; j < i; ++j) a[static_cast<std::size_t>(r * c.n + j)] = 1.0f / static_cast<float>(c.n);
  }
  return a;
}

// "case/api" -> CPU seconds per call of each repetition (the calling thread's CPU time:
// with 1 worker the work runs on it, so other processes on the machine do not inflate it).
std::map<std::string, std::vector<double>> seconds;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

void bench_c(benchmark::State& state, const Case& c) {
  const std::vector<float> a = input(c);
  std::vector<float> x(a.size());
  std::vector<std::int32_t> st(static_cast<std::size_t>(c.chunks ? c.count * heads : c.count));
  std::int32_t worst = 0;
  triscan_set_cpu_threads(1);
  for (auto _ : state) {
    const int rc =
        c.chunks ? triscan_invert_chunks("trinv/forward_substitution", TRISCAN_FP32, 1, c.count * c.n, heads, c.n,
                                         nullptr, 0, a.data(), x.data(), TRISCAN_NO_ACCURACY_CHECK, st.data(), &worst)
                 : triscan_invert_batch("trinv/forward_substitution", TRISCAN_FP32, c.count, c.n, a.data(), c.n * c.n,
                                        c.n, 1, x.data(), c.n * c.n, c.n, 1, TRISCAN_NO_ACCURACY_CHECK, st.data(),
                                        &worst);
    if (rc != TRISCAN_SUCCESS) state.SkipWithError(triscan_last_error());
    benchmark::DoNotOptimize(x.data());
  }
}

void bench_cpp(benchmark::State& state, const Case& c) {
  const std::vector<float> a = input(c);
  std::vector<float> x(a.size());
  std::vector<Status> st(static_cast<std::size_t>(c.chunks ? c.count * heads : c.count));
  const MethodSpec spec = MethodSpec::parse("trinv/forward_substitution");
  TrinvOptions opt;
  opt.precision = Precision::uniform(format_by_name("fp32"));
  opt.check_accuracy = false;
  opt.threads = 1;
  const ChunkLayout layout{1, c.count * c.n, heads, c.n, {}};
  for (auto _ : state) {
    if (c.chunks)
      invert_chunks(spec, layout, a.data(), x.data(), opt, st.data());
    else
      invert_batch(spec, BatchView<const float>::contiguous(a.data(), c.count, c.n, c.n),
                   BatchView<float>::contiguous(x.data(), c.count, c.n, c.n), opt, st.data());
    benchmark::DoNotOptimize(x.data());
  }
}

// Collects each run's real time per iteration, for the ratio table.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& r : runs)
      if (r.run_type == Run::RT_Iteration && r.iterations > 0)
        seconds[r.run_name.function_name].push_back(r.cpu_accumulated_time / static_cast<double>(r.iterations));
    ConsoleReporter::ReportRuns(runs);
  }
};

}  // namespace

int main(int argc, char** argv) {
  for (const Case& c : cases) {
    benchmark::RegisterBenchmark((std::string(c.name) + "/C").c_str(), bench_c, c)->MinTime(0.3);
    benchmark::RegisterBenchmark((std::string(c.name) + "/C++").c_str(), bench_cpp, c)->MinTime(0.3);
  }
  benchmark::Initialize(&argc, argv);
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  std::printf("\nCPU time per call, median of the repetitions (--benchmark_repetitions)\n");
  std::printf("%-10s %14s %14s %10s\n", "case", "C API [us]", "C++ API [us]", "C / C++");
  for (const Case& c : cases) {
    const double tc = median(seconds[std::string(c.name) + "/C"]), tp = median(seconds[std::string(c.name) + "/C++"]);
    if (tc > 0 && tp > 0) std::printf("%-10s %14.2f %14.2f %10.3f\n", c.name, tc * 1e6, tp * 1e6, tc / tp);
  }
  benchmark::Shutdown();
  return 0;
}
