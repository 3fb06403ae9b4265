// bench/gpu_bench_trinv.cu — batched unit-lower inversion on the GPU: triscan's
// kernels vs cuBLAS batched TRSM, with the device's copy bandwidth as the ceiling.
//
// Each case times one launch at a time with CUDA events (median of --runs launches
// after warm-up), rotating over 4 input/output buffer sets of more than the L2 each so
// the inputs come from HBM. Bytes counted: every input element read once and every
// output element written once (B*T*H*BT elements each); achieved GB/s and the share of
// the measured device-to-device copy bandwidth (bytes read + bytes written) follow.
// Every timed kernel's output is checked on a sample of matrices against an fp64
// substitution on the host (max relative Frobenius error, printed).
//
// Inputs: deltanet chunk matrices from validation's make_chunk_problem (unit-norm keys,
// dk = 128, beta ~ U(0, 1)), generated for 32 chunks x H heads and tiled along T.
//
// Usage: gpu_bench_trinv [--runs N] [--variants] [--mma-only] [--merge-only] [--cusolver] [--write-npy DIR]
//   --first-case-only  stops after the first case (recursive_merge, B=4, T=16384, H=32, BT=64, fp32)
//   --merge-only     times only trinv/recursive_merge's chunk cases (every BT and dtype pair of
//                    the default run, varlen): no forward_substitution, cuBLAS, strided or mma rows
//   --mma-only       times only the matrix-unit table: trinv/recursive_merge in fp32 (with and
//                    without check=1) next to its mma=bf16|fp16|tf32 variants (check on by
//                    default; check=0; refine=1) at BT = 32, 64, 128 (also run at the end of
//                    the default run). The flag column: 0 ok, 1 inaccurate (no other status
//                    is accepted: the run stops). Also trinv/product_form:mma=bf16|tf32.
//   --pf-only        the same table for the product form, the fp32 merges and the 16-bit
//                    merges only.
//   --variants       also times tuning variants of the kernel (accumulators per row sum,
//                    register cap) at BT = 32, 64, 128, fp32 -> fp32. Only in a build configured
//                    with -DTRISCAN_BENCH_TUNING=ON: the ten kernel instances take nvcc about
//                    7 minutes per CUDA architecture, so the default build leaves them out.
//   --cusolver       times only the vendor baseline for large single matrices: cusolverDnXtrtri
//                    (fp32, lower, unit, in place, column-major) at n = 1024 .. 8192 — orders
//                    the batched kernels do not take — with GFLOP/s at n^3/3 and a residual
//                    check on four columns (max ||L x_j - e_j|| / (||L|| ||x_j||), inf-norms).
//   --write-npy DIR  also writes DIR/<class>.npy (A, fp32, [2, 4096, 16, 64]) and
//                    DIR/<class>_varlen.npy for bench/fla_compare.py, one per generator
//                    class, and exits.
#include <cuda_runtime.h>
#include <cusolverDn.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench/gpu_timing.hpp"
#include "gpu/cuda_check.hpp"
#include "gpu/trinv_kernel.cuh"
#include "gpu/host_codec.hpp"
#include "triscan/gpu.hpp"
#include "triscan/status.hpp"
#include "validation/generators.hpp"

