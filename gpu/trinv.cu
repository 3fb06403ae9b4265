// gpu/trinv.cu — host side of the batched unit-lower triangular inversion
// (include/triscan/gpu.hpp): argument checks, the chunk table of a ChunkPlan, and the
// dispatch to the kernel of gpu/trinv_kernel.cuh (instantiated per BT in
// gpu/trinv_bt*.cu). Design, bounds and cost: docs/gpu.md.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "gpu/cuda_check.hpp"
#include "gpu/trinv.cuh"
#include "gpu/trinv_method.hpp"
#include "triscan/gpu.hpp"

namespace triscan::gpu {
namespace detail {
namespace {

std::size_t dtype_size(DType t) { return t == DType::fp32 ? 4 : 2; }

enum class Kernel { forward_substitution, recursive_merge };  // product_form: recursive_merge's kernel

struct Choice {
  Kernel kernel;
  MergeConfig merge;  // recursive_merge: operands, refine, check (tau set per BT by run())
  double tau = 0.0;   // the key tau (> 0): replaces the default threshold
};

// The GPU kernel for `method`: trinv/forward_substitution (no parameters) or
// trinv/recursive_merge (base = 16, the only base block size the kernel has; the
// GPU-only keys mma, refine and check: docs/gpu.md "Matrix-unit merges").
// The keys refine, check (default check_default) and tau of trinv/recursive_merge and
// trinv/product_form, into c; the merge kernel runs both.
Choice with_check_keys(const MethodSpec& method, MergeConfig c, bool check_default) {
  c.refine = method.get_int("refine", 0, 0, 1) == 1;
  c.check = method.get_int("check", check_default ? 1 : 0, 0, 1) == 1;
  const double tau = method.get_double("tau", 0.0, 0.0, 1e300);
  if (method.has("tau") && !(tau > 0.0))
    throw std::invalid_argument("gpu::invert: " + method.name + " tau must be > 0 (got tau=" +
                                method.params.at("tau") + ")");
  if (method.has("tau") && !c.check)
    throw std::invalid_argument("gpu::invert: " + method.name + " tau is the check's threshold; it needs check=1");
  return {Kernel::recursive_merge, c, tau};
}

Choice check_method(const MethodSpec& method) {
  if (method.name == "trinv/forward_substitution") {
    method.check_keys({});
    return {Kernel::forward_substitution, {}};
  }
  if (method.name == "trinv/recursive_merge") {
    method.check_keys({"base", "mma", "refine", "check", "tau"});
    if (method.get_int("base", 16, 1, 1 << 20) != 16)
      throw std::invalid_argument("gpu::invert: trinv/recursive_merge on the GPU has base = 16 only (got base=" +
                                  method.params.at("base") + ")");
    MergeConfig c;
    const std::string op = method.get_string("mma", "off", {"off", "bf16", "fp16", "tf32"});
    c.op = op == "bf16" ? MergeOp::bf16 : op == "fp16" ? MergeOp::fp16 : op == "tf32" ? MergeOp::tf32 : MergeOp::fp32;
    return with_check_keys(method, c, c.op != MergeOp::fp32);
  }
  if (method.name == "trinv/product_form") {
    // Tensor cores only (docs/gpu.md "Product form"): mma names the operand format; no
    // fp16, whose range (6.1e-5 to 65504) does not hold the powers N^(2^k) (the CPU study
    // of docs/trinv-iterative.md: overflow at n = 64 on deltanet-equal).
    method.check_keys({"mma", "refine", "check", "tau"});
    if (!method.has("mma"))
      throw std::invalid_argument("gpu::invert: trinv/product_form on the GPU runs on tensor cores: give mma=bf16|tf32");
    MergeConfig c;
    c.product_form = true;
    const std::string op = method.get_string("mma", "bf16", {"bf16", "tf32"});
    c.op = op == "bf16" ? MergeOp::bf16 : MergeOp::tf32;
    return with_check_keys(method, c, true);
  }
  throw std::invalid_argument("gpu::invert: method '" + method.name +
                              "' has no GPU kernel; GPU methods: trinv/forward_substitution, trinv/recursive_merge, "
                              "trinv/product_form");
}

// The merges' first-order forward-error coefficient e, |X^ - X| <= e M(L)^-1 |L| M(L)^-1
// (docs/gpu.md, "Bound" and "Matrix-unit merges"): the base blocks give gamma_16(u),
// each level h two products of e_h each, e_h = gamma_h(u) in fp32 and, on tensor cores,
// (2 u_op + u_op^2) (operand rounding of both factors; exact products) plus
// gamma_{h+1}(2u) (1 + u_op)^2 (fp32 accumulation of h products and the identity term,
// with the tensor cores' truncating additions counted as 2u each). u = 2^-24.
double merge_error_coefficient(int bt, MergeOp op) {
  const double u = std::ldexp(1.0, -24);
  const double uop = op == MergeOp::bf16 ? std::ldexp(1.0, -8) : op == MergeOp::fp32 ? 0.0 : std::ldexp(1.0, -11);
  const auto gamma = [](double n, double uu) { return n * uu / (1.0 - n * uu); };
  double e = gamma(16, u);
  for (int h = 16; h < bt; h *= 2)
    e += 2.0 * (op == MergeOp::fp32 ? gamma(h, u)
                                    : (2.0 * uop + uop * uop) + gamma(h + 1, 2.0 * u) * (1.0 + uop) * (1.0 + uop));
  return e;
}

// The `inaccurate` threshold tau on rho (the CPU's residual measure, src/trinv/driver.cpp):
// the CPU takes 4 (n+1) u, 4 times Method 1's own constant; the GPU merges have no
// residual bound, so the constant of the method actually run replaces (n+1) u: rho is
// about e for an accurate result (|L X^ - I| = |L (X^ - X)| <= e |L| B). After one fp32
// refinement step the residual is R - R^ + R R^ + rounding: 4 (2 gamma_{BT+1}(u) + e^2).
// The product form (no residual bound either; its a-priori bound, docs/gpu.md "Product
// form", grows with M(L)^-1 and would certify garbage) is held to the same threshold as
// the merges with the same operands: the residual a merge inversion in that format reaches.
double merge_check_threshold(int bt, MergeOp op, bool refine) {
  const double u = std::ldexp(1.0, -24);
  const double e = merge_error_coefficient(bt, op);
  const double g = (bt + 1) * u / (1.0 - (bt + 1) * u);
  return refine ? 4.0 * (2.0 * g + e * e) : 4.0 * e;
}

void check_dtype(DType t, const char* what) {
  if (t != DType::fp32 && t != DType::bf16 && t != DType::fp16)
    throw std::invalid_argument(std::string("gpu::invert: unknown ") + what + " dtype " +
                                std::to_string(static_cast<int>(t)));
}

void check_aligned(const void* p, const char* what) {
  if (reinterpret_cast<std::uintptr_t>(p) % 16 != 0)
    throw std::invalid_argument(std::string("gpu::invert: ") + what + " is not 16-byte aligned");
}

// Runs `kernel` for bt in {16, 32, 64, 128}; flag (if any) is cleared first so it
// holds the worst status of this call.
void run(const Choice& choice, int bt, DType in, DType out, const void* A, void* X, const MatrixAddressing& addr,
         int* statuses, int* flag, void* stream) {
  auto s = static_cast<cudaStream_t>(stream);
  if (choice.merge.product_form && bt < 32)
    throw std::invalid_argument("gpu::invert: trinv/product_form needs BT >= 32 (n > 16 in a strided batch): its "
                                "tensor-core tiles take a warp per matrix; BT = " + std::to_string(bt));
  if (flag) check_cuda(cudaMemsetAsync(flag, 0, sizeof(int), s), "cudaMemsetAsync(flag)");
  if (addr.count == 0) return;
  const bool merge = choice.kernel == Kernel::recursive_merge;
  MergeConfig cfg = choice.merge;
  cfg.tau = choice.tau > 0.0 ? choice.tau : merge_check_threshold(bt, cfg.op, cfg.refine);
  switch (bt) {
    case 16: return merge ? launch_invert_merge<16>(in, out, A, X, addr, cfg, statuses, flag, s)
                          : launch_invert<16>(in, out, A, X, addr, statuses, flag, s);
    case 32: return merge ? launch_invert_merge<32>(in, out, A, X, addr, cfg, statuses, flag, s)
                          : launch_invert<32>(in, out, A, X, addr, statuses, flag, s);
    case 64: return merge ? launch_invert_merge<64>(in, out, A, X, addr, cfg, statuses, flag, s)
                          : launch_invert<64>(in, out, A, X, addr, statuses, flag, s);
    case 128: return merge ? launch_invert_merge<128>(in, out, A, X, addr, cfg, statuses, flag, s)
                           : launch_invert<128>(in, out, A, X, addr, statuses, flag, s);
  }
  throw std::invalid_argument("gpu::invert: size " + std::to_string(bt) + " not in {16, 32, 64, 128}");
}

}  // namespace

void check_trinv_method(const MethodSpec& method) { (void)check_method(method); }

MatrixAddressing chunk_addressing(const ChunkPlan& plan) {
  const ChunkLayout& layout = plan.layout();
  MatrixAddressing addr;
  addr.count = plan.chunk_rows() * layout.heads;
  addr.kind = layout.cu_seqlens.empty() ? Addressing::chunks : Addressing::chunks_varlen;
  addr.length = layout.length;
  addr.heads = layout.heads;
  addr.chunks_per_seq = (layout.length + layout.chunk - 1) / layout.chunk;
  addr.table = plan.device_table();
  addr.row_stride = layout.row_stride();
  return addr;
}

}  // namespace detail

std::vector<std::string> trinv_gpu_methods() {
  return {"trinv/forward_substitution: fp32 forward substitution, one thread per column (any in/out dtype)",
          "trinv/recursive_merge: 16 x 16 diagonal blocks by substitution (fp64; fp32 for 16-bit outputs), then multiply-only merges "
          "X21 = -X22 N21 X11 (base=16 only; any in/out dtype). GPU-only keys (the CPU method has base only): "
          "mma=off|bf16|fp16|tf32 (default off: fp32 FMAs; else tensor cores, mma.sync with operands rounded "
          "to that format, fp32 accumulation), refine=0|1 (one fp32 step X <- X + X (I - L X)), check=0|1 "
          "(the a-posteriori check, Status::inaccurate; default 1 with mma, 0 without), tau=<x > 0> (the check's "
          "threshold instead of the default 4 e, e the method's error coefficient; docs/gpu.md)",
          "trinv/product_form: (I - N)(I + N^2)(I + N^4)... on tensor cores, BT >= 32 (strided: n > 16). Keys: "
          "mma=bf16|tf32 (required: the operand format, fp32 accumulation; no fp16, whose range does not hold "
          "the powers N^(2^k)), refine=0|1, check=0|1 (default 1), tau=<x > 0> (as for trinv/recursive_merge); its "
          "own tests (growth of the intermediates, normwise residual >= 1: Status::inaccurate) always run"};
}

ChunkPlan::ChunkPlan(const ChunkLayout& layout) : layout_(layout) {
  const char* what = "gpu::ChunkPlan";
  layout_.validate();
  const index_t bt = layout_.chunk;
  if (bt != 16 && bt != 32 && bt != 64 && bt != 128)
    throw std::invalid_argument(std::string(what) + ": chunk size BT = " + std::to_string(bt) +
                                " not in {16, 32, 64, 128}");
  chunk_rows_ = chunk_count(layout_);
  if (layout_.cu_seqlens.empty()) return;
  // One entry per chunk row, in enumerate_chunks() order: (first token row << 8) | m.
  std::vector<std::int64_t> table;
  table.reserve(static_cast<std::size_t>(chunk_rows_));
  for (std::size_t s = 1; s < layout_.cu_seqlens.size(); ++s)
    for (std::int64_t start = layout_.cu_seqlens[s - 1]; start < layout_.cu_seqlens[s]; start += bt)
      table.push_back(start << 8 | std::min<std::int64_t>(bt, layout_.cu_seqlens[s] - start));
  if (table.empty()) return;
  check_cuda(cudaMalloc(&table_, table.size() * sizeof(std::int64_t)), "cudaMalloc(chunk table)");
  const cudaError_t err =
      cudaMemcpy(table_, table.data(), table.size() * sizeof(std::int64_t), cudaMemcpyHostToDevice);
  if (err != cudaSuccess) {
    cudaFree(table_);
    table_ = nullptr;
    check_cuda(err, "cudaMemcpy(chunk table)");
  }
}

ChunkPlan::~ChunkPlan() {
  if (table_) cudaFree(table_);
}

void invert_chunks(const MethodSpec& method, const ChunkPlan& plan, DType in_type, const void* A,
                   DType out_type, void* X, std::int32_t* statuses, std::int32_t* flag, void* stream) {
  const detail::Choice kernel = detail::check_method(method);
  detail::check_dtype(in_type, "input");
  detail::check_dtype(out_type, "output");
  const ChunkLayout& layout = plan.layout();
  const detail::MatrixAddressing addr = detail::chunk_addressing(plan);
  if (addr.count > 0) {
    if (!A || !X) throw std::invalid_argument("gpu::invert_chunks: null A or X");
    detail::check_aligned(A, "A");
  }
  detail::run(kernel, static_cast<int>(layout.chunk), in_type, out_type, A, X, addr, statuses, flag, stream);
}

void invert_batch(const MethodSpec& method, index_t count, index_t n, index_t batch_stride, index_t row_stride,
                  DType in_type, const void* A, DType out_type, void* X, std::int32_t* statuses,
                  std::int32_t* flag, void* stream) {
  const char* what = "gpu::invert_batch";
  const detail::Choice kernel = detail::check_method(method);
  detail::check_dtype(in_type, "input");
  detail::check_dtype(out_type, "output");
  if (count < 0) throw std::invalid_argument(std::string(what) + ": negative count " + std::to_string(count));
  if (n < 1 || n > 128)
    throw std::invalid_argument(std::string(what) + ": size n = " + std::to_string(n) + " not in [1, 128]");
  if (row_stride < n)
    throw std::invalid_argument(std::string(what) + ": row_stride " + std::to_string(row_stride) + " < n");
  if (count > 1 && batch_stride < (n - 1) * row_stride + n)
    throw std::invalid_argument(std::string(what) + ": batch_stride " + std::to_string(batch_stride) +
                                " smaller than one matrix's span");
  const std::size_t in_size = detail::dtype_size(in_type);
  if ((row_stride * static_cast<index_t>(in_size)) % 16 != 0 || (batch_stride * static_cast<index_t>(in_size)) % 16 != 0)
    throw std::invalid_argument(std::string(what) + ": row_stride and batch_stride must be multiples of 16 bytes of the input type");
  if (count > 0) {
    if (!A || !X) throw std::invalid_argument(std::string(what) + ": null A or X");
    detail::check_aligned(A, "A");
  }
  detail::MatrixAddressing addr;
  addr.kind = detail::Addressing::strided;
  addr.count = count;
  addr.batch_stride = batch_stride;
  addr.row_stride = row_stride;
  addr.n = static_cast<int>(n);
  const int bt = n <= 16 ? 16 : n <= 32 ? 32 : n <= 64 ? 64 : 128;
  detail::run(kernel, bt, in_type, out_type, A, X, addr, statuses, flag, stream);
}

}  // namespace triscan::gpu
