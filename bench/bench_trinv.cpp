// bench_trinv — CPU triangular inversion: every registered method (native fp32 / fp64)
// against LAPACK (OpenBLAS's LAPACKE_?trtri) on the same data, side by side.
//
//  1. Batched: 32768 unit lower 64 x 64 matrices (the linear-attention chunk size; inputs
//     from the `deltanet` generator, 256 distinct matrices repeated), fp32 and fp64.
//     Both sides run the batch on the same number of threads (--threads, default 2):
//     triscan through invert_batch (check_accuracy off: the hot path; one row with it
//     on), LAPACK as a static partition of the batch over std::threads each calling
//     ?trtri per matrix with OpenBLAS single-threaded.
//     Reported: time per matrix (wall, and process CPU time; with --benchmark_repetitions
//     the medians over the repetitions), speed-up over LAPACK, and
//     the largest relative Frobenius forward error over the first 64 matrices of each
//     timed call's own output against a long-double reference of the same input, next to
//     LAPACK's (target: >= 5x LAPACK at an error no worse than 2x LAPACK's). Batch
//     buffers are 64-byte aligned. native fp32 / fp64 forward_substitution runs the
//     batched row kernel (src/trinv/rows.hpp) without the check and the lane kernel
//     (src/trinv/lanes.hpp) with it. --huge-pages asks Linux for transparent huge pages
//     on the batch buffers of both sides (madvise; the table says how much of the
//     process's memory the kernel gave them): under virtualization a 4 KiB page's TLB
//     miss is expensive and the batch streams 2 GB through 4 KiB pages.
//     --paired=R (R >= 1) adds a paired comparison after Google Benchmark's runs: R rounds,
//     each timing one LAPACK batch and one triscan batch (forward_substitution, check
//     off) back to back, the order alternating from round to round; reported are the
//     per-round ratios' median, quartiles and extremes, and how many rounds reach 5x.
//     On a machine whose speed drifts within minutes (the project's 2-core VM) the two
//     sides of a round see the same conditions, which the medians of separately timed
//     repetitions do not ensure.
//  2. Single large matrices, n = 1024 and 4096 fp64: blocked / recursive /
//     recursive_merge (OpenBLAS TRMM/TRSM inside) vs OpenBLAS dtrtri, both with
//     OpenBLAS's default thread count; GFLOP/s at n^3/3 flops (target: >= 0.9x).
//
// Google Benchmark prints its own table (and JSON with --benchmark_out=F
// --benchmark_out_format=json); the ratio tables follow.
#include <benchmark/benchmark.h>
#include <cblas.h>
#include <lapacke.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <map>
#include <new>
#include <string>
#include <thread>
#include <vector>

#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "triscan/trinv.hpp"
#include "validation/generators.hpp"