namespace {

using triscan::ChunkLayout;
using triscan::index_t;
using triscan::gpu::check_cuda;
using triscan::gpu::DType;
using triscan::gpu::dtype_bytes;

constexpr int buffer_sets = 4;

// The deltanet chunk matrices of `layout`: a 32-chunk x H template from the generator,
// repeated along T (and over batch entries); values, not their repetition, matter here.
std::vector<float> deltanet_input(const ChunkLayout& layout, std::uint64_t seed) {
  triscan::validation::GeneratorParams p;
  p.name = "deltanet";
  p.n = layout.chunk;
  p.seed = seed;
  ChunkLayout tmpl{1, 32 * layout.chunk, layout.heads, layout.chunk, {}};
  const auto problem = triscan::validation::make_chunk_problem(p, tmpl);
  const std::vector<double>& A = problem.tensors.at("A").data;
  std::vector<float> out(static_cast<std::size_t>(layout.elements()));
  for (std::size_t e = 0; e < out.size(); ++e) out[e] = static_cast<float>(A[e % A.size()]);
  return out;
}

// Relative Frobenius error of `got` (n x n, row stride rs) against fp64 forward
// substitution on the same (rounded) input `a` (rows of the strictly lower part).
double relative_error(const std::vector<double>& a, const std::vector<double>& got, int m, index_t rs) {
  std::vector<double> x(static_cast<std::size_t>(m) * m, 0.0);
  for (int j = 0; j < m; ++j) {
    x[static_cast<std::size_t>(j) * m + j] = 1.0;
    for (int i = j + 1; i < m; ++i) {
      double s = 0;
      for (int k = j; k < i; ++k) s += a[static_cast<std::size_t>(i * rs + k)] * x[static_cast<std::size_t>(k) * m + j];
      x[static_cast<std::size_t>(i) * m + j] = -s;
    }
  }
  double num = 0, den = 0;
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < m; ++j) {
      const double d = got[static_cast<std::size_t>(i * rs + j)] - x[static_cast<std::size_t>(i) * m + j];
      num += d * d;
      den += x[static_cast<std::size_t>(i) * m + j] * x[static_cast<std::size_t>(i) * m + j];
    }
  return std::sqrt(num / den);
}

using triscan::bench::Timing;

// Device-to-device copy bandwidth (bytes read + bytes written per second), 2 GiB.
double copy_bandwidth_gbs(int runs) {
  const std::size_t bytes = std::size_t(2) << 30;
  triscan::gpu::DeviceBytes a(bytes), b(bytes);
  a.fill32(0x3f800000u);
  const Timing t = triscan::bench::time_launches(2 * buffer_sets, runs, [&](int) {
    check_cuda(cudaMemcpyAsync(b.data(), a.data(), bytes, cudaMemcpyDeviceToDevice), "cudaMemcpyAsync");
  });
  return 2.0 * static_cast<double>(bytes) / (t.median_us * 1e3);
}

struct Result {
  std::string name, method;
  index_t matrices = 0, bt = 0;
  DType in = DType::fp32, out = DType::fp32;
  Timing t;
  double bytes = 0, max_error = 0;
  int flag = 0;  // the worst status of the last timed call (0 ok, 1 inaccurate)
};

void print_result(const Result& r, double copy_gbs) {
  const double gbs = r.bytes / (r.t.median_us * 1e3);
  std::printf("%-34s %-50s %7lld %4lld %4s->%-4s %10.1f %10.1f %8.0f %6.1f%% %10.2e %4d\n", r.name.c_str(),
              r.method.c_str(), static_cast<long long>(r.matrices), static_cast<long long>(r.bt),
              std::string(triscan::gpu::dtype_name(r.in)).c_str(), std::string(triscan::gpu::dtype_name(r.out)).c_str(),
              r.t.median_us, r.t.min_us, gbs, 100.0 * gbs / copy_gbs, r.max_error, r.flag);
  std::fflush(stdout);
}

void print_json(const Result& r, double copy_gbs) {
  const double gbs = r.bytes / (r.t.median_us * 1e3);
  std::printf("{\"bench\": \"gpu_trinv\", \"case\": \"%s\", \"method\": \"%s\", \"matrices\": %lld, \"bt\": %lld, "
              "\"in\": \"%s\", \"out\": \"%s\", \"median_us\": %.2f, \"min_us\": %.2f, \"bytes\": %.0f, \"gb_per_s\": %.1f, "
              "\"copy_gb_per_s\": %.1f, \"share_of_copy\": %.4f, \"max_rel_fro_error\": %.3e, \"flag\": %d}\n",
              r.name.c_str(), r.method.c_str(), static_cast<long long>(r.matrices), static_cast<long long>(r.bt),
              std::string(triscan::gpu::dtype_name(r.in)).c_str(), std::string(triscan::gpu::dtype_name(r.out)).c_str(),
              r.t.median_us, r.t.min_us, r.bytes, gbs, copy_gbs, gbs / copy_gbs, r.max_error, r.flag);
}

// Input bytes of type t (fp32 or bf16, rounded to nearest) from fp32 values.
std::vector<unsigned char> encode_input(const std::vector<float>& a, DType t) {
  return triscan::gpu::encode(std::vector<double>(a.begin(), a.end()), t, nullptr);
}

