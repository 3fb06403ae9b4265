// bench_scan — CPU diagonal linear recurrence h_t = a_t * h_{t-1} + b_t (elementwise over
// d channels), native fp32, layout [T, d] row-major, T * d = 2^20 .. 2^26 elements, d = 256
// by default (--dim=D):
//   - `scan/chunked:chunk=C` through triscan::scan (float overload, native path) on all
//     cores (--threads, default 2: this machine's count),
//   - a plain sequential loop (one thread, the recurrence as written, vectorized over d),
//   - memcpy of the scan's input bytes (a and b) on the same number of threads.
// Reported: wall time, speed-up of the chunked scan over the loop, and the share of
// memcpy bandwidth: the scan moves at least 12 N bytes (reads a and b, writes h), the
// memcpy 16 N (reads and writes 8 N), so share = (12 N / t_scan) / (16 N / t_memcpy)
// (target >= 70% at the largest size). The largest |difference| between the chunked scan
// and the loop, relative to max |h|, is printed as a sanity check (it is not a test:
// tests/scan/ checks accuracy against MPFR).
//
// Every array starts at an --align=A byte boundary (default 64, a cache line, as
// aligned allocators and PyTorch's CPU tensors give; --align=16 is what malloc gives
// large arrays): the chunked scan streams its output with whole-vector stores from the
// first aligned vector of each row (src/scan/strips.hpp), so the alignment matters.
//
// Google Benchmark prints its own table (and JSON with --benchmark_out=F
// --benchmark_out_format=json); the summary table and one JSON line per size follow.
// On a shared machine run it as
//   bench_scan --benchmark_repetitions=5 --benchmark_enable_random_interleaving=true
// (repetitions of the four variants interleaved at random, so a burst of other load does
// not land on one variant only; the summary reports each variant's median repetition).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <cstdlib>
#include <map>
#include <new>
#include <string>
#include <thread>
#include <vector>

#include "triscan/scan.hpp"
#include "validation/generators.hpp"