namespace {

using namespace triscan;

constexpr index_t batch_n = 64;
constexpr index_t batch_count = 32768;
constexpr index_t distinct = 256;
constexpr index_t sample = 64;
unsigned bench_threads = 2;
bool huge_pages = false;  // --huge-pages
int paired_rounds = 0;    // --paired=R

// Batch buffers are 64-byte aligned, as ML frameworks allocate tensors (PyTorch's CPU
// allocator aligns to 64 bytes); both sides use the same buffers. With --huge-pages they
// are 2 MiB aligned and advised for transparent huge pages (before first touch).
constexpr std::size_t huge_page = std::size_t(2) << 20;
template <class T>
struct Aligned64 {
  using value_type = T;
  Aligned64() = default;
  template <class U>
  Aligned64(const Aligned64<U>&) {}
  static std::size_t alignment() { return huge_pages ? huge_page : 64; }
  T* allocate(std::size_t n) {
    const std::size_t bytes = n * sizeof(T);
    T* p = static_cast<T*>(::operator new(bytes, std::align_val_t(alignment())));
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (huge_pages && bytes >= huge_page) madvise(p, bytes / huge_page * huge_page, MADV_HUGEPAGE);
#endif
    return p;
  }
  void deallocate(T* p, std::size_t) { ::operator delete(p, std::align_val_t(alignment())); }
  friend bool operator==(const Aligned64&, const Aligned64&) { return true; }
  friend bool operator!=(const Aligned64&, const Aligned64&) { return false; }
};
template <class T>
using Buffer = std::vector<T, Aligned64<T>>;

// The process's anonymous memory in huge pages, MiB (Linux; -1 where unknown), and the
// most seen at the end of a batch benchmark.
double anon_huge_mib() {
  std::FILE* f = std::fopen("/proc/self/smaps_rollup", "r");
  if (!f) return -1;
  char line[256];
  double kib = -1;
  while (std::fgets(line, sizeof line, f))
    if (std::sscanf(line, "AnonHugePages: %lf kB", &kib) == 1) break;
  std::fclose(f);
  return kib < 0 ? -1 : kib / 1024;
}
double huge_mib_seen = -1;

std::string pages_note() {
  if (!huge_pages) return "4 KiB pages";
  char b[96];
  std::snprintf(b, sizeof b, "huge pages asked (%.0f MiB of the process in huge pages)", huge_mib_seen);
  return b;
}

// Benchmark name -> wall / process CPU seconds per iteration of each call of the
// benchmark's function. Google Benchmark first calls it with a few iterations to choose
// the count it then reports (one call per --benchmark_repetitions); only the calls with
// the largest iteration count are kept, so the medians in the summary tables are over
// the reported repetitions, not over the first, shorter (often colder) trials.
std::map<std::string, std::vector<double>> wall_runs, cpu_runs;
std::map<std::string, long long> run_iterations;

void record(const std::string& name, double wall, double cpu, long long iterations) {
  long long& kept = run_iterations[name];
  if (iterations < kept) return;
  if (iterations > kept) {
    wall_runs[name].clear();
    cpu_runs[name].clear();
    kept = iterations;
  }
  wall_runs[name].push_back(wall);
  cpu_runs[name].push_back(cpu);
}

double median(std::vector<double> v) {
  if (v.empty()) return std::nan("");
  std::sort(v.begin(), v.end());
  const std::size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : 0.5 * (v[m - 1] + v[m]);
}
double seconds_of(const std::string& name) { return median(wall_runs[name]); }
double cpu_seconds_of(const std::string& name) { return median(cpu_runs[name]); }
// benchmark name -> the first `sample` output matrices of its batch (the errors are
// measured on what the timed batch call produced)
std::map<std::string, std::vector<double>> batch_outputs;

template <class T, class Buf>
void keep_sample(const std::string& name, const Buf& X) {
  const std::size_t nn = static_cast<std::size_t>(batch_n * batch_n);
  batch_outputs[name].assign(X.begin(), X.begin() + static_cast<std::ptrdiff_t>(sample * nn));
}

// CPU time of the whole process (all threads): on a shared machine the wall time depends
// on the other processes' load, the CPU time much less.
double process_cpu() {
  timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
}

template <class T>
Buffer<T>& batch_input() {
  static Buffer<T> A = [] {
    Buffer<T> a(static_cast<std::size_t>(batch_count * batch_n * batch_n));
    for (index_t d = 0; d < distinct; ++d) {
      validation::GeneratorParams gp;
      gp.name = "deltanet";
      gp.n = batch_n;
      gp.seed = static_cast<std::uint64_t>(d);
      const auto g = validation::generate(gp);
      for (index_t b = d; b < batch_count; b += distinct)
        for (index_t i = 0; i < batch_n; ++i)
          for (index_t j = 0; j < batch_n; ++j)
            a[static_cast<std::size_t>((b * batch_n + i) * batch_n + j)] = static_cast<T>(g.L(i, j));
    }
    return a;
  }();
  return A;
}

template <class T>
const char* type_name() {
  return std::is_same_v<T, float> ? "fp32" : "fp64";
}

lapack_int trtri_upper_colmajor(lapack_int n, float* a) { return LAPACKE_strtri(LAPACK_COL_MAJOR, 'U', 'U', n, a, n); }
lapack_int trtri_upper_colmajor(lapack_int n, double* a) { return LAPACKE_dtrtri(LAPACK_COL_MAJOR, 'U', 'U', n, a, n); }

// LAPACK on matrices [lo, hi): a row-major unit lower matrix is the column-major unit
// upper one, so ?trtri('U') inverts it in place with no transposition.
template <class T>
void lapack_range(const T* A, T* X, index_t lo, index_t hi) {
  const std::size_t nn = static_cast<std::size_t>(batch_n * batch_n);
  for (index_t b = lo; b < hi; ++b) {
    std::memcpy(X + b * nn, A + b * nn, nn * sizeof(T));
    trtri_upper_colmajor(static_cast<lapack_int>(batch_n), X + b * nn);
  }
}

template <class T>
void lapack_batch(const T* A, T* X, index_t count) {
  std::vector<std::thread> pool;
  for (unsigned w = 1; w < bench_threads; ++w)
    pool.emplace_back(lapack_range<T>, A, X, count * w / bench_threads, count * (w + 1) / bench_threads);
  lapack_range<T>(A, X, 0, count / bench_threads);
  for (auto& t : pool) t.join();
}

template <class T>
TrinvOptions batch_options(bool check) {
  TrinvOptions o;
  o.precision = Precision::uniform(format_by_name(type_name<T>()));
  o.check_accuracy = check;
  o.threads = bench_threads;
  return o;
}

template <class T>
void register_batch() {
  for (const auto& m : trinv_methods()) {
    for (bool check : {false, true}) {
      if (check && m.name != "trinv/forward_substitution") continue;
      const std::string name = std::string("batch/") + type_name<T>() + "/" + m.name + (check ? "+check" : "");
      benchmark::RegisterBenchmark(name.c_str(), [name, spec = m.name, check](benchmark::State& st) {
        const auto& A = batch_input<T>();
        Buffer<T> X(A.size());
        const auto in = BatchView<const T>::contiguous(A.data(), batch_count, batch_n, batch_n);
        const auto out = BatchView<T>::contiguous(X.data(), batch_count, batch_n, batch_n);
        const MethodSpec ms = MethodSpec::parse(spec);
        const TrinvOptions o = batch_options<T>(check);
        double total = 0.0, cpu = 0.0;
        for (auto _ : st) {
          const auto t0 = std::chrono::steady_clock::now();
          const double c0 = process_cpu();
          benchmark::DoNotOptimize(invert_batch(ms, in, out, o));
          cpu += process_cpu() - c0;
          total += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        }
        record(name, total / static_cast<double>(st.iterations()), cpu / static_cast<double>(st.iterations()),
               static_cast<long long>(st.iterations()));
        st.counters["us_per_matrix"] = 1e6 * total / static_cast<double>(st.iterations()) / batch_count;
        huge_mib_seen = std::max(huge_mib_seen, anon_huge_mib());
        keep_sample<T>(name, X);
      })->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(1.0);
    }
  }
  const std::string name = std::string("batch/") + type_name<T>() + "/lapack";
  benchmark::RegisterBenchmark(name.c_str(), [name](benchmark::State& st) {
    const auto& A = batch_input<T>();
    Buffer<T> X(A.size());
    double total = 0.0, cpu = 0.0;
    const int saved = openblas_get_num_threads();
    openblas_set_num_threads(1);  // one matrix per call: OpenBLAS single-threaded, as in triscan's batches
    for (auto _ : st) {
      const auto t0 = std::chrono::steady_clock::now();
      const double c0 = process_cpu();
      lapack_batch(A.data(), X.data(), batch_count);
      cpu += process_cpu() - c0;
      total += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      benchmark::DoNotOptimize(X.data());
    }
    openblas_set_num_threads(saved);
    record(name, total / static_cast<double>(st.iterations()), cpu / static_cast<double>(st.iterations()),
               static_cast<long long>(st.iterations()));
    st.counters["us_per_matrix"] = 1e6 * total / static_cast<double>(st.iterations()) / batch_count;
    huge_mib_seen = std::max(huge_mib_seen, anon_huge_mib());
    keep_sample<T>(name, X);
  })->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(1.0);
}

// ---- Large single matrices ------------------------------------------------------------------

const Matrix<double>& large_input(index_t n) {
  static std::map<index_t, Matrix<double>> cache;
  auto it = cache.find(n);
  if (it != cache.end()) return it->second;
  validation::GeneratorParams gp;
  gp.name = "deltanet";
  gp.n = n;
  gp.seed = 1;
  return cache.emplace(n, validation::generate(gp).L).first->second;
}

void register_large() {
  for (index_t n : {1024, 4096}) {
    for (const char* spec : {"trinv/blocked", "trinv/recursive", "trinv/recursive_merge", "lapack"}) {
      const std::string name = "large/fp64/" + std::string(spec) + "/" + std::to_string(n);
      benchmark::RegisterBenchmark(name.c_str(), [name, spec, n](benchmark::State& st) {
        const Matrix<double>& A = large_input(n);
        Matrix<double> X(n, n);
        TrinvOptions o;
        o.check_accuracy = false;
        double total = 0.0, cpu = 0.0;
        for (auto _ : st) {
          const auto t0 = std::chrono::steady_clock::now();
          const double c0 = process_cpu();
          if (std::string(spec) == "lapack") {
            std::memcpy(X.data(), A.data(), sizeof(double) * static_cast<std::size_t>(n * n));
            LAPACKE_dtrtri(LAPACK_COL_MAJOR, 'U', 'U', static_cast<lapack_int>(n), X.data(),
                           static_cast<lapack_int>(n));
          } else {
            invert(MethodSpec::parse(spec), A.view(), X.view(), o);
          }
          cpu += process_cpu() - c0;
          total += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
          benchmark::DoNotOptimize(X.data());
        }
        record(name, total / static_cast<double>(st.iterations()), cpu / static_cast<double>(st.iterations()),
               static_cast<long long>(st.iterations()));
        const double nd = static_cast<double>(n);
        st.counters["GFLOPs"] = nd * nd * nd / 3.0 / (total / static_cast<double>(st.iterations())) * 1e-9;
      })->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(1.0);
    }
  }
}

// ---- Accuracy on a sample -------------------------------------------------------------------

// The reference: forward substitution in long double (64-bit significand on x86), whose
// error, gamma_n |L^-1||L||X| with u = 2^-64 (Higham ASNA Thm 8.5), is ~2^-11 of an fp64
// result's for these well-conditioned inputs — enough to measure fp32 and fp64 errors.
// Independent of triscan's code.
template <class T>
std::vector<long double> reference_inverse_ld(const T* L) {
  const index_t n = batch_n;
  std::vector<long double> X(static_cast<std::size_t>(n * n), 0.0L);
  for (index_t j = 0; j < n; ++j) {
    X[static_cast<std::size_t>(j * n + j)] = 1.0L;
    for (index_t i = j + 1; i < n; ++i) {
      long double s = 0.0L;
      for (index_t k = j; k < i; ++k)
        s += static_cast<long double>(L[i * n + k]) * X[static_cast<std::size_t>(k * n + j)];
      X[static_cast<std::size_t>(i * n + j)] = -s;
    }
  }
  return X;
}

// Largest relative Frobenius forward error over the first `sample` matrices of the batch
// output that benchmark `name` produced (the timed call's own result).
template <class T>
double sample_error(const std::string& name) {
  const auto& A = batch_input<T>();
  double worst = 0.0;
  const std::size_t nn = static_cast<std::size_t>(batch_n * batch_n);
  const std::vector<double>& out = batch_outputs.at(name);
  for (index_t b = 0; b < sample; ++b) {
    const double* X = out.data() + b * nn;
    const std::vector<long double> ref = reference_inverse_ld(A.data() + b * nn);
    long double num = 0.0L, den = 0.0L;
    for (index_t i = 0; i < batch_n; ++i)
      for (index_t j = 0; j <= i; ++j) {
        const std::size_t e = static_cast<std::size_t>(i * batch_n + j);
        const long double d = static_cast<long double>(X[e]) - ref[e];
        num += d * d;
        den += ref[e] * ref[e];
      }
    worst = std::max(worst, static_cast<double>(std::sqrt(num / den)));
  }
  return worst;
}

template <class T>
void print_batch_table() {
  const std::string lapack = std::string("batch/") + type_name<T>() + "/lapack";
  if (!wall_runs.count(lapack)) return;
  const double lapack_err = sample_error<T>(lapack);
  const double t_lapack = seconds_of(lapack) / batch_count, c_lapack = cpu_seconds_of(lapack) / batch_count;
  std::printf("\nBatched %ld x (%ldx%ld) unit lower, %s, %u threads on both sides, %s\n", long(batch_count),
              long(batch_n), long(batch_n), type_name<T>(), bench_threads, pages_note().c_str());
  std::printf("%-36s %9s %9s %9s %9s %11s %8s %s\n", "method", "wall us", "speed-up", "CPU us", "speed-up",
              "max fwd err", "err/LAPK", "target (>= 5x, err <= 2x)");
  std::printf("%-36s %9.3f %9.2f %9.3f %9.2f %11.3e %8.2f\n", "LAPACKE ?trtri (1 BLAS thread)", 1e6 * t_lapack, 1.0,
              1e6 * c_lapack, 1.0, lapack_err, 1.0);
  for (const auto& m : trinv_methods()) {
    for (const char* suffix : {"", "+check"}) {
      const std::string name = std::string("batch/") + type_name<T>() + "/" + m.name + suffix;
      if (!wall_runs.count(name)) continue;
      const double t = seconds_of(name) / batch_count, c = cpu_seconds_of(name) / batch_count;
      const double err = sample_error<T>(name);
      const bool err_ok = err <= 2.0 * std::max(lapack_err, 1e-300);
      const bool met_wall = t_lapack / t >= 5.0 && err_ok, met_cpu = c_lapack / c >= 5.0 && err_ok;
      std::printf("%-36s %9.3f %9.2f %9.3f %9.2f %11.3e %8.2f %s (wall), %s (CPU)\n",
                  (m.name + suffix).c_str(), 1e6 * t, t_lapack / t, 1e6 * c, c_lapack / c, err,
                  err / lapack_err, met_wall ? "met" : "not met", met_cpu ? "met" : "not met");
    }
  }
}

// A JSON number with four decimals, or null where there is none (NaN: no such rounds).
std::string json_number(double x) {
  if (!std::isfinite(x)) return "null";
  char b[64];
  std::snprintf(b, sizeof b, "%.4f", x);
  return b;
}

// --paired=R: LAPACK and triscan timed back to back in each of R rounds (order alternating),
// on the same input; the per-round ratio LAPACK / triscan. Prints a table and one JSON line.
template <class T>
void run_paired() {
  const auto& A = batch_input<T>();
  Buffer<T> X_lapack(A.size()), X_triscan(A.size());
  const auto in = BatchView<const T>::contiguous(A.data(), batch_count, batch_n, batch_n);
  const auto out = BatchView<T>::contiguous(X_triscan.data(), batch_count, batch_n, batch_n);
  const MethodSpec ms = MethodSpec::parse("trinv/forward_substitution");
  const TrinvOptions o = batch_options<T>(false);
  const int saved = openblas_get_num_threads();
  openblas_set_num_threads(1);
  auto time = [](auto&& f) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  std::vector<double> tl, tt, ratio, ratio_lapack_first, ratio_triscan_first;
  Status status = Status::ok;
  for (int r = 0; r < paired_rounds; ++r) {
    double a = 0.0, b = 0.0;
    if (r % 2 == 0) {
      a = time([&] { lapack_batch(A.data(), X_lapack.data(), batch_count); });
      b = time([&] { status = worst(status, invert_batch(ms, in, out, o)); });
    } else {
      b = time([&] { status = worst(status, invert_batch(ms, in, out, o)); });
      a = time([&] { lapack_batch(A.data(), X_lapack.data(), batch_count); });
    }
    tl.push_back(a / batch_count);
    tt.push_back(b / batch_count);
    ratio.push_back(a / b);
    (r % 2 == 0 ? ratio_lapack_first : ratio_triscan_first).push_back(a / b);
    std::fprintf(stderr, "paired %s round %d/%d: LAPACK %.3f us, triscan %.3f us, ratio %.2f\n",
                 type_name<T>(), r + 1, paired_rounds, 1e6 * a / batch_count, 1e6 * b / batch_count,
                 a / b);
  }
  openblas_set_num_threads(saved);
  const std::string ln = std::string("paired/") + type_name<T>() + "/lapack";
  const std::string tn = std::string("paired/") + type_name<T>() + "/triscan";
  keep_sample<T>(ln, X_lapack);
  keep_sample<T>(tn, X_triscan);
  const double el = sample_error<T>(ln), et = sample_error<T>(tn);
  std::vector<double> q = ratio;
  std::sort(q.begin(), q.end());
  auto quantile = [&](double f) {
    return q[static_cast<std::size_t>(f * static_cast<double>(q.size() - 1) + 0.5)];
  };
  const long reached = std::count_if(q.begin(), q.end(), [](double x) { return x >= 5.0; });
  const bool err_ok = et <= 2.0 * std::max(el, 1e-300);
  std::printf(
      "\nPaired rounds, %ld x (%ldx%ld) unit lower, %s, %u threads on both sides, %s: LAPACK and\n"
      "triscan (forward_substitution, check off) back to back, their order alternating; ratio =\n"
      "LAPACK / triscan per round\n",
      long(batch_count), long(batch_n), long(batch_n), type_name<T>(), bench_threads,
      pages_note().c_str());
  std::printf("%6s %12s %12s %8s %8s %8s %8s %8s %9s %8s %s\n", "rounds", "LAPACK us", "triscan us",
              "median", "q25", "q75", "min", "max", "rounds>=5", "err/LAPK",
              "target (median >= 5x, err <= 2x)");
  std::printf("%6d %12.3f %12.3f %8.2f %8.2f %8.2f %8.2f %8.2f %9ld %8.2f %s\n", paired_rounds,
              1e6 * median(tl), 1e6 * median(tt), median(ratio), quantile(0.25), quantile(0.75),
              q.front(), q.back(), reached, et / el,
              median(ratio) >= 5.0 && err_ok ? "met" : "not met");
  // The medians of each order within a round, so that an effect of the order shows (on
  // the 2-core VM they differed by up to 0.7x, either way from run to run: noise).
  std::printf("median ratio of the rounds with LAPACK first %.2f, with triscan first %.2f\n",
              median(ratio_lapack_first), median(ratio_triscan_first));
  std::printf(
      "{\"paired\": {\"format\": \"%s\", \"rounds\": %d, \"threads\": %u, \"lapack_us\": %.4f, "
      "\"triscan_us\": %.4f, \"ratio_median\": %.4f, \"ratio_q25\": %.4f, \"ratio_q75\": %.4f, "
      "\"ratio_min\": %.4f, \"ratio_max\": %.4f, \"rounds_at_5x\": %ld, "
      "\"ratio_median_lapack_first\": %s, \"ratio_median_triscan_first\": %s, "
      "\"lapack_error\": %.4e, \"triscan_error\": %.4e, \"status\": \"%s\"}}\n",
      type_name<T>(), paired_rounds, bench_threads, 1e6 * median(tl), 1e6 * median(tt),
      median(ratio), quantile(0.25), quantile(0.75), q.front(), q.back(), reached,
      json_number(median(ratio_lapack_first)).c_str(),
      json_number(median(ratio_triscan_first)).c_str(), el, et,
      std::string(status_name(status)).c_str());
}

void print_large_table() {
  std::printf("\nSingle large unit lower fp64 (deltanet), OpenBLAS default threads (%d)\n",
              openblas_get_num_threads());
  std::printf("%-28s %6s %10s %10s %10s %10s %s\n", "method", "n", "wall ms", "GFLOP/s",
              "vs dtrtri", "CPU ms", "target (>= 0.9x, wall)");
  for (index_t n : {1024, 4096}) {
    const std::string base = "large/fp64/lapack/" + std::to_string(n);
    if (!wall_runs.count(base)) continue;
    const double nd = static_cast<double>(n), flops = nd * nd * nd / 3.0;
    std::printf("%-28s %6ld %10.2f %10.2f %10.2f %10.2f\n", "OpenBLAS dtrtri", long(n), 1e3 * seconds_of(base),
                flops / seconds_of(base) * 1e-9, 1.0, 1e3 * cpu_seconds_of(base));
    for (const char* spec : {"trinv/blocked", "trinv/recursive", "trinv/recursive_merge"}) {
      const std::string name = "large/fp64/" + std::string(spec) + "/" + std::to_string(n);
      if (!wall_runs.count(name)) continue;
      const double r = seconds_of(base) / seconds_of(name);
      std::printf("%-28s %6ld %10.2f %10.2f %10.2f %10.2f %s\n", spec, long(n), 1e3 * seconds_of(name),
                  flops / seconds_of(name) * 1e-9, r, 1e3 * cpu_seconds_of(name), r >= 0.9 ? "met" : "not met");
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i)
    if (std::strncmp(argv[i], "--threads=", 10) == 0) bench_threads = static_cast<unsigned>(std::atoi(argv[i] + 10));
    else if (std::strcmp(argv[i], "--huge-pages") == 0) huge_pages = true;
    else if (std::strncmp(argv[i], "--paired=", 9) == 0) {
      paired_rounds = std::atoi(argv[i] + 9);
      if (paired_rounds < 1) {
        std::fprintf(stderr, "bench_trinv: --paired=R needs R >= 1 (got '%s')\n", argv[i] + 9);
        return 2;
      }
    }
  benchmark::Initialize(&argc, argv);
  register_batch<float>();
  register_batch<double>();
  register_large();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  print_batch_table<float>();
  print_batch_table<double>();
  print_large_table();
  if (paired_rounds > 0) {
    run_paired<float>();
    run_paired<double>();
  }
  return 0;
}