// Max relative Frobenius error over a sample of the chunk matrices of buffer set 0.
double sample_error(const ChunkLayout& layout, const std::vector<unsigned char>& in_bytes, DType in,
                    const triscan::gpu::DeviceBytes& X, DType out) {
  std::vector<unsigned char> host(X.size());
  X.download(host.data(), host.size());
  const auto chunks = triscan::enumerate_chunks(layout);
  const index_t rs = layout.row_stride();
  double worst = 0;
  for (std::size_t c = 0; c < chunks.size(); c += std::max<std::size_t>(1, chunks.size() / 97)) {
    const auto& ch = chunks[c];
    std::vector<double> a(static_cast<std::size_t>(ch.size * rs)), x(a.size());
    for (index_t i = 0; i < ch.size; ++i)
      for (index_t j = 0; j < ch.size; ++j) {
        const auto e = static_cast<std::size_t>(ch.offset + i * rs + j);
        a[static_cast<std::size_t>(i * rs + j)] = j < i ? triscan::gpu::decode_at(in_bytes, in, e) : 0.0;
        x[static_cast<std::size_t>(i * rs + j)] = triscan::gpu::decode_at(host, out, e);
      }
    worst = std::max(worst, relative_error(a, x, static_cast<int>(ch.size), rs));
  }
  return worst;
}

Result bench_chunks(const std::string& method, const std::string& name, const ChunkLayout& layout, DType in, DType out,
                    int runs) {
  const triscan::gpu::ChunkPlan plan(layout);
  const auto in_bytes = encode_input(deltanet_input(layout, 7), in);
  const std::size_t out_size = static_cast<std::size_t>(layout.elements()) * dtype_bytes(out);
  std::vector<std::unique_ptr<triscan::gpu::DeviceBytes>> A, X;
  for (int s = 0; s < buffer_sets; ++s) {
    A.push_back(std::make_unique<triscan::gpu::DeviceBytes>(in_bytes.size()));
    A.back()->upload(in_bytes.data(), in_bytes.size());
    X.push_back(std::make_unique<triscan::gpu::DeviceBytes>(out_size));
    X.back()->fill32(0x7fc0deadu);
  }
  triscan::gpu::DeviceBytes flag(4);
  const auto fs = triscan::MethodSpec::parse(method);
  Result r;
  r.name = name;
  r.method = fs.to_string();
  r.matrices = plan.chunk_rows() * layout.heads;
  r.bt = layout.chunk;
  r.in = in;
  r.out = out;
  r.t = triscan::bench::time_launches(2 * buffer_sets, runs, [&](int call) {
    const int s = call % buffer_sets;
    triscan::gpu::invert_chunks(fs, plan, in, A[s]->data(), out, X[s]->data(), nullptr,
                                static_cast<std::int32_t*>(flag.data()));
  });
  std::int32_t f = -1;
  flag.download(&f, 4);
  if (f != 0 && f != static_cast<int>(triscan::Status::inaccurate))
    throw std::runtime_error(name + ": status flag " + std::to_string(f));
  r.flag = f;
  r.bytes = static_cast<double>(layout.elements()) * static_cast<double>(dtype_bytes(in) + dtype_bytes(out));
  r.max_error = sample_error(layout, in_bytes, in, *X[0], out);
  return r;
}

