// bench_wy — CPU delta-rule chunk WY (include/triscan/wy.hpp) and the chunkwise forward
// (include/triscan/delta.hpp, second table): fp32, B = 1, T = 16384,
// H = 8, dk = dv = 128, C = 64, over all cores (--threads=N, default: all), inputs from
// the `deltanet` and `gated` generators (make_chunk_problem; generated once).
//
// Reported per family: tokens per second (B T / wall time; each token carries H = 8
// heads), and the share of the workers' time spent forming the chunk matrix (kkt), in
// the inversion (trinv/forward_substitution, the a-posteriori check off: the hot path)
// and forming T, W, U (WyOptions::profile, summed over threads). Google Benchmark prints
// its table (JSON with --benchmark_out=F --benchmark_out_format=json); the share table
// follows.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "triscan/delta.hpp"
#include "triscan/wy.hpp"
#include "validation/generators.hpp"

namespace {

using namespace triscan;

constexpr index_t kT = 16384, kH = 8, kD = 128, kC = 64;
unsigned g_threads = 0;

struct Inputs {
  ChunkLayout layout;
  std::vector<float> q, k, v, beta, g;
};

const Inputs& inputs(const std::string& gen) {
  static std::map<std::string, Inputs> cache;
  auto it = cache.find(gen);
  if (it != cache.end()) return it->second;
  Inputs in;
  in.layout.length = kT;
  in.layout.heads = kH;
  in.layout.chunk = kC;
  validation::GeneratorParams gp;
  gp.name = gen;
  gp.seed = 1;
  gp.dk = kD;
  gp.dv = kD;
  const validation::ChunkProblem p = validation::make_chunk_problem(gp, in.layout);
  auto f = [&](const char* name) {
    auto t = p.tensors.find(name);
    return t == p.tensors.end() ? std::vector<float>()
                                : std::vector<float>(t->second.data.begin(), t->second.data.end());
  };
  in.q = f("q");
  in.k = f("k");
  in.v = f("v");
  in.beta = f("beta");
  in.g = f("g_token");
  return cache.emplace(gen, std::move(in)).first->second;
}

struct Shares {
  double kkt = 0, inversion = 0, wu = 0, tokens_per_s = 0;
};
std::map<std::string, Shares> g_shares;

void BM_ChunkWy(benchmark::State& state, const std::string& gen, WyFamily family) {
  const Inputs& in = inputs(gen);
  std::vector<float> w(static_cast<std::size_t>(kT * kH * kD)), u(w.size());
  WyOptions opt;
  opt.precision = Precision::uniform(format_by_name("fp32"));
  opt.check_accuracy = false;
  opt.threads = g_threads;
  WyProfile prof;
  opt.profile = &prof;
  const WyInputs<float> wi{in.k.data(),
                           in.v.data(),
                           in.beta.data(),
                           in.g.empty() ? nullptr : in.g.data(),
                           nullptr,
                           nullptr,
                           kD,
                           kD,
                           0};
  Status s = Status::ok;
  for (auto _ : state) {
    s = worst(s, chunk_wy(family, in.layout, wi, {w.data(), u.data()}, opt));
    benchmark::DoNotOptimize(w.data());
    benchmark::ClobberMemory();
  }
  if (s != Status::ok) state.SkipWithError(("status " + std::string(status_name(s))).c_str());
  state.SetItemsProcessed(state.iterations() * kT);  // tokens (each with H heads)
  const double total = prof.kkt + prof.inversion + prof.wu;
  state.counters["kkt_share"] = prof.kkt / total;
  state.counters["inversion_share"] = prof.inversion / total;
  state.counters["wu_share"] = prof.wu / total;
  Shares& sh = g_shares[wy_family_name(family)];
  sh.kkt = prof.kkt / total;
  sh.inversion = prof.inversion / total;
  sh.wu = prof.wu / total;
}

struct ForwardShares {
  double wy = 0, inversion = 0, state = 0;
};
std::map<std::string, ForwardShares> g_forward;

// The chunkwise forward o_t = S_t q_t (delta_forward), same shape, fp32, zero initial state.
void BM_DeltaForward(benchmark::State& state, const std::string& gen, WyFamily family) {
  const Inputs& in = inputs(gen);
  std::vector<float> o(static_cast<std::size_t>(kT * kH * kD)),
      S(static_cast<std::size_t>(kH * kD * kD));
  DeltaForwardOptions opt;
  opt.precision = Precision::uniform(format_by_name("fp32"));
  opt.state_format = format_by_name("fp32");
  opt.check_accuracy = false;
  opt.threads = g_threads;
  DeltaProfile prof;
  opt.profile = &prof;
  const DeltaInputs<float> di{in.q.data(),
                              in.k.data(),
                              in.v.data(),
                              in.beta.data(),
                              in.g.empty() ? nullptr : in.g.data(),
                              nullptr,
                              kD,
                              kD,
                              0};
  Status s = Status::ok;
  for (auto _ : state) {
    s = worst(s, delta_forward(family, in.layout, di, o.data(), S.data(), opt));
    benchmark::DoNotOptimize(o.data());
    benchmark::ClobberMemory();
  }
  if (s != Status::ok) state.SkipWithError(("status " + std::string(status_name(s))).c_str());
  state.SetItemsProcessed(state.iterations() * kT);
  const double total = prof.wy + prof.inversion + prof.state;
  state.counters["wy_share"] = prof.wy / total;
  state.counters["inversion_share"] = prof.inversion / total;
  state.counters["state_share"] = prof.state / total;
  g_forward[wy_family_name(family)] = {prof.wy / total, prof.inversion / total, prof.state / total};
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i)
    if (std::strncmp(argv[i], "--threads=", 10) == 0)
      g_threads = static_cast<unsigned>(std::atoi(argv[i] + 10));
  const unsigned threads =
      g_threads ? g_threads : std::max(1u, std::thread::hardware_concurrency());
  benchmark::RegisterBenchmark("chunk_wy/fp32/deltanet/B1_T16384_H8_d128_C64", BM_ChunkWy,
                               std::string("deltanet"), WyFamily::deltanet)
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime()
      ->MinTime(2.0);
  benchmark::RegisterBenchmark("chunk_wy/fp32/gated/B1_T16384_H8_d128_C64", BM_ChunkWy,
                               std::string("gated"), WyFamily::gated)
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime()
      ->MinTime(2.0);
  benchmark::RegisterBenchmark("delta_forward/fp32/deltanet/B1_T16384_H8_d128_C64", BM_DeltaForward,
                               std::string("deltanet"), WyFamily::deltanet)
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime()
      ->MinTime(2.0);
  benchmark::RegisterBenchmark("delta_forward/fp32/gated/B1_T16384_H8_d128_C64", BM_DeltaForward,
                               std::string("gated"), WyFamily::gated)
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime()
      ->MinTime(2.0);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  std::printf(
      "\nchunk WY fp32, B=1 T=%ld H=%ld dk=dv=%ld C=%ld, %u threads: share of worker time\n", kT,
      kH, kD, kC, threads);
  std::printf("%-10s %8s %10s %8s\n", "family", "kkt", "inversion", "T,W,U");
  for (const auto& [name, s] : g_shares)
    std::printf("%-10s %7.1f%% %9.1f%% %7.1f%%\n", name.c_str(), 100 * s.kkt, 100 * s.inversion,
                100 * s.wu);
  std::printf("\nchunkwise forward fp32, same shape: share of worker time\n%-10s %8s %10s %12s\n",
              "family", "WY", "inversion", "state+output");
  for (const auto& [name, s] : g_forward)
    std::printf("%-10s %7.1f%% %9.1f%% %11.1f%%\n", name.c_str(), 100 * s.wy, 100 * s.inversion,
                100 * s.state);
  benchmark::Shutdown();
}
