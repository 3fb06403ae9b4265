// bench_householder — CPU T-factor construction of the compact-WY / UT representations
// against LAPACK (OpenBLAS's LAPACKE_dlarft, direct = 'F', storev = 'C'), side by side in
// one run, fp64, for k = r in {32, 64, 128} reflectors of length m in {256, 4096}.
//
// Input: the Householder vectors and tau that LAPACKE_dgeqrf produces for a seeded
// uniform(-1, 1) m x k matrix (v_i(i) = 1, zeros above). Both sides get the same V:
// LAPACK column-major as dgeqrf left it, triscan the same numbers as a dense row-major
// m x k matrix (accumulate_householder copies its input into a row-major working matrix
// either way). triscan's time is the whole public call (argument checks, input copy, the
// Gram matrix V^T V through OpenBLAS dsyrk, T, output); dlarft reads only the lower
// trapezoid. Both use OpenBLAS's default thread count.
//
// Reported: Google Benchmark's table (JSON with --benchmark_out=F
// --benchmark_out_format=json), then a ratio table (time of dlarft / time of triscan:
// > 1 means triscan is faster; from wall time and from the process's CPU time, which the
// other processes on a shared machine disturb less) and one JSON object per row.
#include <benchmark/benchmark.h>
#include <lapacke.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <map>
#include <string>
#include <vector>

#include "triscan/householder.hpp"

namespace {

using namespace triscan;

const std::vector<index_t> ks = {32, 64, 128};
const std::vector<index_t> ms = {256, 4096};
const std::vector<std::string> specs = {"householder/compact_wy:construction=sequential",
                                        "householder/compact_wy:construction=recursive",
                                        "householder/tree", "householder/ut"};

std::map<std::string, double> seconds;      // benchmark name -> wall seconds per iteration
std::map<std::string, double> cpu_seconds;  // benchmark name -> process CPU seconds per iteration

// CPU time of the whole process (all threads): on a shared machine the wall time depends
// on the other processes' load, the CPU time much less.
double process_cpu() {
  timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
}

struct Input {
  std::vector<double> a, tau;  // dgeqrf output, column-major m x k
  Matrix<double> V;            // the same reflectors, row-major, dense
};

const Input& input(index_t m, index_t k) {
  static std::map<std::pair<index_t, index_t>, Input> cache;
  auto it = cache.find({m, k});
  if (it != cache.end()) return it->second;
  Input in{std::vector<double>(static_cast<std::size_t>(m * k)),
           std::vector<double>(static_cast<std::size_t>(k)), Matrix<double>(m, k)};
  RandomBits rng(static_cast<std::uint64_t>(m * 1000 + k));
  for (auto& x : in.a) x = 2.0 * rng.uniform() - 1.0;
  LAPACKE_dgeqrf(LAPACK_COL_MAJOR, lapack_int(m), lapack_int(k), in.a.data(), lapack_int(m),
                 in.tau.data());
  for (index_t i = 0; i < m; ++i)
    for (index_t j = 0; j < k; ++j)
      in.V(i, j) = i < j ? 0.0 : i == j ? 1.0 : in.a[static_cast<std::size_t>(j * m + i)];
  return cache.emplace(std::make_pair(m, k), std::move(in)).first->second;
}

std::string bench_name(const std::string& what, index_t m, index_t k) {
  return "tfactor/" + what + "/m=" + std::to_string(m) + "/k=" + std::to_string(k);
}

template <class F>
void timed(benchmark::State& st, const std::string& name, F&& f) {
  double total = 0.0, cpu = 0.0;
  for (auto _ : st) {
    const auto t0 = std::chrono::steady_clock::now();
    const double c0 = process_cpu();
    f();
    cpu += process_cpu() - c0;
    total += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  seconds[name] = total / static_cast<double>(st.iterations());
  cpu_seconds[name] = cpu / static_cast<double>(st.iterations());
}

void register_all() {
  for (index_t m : ms)
    for (index_t k : ks) {
      const std::string lname = bench_name("lapack_dlarft", m, k);
      benchmark::RegisterBenchmark(lname.c_str(),
                                   [lname, m, k](benchmark::State& st) {
                                     const Input& in = input(m, k);
                                     std::vector<double> t(static_cast<std::size_t>(k * k));
                                     timed(st, lname, [&] {
                                       LAPACKE_dlarft(LAPACK_COL_MAJOR, 'F', 'C', lapack_int(m),
                                                      lapack_int(k), in.a.data(), lapack_int(m),
                                                      in.tau.data(), t.data(), lapack_int(k));
                                       benchmark::DoNotOptimize(t.data());
                                     });
                                   })
          ->Unit(benchmark::kMicrosecond)
          ->UseRealTime()
          ->MinTime(0.3);
      for (const auto& spec : specs) {
        const std::string name = bench_name(spec, m, k);
        benchmark::RegisterBenchmark(name.c_str(),
                                     [name, spec, m, k](benchmark::State& st) {
                                       const Input& in = input(m, k);
                                       const MethodSpec method = MethodSpec::parse(spec);
                                       timed(st, name, [&] {
                                         auto q =
                                             accumulate_householder(method, in.V.view(), in.tau);
                                         benchmark::DoNotOptimize(q.T_factor.data());
                                       });
                                     })
            ->Unit(benchmark::kMicrosecond)
            ->UseRealTime()
            ->MinTime(0.3);
      }
    }
}

void print_tables() {
  std::printf(
      "\nT-factor construction, fp64: time of LAPACKE_dlarft / time of triscan (> 1: triscan "
      "faster),\n"
      "wall time and process CPU time (all threads)\n");
  std::printf("%-48s %6s %5s %10s %10s %7s %10s %10s %7s\n", "method", "m", "k", "wall us",
              "dlarft", "ratio", "cpu us", "dlarft", "ratio");
  for (index_t m : ms)
    for (index_t k : ks) {
      const std::string lname = bench_name("lapack_dlarft", m, k);
      if (!seconds.count(lname)) continue;
      for (const auto& spec : specs) {
        const std::string name = bench_name(spec, m, k);
        if (!seconds.count(name)) continue;
        std::printf("%-48s %6ld %5ld %10.1f %10.1f %7.2f %10.1f %10.1f %7.2f\n", spec.c_str(),
                    long(m), long(k), 1e6 * seconds[name], 1e6 * seconds[lname],
                    seconds[lname] / seconds[name], 1e6 * cpu_seconds[name],
                    1e6 * cpu_seconds[lname], cpu_seconds[lname] / cpu_seconds[name]);
      }
    }
  for (index_t m : ms)
    for (index_t k : ks) {
      const std::string lname = bench_name("lapack_dlarft", m, k);
      for (const auto& spec : specs) {
        const std::string name = bench_name(spec, m, k);
        if (!seconds.count(name) || !seconds.count(lname)) continue;
        std::printf(
            "{\"bench\": \"householder_tfactor\", \"method\": \"%s\", \"m\": %ld, \"k\": %ld, "
            "\"seconds\": %.6e, "
            "\"lapack_seconds\": %.6e, \"ratio\": %.4f, \"cpu_seconds\": %.6e, "
            "\"lapack_cpu_seconds\": %.6e, "
            "\"cpu_ratio\": %.4f}\n",
            spec.c_str(), long(m), long(k), seconds[name], seconds[lname],
            seconds[lname] / seconds[name], cpu_seconds[name], cpu_seconds[lname],
            cpu_seconds[lname] / cpu_seconds[name]);
      }
    }
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  register_all();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  print_tables();
  return 0;
}