#if TRISCAN_BENCH_TUNING
// A tuning variant of the kernel (gpu/trinv_kernel.cuh), regular chunk layout.
template <int BT, int ACC, int MIN_BLOCKS>
Result bench_variant(const ChunkLayout& layout, int runs) {
  namespace d = triscan::gpu::detail;
  const auto in_bytes = encode_input(deltanet_input(layout, 7), DType::fp32);
  std::vector<std::unique_ptr<triscan::gpu::DeviceBytes>> A, X;
  for (int s = 0; s < buffer_sets; ++s) {
    A.push_back(std::make_unique<triscan::gpu::DeviceBytes>(in_bytes.size()));
    A.back()->upload(in_bytes.data(), in_bytes.size());
    X.push_back(std::make_unique<triscan::gpu::DeviceBytes>(in_bytes.size()));
    X.back()->fill32(0x7fc0deadu);
  }
  d::MatrixAddressing addr;
  addr.kind = d::Addressing::chunks;
  addr.length = layout.length;
  addr.heads = layout.heads;
  addr.chunks_per_seq = (layout.length + BT - 1) / BT;
  addr.count = layout.batch * addr.chunks_per_seq * layout.heads;
  addr.row_stride = layout.row_stride();
  Result r;
  r.name = "variant BT" + std::to_string(BT) + " acc=" + std::to_string(ACC) + " minblocks=" + std::to_string(MIN_BLOCKS);
  r.method = "trinv/forward_substitution";
  r.matrices = addr.count;
  r.bt = BT;
  r.t = triscan::bench::time_launches(2 * buffer_sets, runs, [&](int call) {
    const int s = call % buffer_sets;
    d::launch_kernel<BT, ACC, MIN_BLOCKS>(DType::fp32, DType::fp32, A[s]->data(), X[s]->data(), addr, nullptr,
                                          nullptr, nullptr);
  });
  r.bytes = static_cast<double>(layout.elements()) * 8.0;
  r.max_error = sample_error(layout, in_bytes, DType::fp32, *X[0], DType::fp32);
  return r;
}
#endif

// The same matrices as a contiguous [N, n, n] batch: triscan's strided path and
// cuBLAS batched TRSM (solving L X = I; X is reset to I inside the timed call).
std::vector<Result> bench_strided(const ChunkLayout& layout, int runs, const std::vector<std::string>& methods) {
  const auto chunk_input = deltanet_input(layout, 7);
  const auto chunks = triscan::enumerate_chunks(layout);
  const index_t n = layout.chunk, N = static_cast<index_t>(chunks.size());
  std::vector<float> a(static_cast<std::size_t>(N * n * n), 0.0f);
  for (index_t q = 0; q < N; ++q)
    for (index_t i = 0; i < n; ++i)
      for (index_t j = 0; j < i; ++j)
        a[static_cast<std::size_t>((q * n + i) * n + j)] =
            chunk_input[static_cast<std::size_t>(chunks[static_cast<std::size_t>(q)].offset + i * layout.row_stride() + j)];
  std::vector<std::unique_ptr<triscan::gpu::DeviceBytes>> A, X;
  for (int s = 0; s < buffer_sets; ++s) {
    A.push_back(std::make_unique<triscan::gpu::DeviceBytes>(a.size() * 4));
    A.back()->upload(a.data(), a.size() * 4);
    X.push_back(std::make_unique<triscan::gpu::DeviceBytes>(a.size() * 4));
    X.back()->fill32(0x7fc0deadu);
  }
  ChunkLayout as_batch{1, N * n, 1, n, {}};  // [N, n, n] is the chunk layout with H = 1
  std::vector<unsigned char> in_bytes(a.size() * 4);
  std::memcpy(in_bytes.data(), a.data(), in_bytes.size());
  std::vector<Result> out;
  Result r;
  r.name = "strided [N," + std::to_string(n) + "," + std::to_string(n) + "]";
  r.matrices = N;
  r.bt = n;
  r.bytes = static_cast<double>(a.size()) * 8.0;
  for (const std::string& method : methods) {
    const auto fs = triscan::MethodSpec::parse(method);
    r.method = fs.name;
    r.t = triscan::bench::time_launches(2 * buffer_sets, runs, [&](int call) {
      const int s = call % buffer_sets;
      triscan::gpu::invert_batch(fs, N, n, n * n, n, DType::fp32, A[s]->data(), DType::fp32, X[s]->data());
    });
    r.max_error = sample_error(as_batch, in_bytes, DType::fp32, *X[0], DType::fp32);
    out.push_back(r);
  }
  r.method = "cublas/trsm_batched";
  r.t = triscan::bench::time_launches(2 * buffer_sets, runs, [&](int call) {
    const int s = call % buffer_sets;
    triscan::gpu::cublas_trsm_batched_inverse(N, n, static_cast<const float*>(A[s]->data()),
                                              static_cast<float*>(X[s]->data()));
  });
  r.max_error = sample_error(as_batch, in_bytes, DType::fp32, *X[0], DType::fp32);
  out.push_back(r);
  return out;
}