namespace {

using namespace triscan;

unsigned bench_threads = 2;
std::size_t bench_align = 64;
index_t bench_dim = 256;
index_t bench_chunk = 64;
const std::vector<int> log2_sizes = {20, 22, 24, 26};

// benchmark name -> wall / process CPU seconds per iteration, one entry per repetition
std::map<std::string, std::vector<double>> wall_reps, cpu_reps;
// The median of a name's repetitions (the mean of the middle two for an even count); 0
// if it did not run.
double median_of(const std::map<std::string, std::vector<double>>& reps, const std::string& name) {
  const auto it = reps.find(name);
  if (it == reps.end() || it->second.empty()) return 0.0;
  std::vector<double> v = it->second;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// CPU time of the whole process (all threads): on a shared machine the wall time depends
// on the other processes' load, the CPU time much less.
double process_cpu() {
  timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
}

// Allocates at exactly bench_align bytes past a 4096-byte boundary (so 16 means
// 16-byte but not 32-byte aligned, as malloc's large blocks).
template <class T>
struct BenchAllocator {
  using value_type = T;
  BenchAllocator() = default;
  template <class U>
  explicit BenchAllocator(const BenchAllocator<U>&) {}
  T* allocate(std::size_t n) {
    void* p = std::aligned_alloc(4096, (n * sizeof(T) + 2 * 4096) / 4096 * 4096);
    if (!p) throw std::bad_alloc();
    return reinterpret_cast<T*>(static_cast<char*>(p) + (bench_align % 4096));
  }
  void deallocate(T* p, std::size_t) {
    std::free(reinterpret_cast<char*>(p) - (bench_align % 4096));
  }
  template <class U>
  bool operator==(const BenchAllocator<U>&) const {
    return true;
  }
  template <class U>
  bool operator!=(const BenchAllocator<U>&) const {
    return false;
  }
};
using Array = std::vector<float, BenchAllocator<float>>;

struct Data {
  Array a, b, h, copy_a, copy_b, h_loop;
};

Data& data_for(index_t n) {
  static std::map<index_t, Data> cache;
  auto it = cache.find(n);
  if (it != cache.end()) return it->second;
  if (!cache.empty()) cache.clear();  // one size at a time: the largest needs ~1.5 GB
  Data& d = cache[n];
  validation::Rng rng(7, {static_cast<std::uint64_t>(n)});
  d.a.resize(static_cast<std::size_t>(n));
  d.b.resize(static_cast<std::size_t>(n));
  for (auto& x : d.a) x = static_cast<float>(rng.uniform(0.95, 1.0));
  for (auto& x : d.b) x = static_cast<float>(rng.normal());
  d.h.assign(static_cast<std::size_t>(n), 0.0f);  // touched: no page faults in the timing
  d.copy_a.assign(static_cast<std::size_t>(n), 0.0f);
  d.copy_b.assign(static_cast<std::size_t>(n), 0.0f);
  d.h_loop.assign(static_cast<std::size_t>(n), 0.0f);
  return d;
}

// The plain loop: h_t = a_t h_{t-1} + b_t, channels innermost.
void sequential_loop(const float* a, const float* b, float* h, index_t T, index_t d) {
  for (index_t j = 0; j < d; ++j) h[j] = b[j];
  for (index_t t = 1; t < T; ++t) {
    const float* at = a + t * d;
    const float* bt = b + t * d;
    const float* hp = h + (t - 1) * d;
    float* ht = h + t * d;
    for (index_t j = 0; j < d; ++j) ht[j] = at[j] * hp[j] + bt[j];
  }
}

void parallel_memcpy(Data& d, unsigned threads) {
  const std::size_t n = d.a.size();
  std::vector<std::thread> pool;
  auto part = [&](unsigned w) {
    const std::size_t lo = n * w / threads, hi = n * (w + 1) / threads;
    std::memcpy(d.copy_a.data() + lo, d.a.data() + lo, (hi - lo) * sizeof(float));
    std::memcpy(d.copy_b.data() + lo, d.b.data() + lo, (hi - lo) * sizeof(float));
  };
  for (unsigned w = 1; w < threads; ++w) pool.emplace_back(part, w);
  part(0);
  for (auto& t : pool) t.join();
}

template <class F>
void timed(benchmark::State& st, const std::string& name, F&& body) {
  double total = 0.0, cpu = 0.0;
  for (auto _ : st) {
    const auto t0 = std::chrono::steady_clock::now();
    const double c0 = process_cpu();
    body();
    cpu += process_cpu() - c0;
    total += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  // With --benchmark_repetitions=R the summary takes each variant's median repetition.
  wall_reps[name].push_back(total / static_cast<double>(st.iterations()));
  cpu_reps[name].push_back(cpu / static_cast<double>(st.iterations()));
}

std::string key(const char* what, int lg) { return std::string("diag_fp32/") + what + "/2^" + std::to_string(lg); }

void register_all() {
  for (int lg : log2_sizes) {
    const index_t n = index_t(1) << lg;
    benchmark::RegisterBenchmark(key("loop", lg).c_str(), [lg, n](benchmark::State& st) {
      Data& d = data_for(n);
      timed(st, key("loop", lg), [&] {
        sequential_loop(d.a.data(), d.b.data(), d.h_loop.data(), n / bench_dim, bench_dim);
        benchmark::DoNotOptimize(d.h_loop.data());
      });
    })->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(0.5);
    for (const bool one : {false, true})
    benchmark::RegisterBenchmark(key(one ? "chunked_1t" : "chunked", lg).c_str(), [lg, n, one](benchmark::State& st) {
      Data& d = data_for(n);
      ScanInput<float> in;
      in.kind = ScanKind::diagonal;
      in.length = n / bench_dim;
      in.dim = bench_dim;
      in.a = d.a.data();
      in.b = d.b.data();
      ScanOptions o;
      o.precision = Precision::uniform(format_by_name("fp32"));
      o.threads = one ? 1 : bench_threads;
      const MethodSpec spec = MethodSpec::parse("scan/chunked:chunk=" + std::to_string(bench_chunk));
      timed(st, key(one ? "chunked_1t" : "chunked", lg),
            [&] { benchmark::DoNotOptimize(scan(spec, in, d.h.data(), o).status); });
    })->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(0.5);
    benchmark::RegisterBenchmark(key("memcpy", lg).c_str(), [lg, n](benchmark::State& st) {
      Data& d = data_for(n);
      timed(st, key("memcpy", lg), [&] {
        parallel_memcpy(d, bench_threads);
        benchmark::DoNotOptimize(d.copy_a.data());
      });
    })->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(0.5);
  }
}

void print_table() {
  std::printf("\nDiagonal recurrence fp32, d = %ld, scan/chunked:chunk=%ld on %u threads; loop on 1 thread; "
              "memcpy of a and b on %u threads; arrays %zu-byte aligned\n",
              long(bench_dim), long(bench_chunk), bench_threads, bench_threads, bench_align);
  std::printf("(wall ms; CPU ms = process CPU time, all threads; chunk 1t = scan/chunked on one thread; each the median of the repetitions)\n");
  std::printf("%6s %7s %8s %8s %8s %8s %8s %8s %8s %8s %8s %6s %9s\n", "T*d", "T", "loop", "chunk", "speedup",
              "loop CPU", "chk CPU", "chunk 1t", "memcpy", "scanGB/s", "mcpyGB/s", "share", "max|diff|");
  for (int lg : log2_sizes) {
    const index_t n = index_t(1) << lg;
    const double tl = median_of(wall_reps, key("loop", lg)), tc = median_of(wall_reps, key("chunked", lg)),
                 tm = median_of(wall_reps, key("memcpy", lg));
    if (tl == 0 || tc == 0 || tm == 0) continue;
    const double bw_scan = 12.0 * double(n) / tc * 1e-9, bw_copy = 16.0 * double(n) / tm * 1e-9;
    // sanity: chunked vs loop on the last data run (data_for keeps only the last size)
    Data& d = data_for(n);
    ScanInput<float> in;
    in.kind = ScanKind::diagonal;
    in.length = n / bench_dim;
    in.dim = bench_dim;
    in.a = d.a.data();
    in.b = d.b.data();
    ScanOptions o;
    o.precision = Precision::uniform(format_by_name("fp32"));
    o.threads = bench_threads;
    scan(MethodSpec::parse("scan/chunked:chunk=" + std::to_string(bench_chunk)), in, d.h.data(), o);
    sequential_loop(d.a.data(), d.b.data(), d.h_loop.data(), n / bench_dim, bench_dim);
    double diff = 0, mx = 0;
    for (std::size_t i = 0; i < d.h.size(); ++i) {
      diff = std::max(diff, double(std::fabs(d.h[i] - d.h_loop[i])));
      mx = std::max(mx, double(std::fabs(d.h_loop[i])));
    }
    const double cl = median_of(cpu_reps, key("loop", lg)), cc = median_of(cpu_reps, key("chunked", lg));
    const double t1 = median_of(wall_reps, key("chunked_1t", lg));
    std::printf("%6s %7ld %8.2f %8.2f %8.2f %8.2f %8.2f %8.2f %8.2f %8.2f %8.2f %5.0f%% %9.2e\n",
                ("2^" + std::to_string(lg)).c_str(), long(n / bench_dim), 1e3 * tl, 1e3 * tc, tl / tc, 1e3 * cl,
                1e3 * cc, 1e3 * t1, 1e3 * tm, bw_scan, bw_copy, 100 * bw_scan / bw_copy, diff / mx);
    std::printf("{\"bench\": \"scan_diag_fp32\", \"elements\": %ld, \"T\": %ld, \"d\": %ld, \"chunk\": %ld, "
                "\"threads\": %u, \"align\": %zu, \"loop_s\": %.6e, \"chunked_s\": %.6e, \"chunked_1t_s\": %.6e, \"memcpy_s\": %.6e, "
                "\"loop_cpu_s\": %.6e, \"chunked_cpu_s\": %.6e, \"speedup\": %.4f, \"memcpy_share\": %.4f}\n",
                long(n), long(n / bench_dim), long(bench_dim), long(bench_chunk), bench_threads, bench_align, tl, tc, t1, tm,
                cl, cc,
                tl / tc, bw_scan / bw_copy);
  }
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--threads=", 10) == 0) bench_threads = static_cast<unsigned>(std::atoi(argv[i] + 10));
    if (std::strncmp(argv[i], "--dim=", 6) == 0) bench_dim = std::atol(argv[i] + 6);
    if (std::strncmp(argv[i], "--chunk=", 8) == 0) bench_chunk = std::atol(argv[i] + 8);
    if (std::strncmp(argv[i], "--align=", 8) == 0) bench_align = static_cast<std::size_t>(std::atol(argv[i] + 8));
  }
  if (bench_align < 4 || bench_align > 4096 || (bench_align & (bench_align - 1)) != 0) {
    std::fprintf(stderr, "bench_scan: --align must be a power of two in [4, 4096]\n");
    return 2;
  }
  benchmark::Initialize(&argc, argv);
  register_all();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  print_table();
  return 0;
}