// Sequence lengths drawn uniformly in [1, 2 * mean] (seeded) until `total` tokens.
std::vector<std::int64_t> random_cu_seqlens(index_t total, index_t mean, std::uint64_t seed) {
  triscan::validation::Rng rng(seed);
  std::vector<std::int64_t> cu{0};
  while (cu.back() < total) {
    const auto len = static_cast<std::int64_t>(1 + rng.uniform() * static_cast<double>(2 * mean));
    cu.push_back(std::min<std::int64_t>(cu.back() + len, total));
  }
  return cu;
}

void write_npy(const std::string& path, const std::vector<index_t>& shape, const std::vector<double>& data) {
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (";
  for (auto d : shape) header += std::to_string(d) + ", ";
  header += "), }";
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::ofstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot write " + path);
  f.write("\x93NUMPY\x01\x00", 8);
  const auto len = static_cast<std::uint16_t>(header.size());
  f.put(static_cast<char>(len & 0xff));
  f.put(static_cast<char>(len >> 8));
  f << header;
  for (double v : data) {
    const float x = static_cast<float>(v);
    f.write(reinterpret_cast<const char*>(&x), 4);
  }
}

void write_inputs(const std::string& dir) {
  for (const char* cls : {"deltanet", "deltanet-beta2", "deltanet-correlated", "deltanet-equal", "gated"}) {
    triscan::validation::GeneratorParams p;
    p.name = cls;
    p.n = 64;
    p.seed = 11;
    ChunkLayout layout{2, 4096, 16, 64, {}};
    auto problem = triscan::validation::make_chunk_problem(p, layout);
    write_npy(dir + "/" + cls + ".npy", {2, 4096, 16, 64}, problem.tensors.at("A").data);
    ChunkLayout varlen{1, 8192, 16, 64, random_cu_seqlens(8192, 300, 5)};
    problem = triscan::validation::make_chunk_problem(p, varlen);
    write_npy(dir + "/" + cls + "_varlen.npy", {1, 8192, 16, 64}, problem.tensors.at("A").data);
    std::ofstream(dir + "/" + cls + "_cu_seqlens.txt") << [&] {
      std::string s;
      for (auto v : varlen.cu_seqlens) s += std::to_string(v) + " ";
      return s;
    }();
    std::printf("wrote %s/%s.npy and %s_varlen.npy\n", dir.c_str(), cls, cls);
  }
}

// cusolverDnXtrtri on one n x n matrix per n (see --cusolver). Handle and workspace are
// made once per n; each timed call inverts a fresh copy of the input (the copy itself is
// outside the events). Input: unit lower, strictly lower entries U(-1, 1) / n (seeded).
void bench_cusolver(int runs) {
  auto check = [](cusolverStatus_t st, const char* what) {
    if (st != CUSOLVER_STATUS_SUCCESS)
      throw std::runtime_error(std::string(what) + " failed: cusolver status " + std::to_string(int(st)));
  };
  cusolverDnHandle_t handle = nullptr;
  check(cusolverDnCreate(&handle), "cusolverDnCreate");
  std::printf("\ncuSOLVER cusolverDnXtrtri: one n x n fp32 matrix (lower, unit, in place)\n%8s %6s %12s %12s %10s %12s\n",
              "n", "runs", "median_ms", "min_ms", "GFLOP/s", "max_resid");
  for (const index_t n : {1024, 2048, 4096, 8192}) {
    const auto nn = static_cast<std::size_t>(n) * static_cast<std::size_t>(n);
    std::vector<float> a(nn, 0.0f);  // column-major
    triscan::validation::Rng rng(static_cast<std::uint64_t>(n));
    for (index_t j = 0; j < n; ++j) {
      a[static_cast<std::size_t>(j * n + j)] = 1.0f;
      for (index_t i = j + 1; i < n; ++i)
        a[static_cast<std::size_t>(j * n + i)] = static_cast<float>((2.0 * rng.uniform() - 1.0) / double(n));
    }
    float *src = nullptr, *work = nullptr;
    int* info = nullptr;
    check_cuda(cudaMalloc(&src, nn * 4), "cudaMalloc");
    check_cuda(cudaMalloc(&work, nn * 4), "cudaMalloc");
    check_cuda(cudaMalloc(&info, sizeof(int)), "cudaMalloc");
    check_cuda(cudaMemcpy(src, a.data(), nn * 4, cudaMemcpyHostToDevice), "upload");
    std::size_t dev_bytes = 0, host_bytes = 0;
    check(cusolverDnXtrtri_bufferSize(handle, CUBLAS_FILL_MODE_LOWER, CUBLAS_DIAG_UNIT, n, CUDA_R_32F, work, n,
                                      &dev_bytes, &host_bytes),
          "cusolverDnXtrtri_bufferSize");
    void* dwork = nullptr;
    check_cuda(cudaMalloc(&dwork, std::max<std::size_t>(dev_bytes, 1)), "cudaMalloc");
    std::vector<unsigned char> hwork(std::max<std::size_t>(host_bytes, 1));
    auto invert = [&] {
      check(cusolverDnXtrtri(handle, CUBLAS_FILL_MODE_LOWER, CUBLAS_DIAG_UNIT, n, CUDA_R_32F, work, n, dwork,
                             dev_bytes, hwork.data(), host_bytes, info),
            "cusolverDnXtrtri");
    };
    const int r_count = n <= 2048 ? runs : std::max(5, runs / 10);
    std::vector<double> ms;
    cudaEvent_t e0, e1;
    check_cuda(cudaEventCreate(&e0), "cudaEventCreate");
    check_cuda(cudaEventCreate(&e1), "cudaEventCreate");
    for (int r = -2; r < r_count; ++r) {  // two warm-up calls
      check_cuda(cudaMemcpyAsync(work, src, nn * 4, cudaMemcpyDeviceToDevice), "copy");
      check_cuda(cudaEventRecord(e0), "cudaEventRecord");
      invert();
      check_cuda(cudaEventRecord(e1), "cudaEventRecord");
      check_cuda(cudaEventSynchronize(e1), "cudaEventSynchronize");
      float t = 0;
      check_cuda(cudaEventElapsedTime(&t, e0, e1), "cudaEventElapsedTime");
      if (r >= 0) ms.push_back(t);
    }
    int h_info = -1;
    check_cuda(cudaMemcpy(&h_info, info, sizeof(int), cudaMemcpyDeviceToHost), "info");
    if (h_info != 0) throw std::runtime_error("cusolverDnXtrtri info = " + std::to_string(h_info));
    std::vector<float> x(nn);
    check_cuda(cudaMemcpy(x.data(), work, nn * 4, cudaMemcpyDeviceToHost), "download");
    // Residual on four columns: r = L x_j - e_j (L x_j computed in fp64 from the lower parts).
    double resid = 0.0, lnorm = 0.0;
    for (index_t i = 0; i < n; ++i) {
      double row = 0.0;
      for (index_t k = 0; k <= i; ++k) row += std::fabs(double(a[static_cast<std::size_t>(k * n + i)]));
      lnorm = std::max(lnorm, row);
    }
    for (const index_t j : {index_t(0), n / 3, 2 * n / 3, n - 1}) {
      double rmax = 0.0, xmax = 0.0;
      for (index_t i = j; i < n; ++i) {
        double acc = i == j ? -1.0 : 0.0;
        for (index_t k = j; k <= i; ++k)
          acc += double(a[static_cast<std::size_t>(k * n + i)]) * double(x[static_cast<std::size_t>(j * n + k)]);
        rmax = std::max(rmax, std::fabs(acc));
        xmax = std::max(xmax, std::fabs(double(x[static_cast<std::size_t>(j * n + i)])));
      }
      resid = std::max(resid, rmax / (lnorm * xmax));
    }
    std::sort(ms.begin(), ms.end());
    const double med = ms[ms.size() / 2], gflops = double(n) * double(n) * double(n) / 3.0 / (med * 1e-3) * 1e-9;
    std::printf("%8ld %6d %12.3f %12.3f %10.1f %12.2e\n", long(n), r_count, med, ms.front(), gflops, resid);
    std::printf("{\"bench\": \"cusolver_trtri\", \"n\": %ld, \"runs\": %d, \"median_ms\": %.4f, \"min_ms\": %.4f, "
                "\"gflops\": %.2f, \"max_resid\": %.3e}\n",
                long(n), r_count, med, ms.front(), gflops, resid);
    cudaEventDestroy(e0);
    cudaEventDestroy(e1);
    cudaFree(dwork);
    cudaFree(info);
    cudaFree(work);
    cudaFree(src);
  }
  cusolverDnDestroy(handle);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    int runs = 50;
    [[maybe_unused]] bool variants = false;  // read only with TRISCAN_BENCH_TUNING
    bool first_only = false, mma_only = false, cusolver_only = false, merge_only = false;
    bool pf_only = false;
    for (int a = 1; a < argc; ++a) {
      const std::string arg = argv[a];
      if (arg == "--variants") {
#if TRISCAN_BENCH_TUNING
        variants = true;
#else
        std::fprintf(stderr, "gpu_bench_trinv: --variants needs a build configured with "
                             "-DTRISCAN_BENCH_TUNING=ON\n");
        return 2;
#endif
      } else if (arg == "--mma-only") {
        mma_only = true;
      } else if (arg == "--pf-only") {
        mma_only = pf_only = true;
      } else if (arg == "--cusolver") {
        cusolver_only = true;
      } else if (arg == "--first-case-only") {  // for a profiler run
        first_only = true;
      } else if (arg == "--merge-only") {
        merge_only = true;
      } else if (arg == "--runs" && a + 1 < argc) {
        runs = std::stoi(argv[++a]);
      } else if (arg == "--write-npy" && a + 1 < argc) {
        write_inputs(argv[++a]);
        return 0;
      } else {
        std::fprintf(stderr, "usage: gpu_bench_trinv [--runs N] [--variants] [--mma-only] [--pf-only] [--merge-only] [--cusolver] [--write-npy DIR]\nunknown argument '%s'\n", arg.c_str());
        return 2;
      }
    }
    const auto info = triscan::gpu::device_info();
    if (!info.usable) {
      std::fprintf(stderr, "no usable GPU: %s\n", info.reason.c_str());
      return 1;
    }
    if (cusolver_only) {
      std::printf("device: %s (sm_%d%d)\n", info.name.c_str(), info.major, info.minor);
      bench_cusolver(runs);
      return 0;
    }
    const double copy_gbs = copy_bandwidth_gbs(runs);
    std::printf("device: %s (sm_%d%d), copy bandwidth (read + write): %.0f GB/s\n", info.name.c_str(), info.major,
                info.minor, copy_gbs);
    std::printf("%-34s %-50s %7s %4s %10s %10s %10s %8s %7s %10s %4s\n", "case", "method", "N", "BT", "in->out",
                "median_us", "min_us", "GB/s", "copy%", "max_err", "flag");
    std::vector<Result> results;
    auto add = [&](const Result& r) {
      print_result(r, copy_gbs);
      results.push_back(r);
    };
    const ChunkLayout main_shape{4, 16384, 32, 64, {}};
    // The matrix-unit table: fp32 merges next to the tensor-core variants, same inputs.
    const auto mma_table = [&] {
      const std::vector<std::string> mma_methods = {
          "trinv/recursive_merge",                     "trinv/recursive_merge:check=1",
          "trinv/recursive_merge:mma=bf16",            "trinv/recursive_merge:mma=bf16,check=0",
          "trinv/recursive_merge:mma=bf16,refine=1",   "trinv/recursive_merge:mma=fp16",
          "trinv/recursive_merge:mma=fp16,check=0",    "trinv/recursive_merge:mma=fp16,refine=1",
          "trinv/recursive_merge:mma=tf32",            "trinv/recursive_merge:mma=tf32,check=0",
          "trinv/recursive_merge:mma=tf32,refine=1",   "trinv/product_form:mma=bf16",
          "trinv/product_form:mma=bf16,check=0",       "trinv/product_form:mma=bf16,refine=1",
          "trinv/product_form:mma=tf32",               "trinv/product_form:mma=tf32,check=0",
          "trinv/product_form:mma=tf32,refine=1"};
      // --pf-only: the product form next to the fp32 merges and the 16-bit merges.
      const std::vector<std::string> pf_methods = {
          "trinv/recursive_merge",                "trinv/recursive_merge:mma=bf16,check=0",
          "trinv/recursive_merge:mma=tf32,check=0", "trinv/product_form:mma=bf16",
          "trinv/product_form:mma=bf16,check=0",  "trinv/product_form:mma=bf16,refine=1",
          "trinv/product_form:mma=tf32",          "trinv/product_form:mma=tf32,check=0"};
      const std::vector<std::string>& table = pf_only ? pf_methods : mma_methods;
      for (index_t bt : {64, 32, 128}) {
        const std::string name = "B4 T16384 H32 BT" + std::to_string(bt);
        for (const std::string& m : table)
          add(bench_chunks(m, name, ChunkLayout{4, 16384, 32, bt, {}}, DType::fp32, DType::fp32, runs));
      }
      for (const std::string& m : table)
        add(bench_chunks(m, "B4 T16384 H32 BT64", main_shape, DType::fp32, DType::bf16, runs));
    };
    if (mma_only) {
      mma_table();
      for (const Result& r : results) print_json(r, copy_gbs);
      return 0;
    }
#if TRISCAN_BENCH_TUNING
    if (variants) {
      const ChunkLayout s32{4, 16384, 32, 32, {}}, s128{4, 16384, 32, 128, {}};
      add(bench_variant<64, 2, 1>(main_shape, runs));
      add(bench_variant<64, 4, 1>(main_shape, runs));
      add(bench_variant<64, 8, 1>(main_shape, runs));
      add(bench_variant<64, 4, 5>(main_shape, runs));
      add(bench_variant<64, 8, 4>(main_shape, runs));
      add(bench_variant<32, 2, 1>(s32, runs));
      add(bench_variant<32, 8, 1>(s32, runs));
      add(bench_variant<128, 4, 1>(s128, runs));
      add(bench_variant<128, 8, 1>(s128, runs));
      add(bench_variant<128, 8, 2>(s128, runs));
    }
#endif
    std::vector<std::string> methods = {"trinv/recursive_merge", "trinv/forward_substitution"};
    if (merge_only) methods.pop_back();
    add(bench_chunks(methods[0], "B4 T16384 H32 BT64", main_shape, DType::fp32, DType::fp32, runs));
    if (first_only) return 0;
    for (const std::string& m : methods) {
      if (m != methods[0]) add(bench_chunks(m, "B4 T16384 H32 BT64", main_shape, DType::fp32, DType::fp32, runs));
      add(bench_chunks(m, "B4 T16384 H32 BT64", main_shape, DType::fp32, DType::bf16, runs));
      add(bench_chunks(m, "B4 T16384 H32 BT64", main_shape, DType::bf16, DType::bf16, runs));
      for (index_t bt : {16, 32, 128})
        add(bench_chunks(m, "B4 T16384 H32 BT" + std::to_string(bt), ChunkLayout{4, 16384, 32, bt, {}}, DType::fp32,
                         DType::fp32, runs));
      add(bench_chunks(m, "B4 T16384 H32 BT16", ChunkLayout{4, 16384, 32, 16, {}}, DType::fp32, DType::bf16, runs));
      add(bench_chunks(m, "B4 T16384 H32 BT32", ChunkLayout{4, 16384, 32, 32, {}}, DType::fp32, DType::bf16, runs));
      ChunkLayout varlen{1, 65536, 32, 64, random_cu_seqlens(65536, 1000, 3)};
      add(bench_chunks(m, "varlen T65536 H32 BT64 (" + std::to_string(varlen.cu_seqlens.size() - 1) + " seqs)", varlen,
                       DType::fp32, DType::fp32, runs));
    }
    if (merge_only) {
      for (const Result& r : results) print_json(r, copy_gbs);
      return 0;
    }
    for (const Result& r : bench_strided(main_shape, runs, methods)) add(r);
    for (const Result& r : bench_strided(ChunkLayout{4, 16384, 32, 128, {}}, std::max(10, runs / 4), methods)) add(r);
    mma_table();
    for (const Result& r : results) print_json(r, copy_gbs);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gpu_bench_trinv: %s\n", e.what());
    return 1;
  }
}
