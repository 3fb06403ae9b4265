// gpu/scan.cu — host side of the GPU scans of the scalar and diagonal kinds
// (include/triscan/gpu.hpp): method and argument checks, the tile table and look-back
// workspace of a ScanPlan, and the launch of gpu/scan.cuh's kernel. Design, bound and
// statuses: docs/scan.md "GPU".
#include <cuda_runtime.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "gpu/cuda_check.hpp"
#include "gpu/scan.cuh"
#include "triscan/gpu.hpp"

namespace triscan::gpu {

struct ScanPlan::Device {
  std::unique_ptr<DeviceBuffer<detail::ScanTile>> tiles;
  std::unique_ptr<DeviceBuffer<int>> empty_sequences;  // sequences without tokens
  std::unique_ptr<DeviceBuffer<unsigned char>> workspace;
  int empty_count = 0;
  int groups = 1;
  // Workspace: the ticket (its 256 bytes cleared before each launch), then the look-back
  // descriptors (16 bytes per channel per tile), zeroed once here and then told apart by
  // the epoch of the call that wrote them (gpu/scan.cuh).
  static constexpr std::size_t ticket_bytes = 256;
  std::size_t descriptors_bytes = 0;
  mutable unsigned epoch = 0;  // the last call's; a plan serves one call at a time
};

namespace detail {
// Sequences without tokens: final_state := h0 (or 0); a non-finite h0 is flagged.
__global__ void scan_empty_sequences_kernel(const int* sequences, int count, long long dim,
                                            const float* h0, float* final_state, int* statuses,
                                            int* flag) {
  const long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= count * dim) return;
  const int s = sequences[i / dim];
  const long long d = i % dim;
  const float v = h0 ? h0[s * dim + d] : 0.0f;
  if (final_state) final_state[s * dim + d] = v;
  if (!isfinite(v)) {
    if (statuses) atomicMax(statuses + s, scan_status_nonfinite);
    if (flag) atomicMax(flag, scan_status_nonfinite);
  }
}

// Clears the call's flag, per-sequence statuses and the look-back ticket and flags in
// one launch (instead of one memset each).
__global__ void scan_clear_kernel(int* flag, int* statuses, long long sequences, int* workspace,
                                  long long words) {
  const long long stride = static_cast<long long>(gridDim.x) * blockDim.x;
  for (long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
       i < words + sequences + 1; i += stride) {
    if (i < words)
      workspace[i] = 0;
    else if (i < words + sequences) {
      if (statuses) statuses[i - words] = 0;
    } else if (flag) {
      *flag = 0;
    }
  }
}

}  // namespace detail

namespace {

constexpr std::size_t align_up(std::size_t x) {
  return (x + 255) / 256 * 256;
}

index_t parse_chunk(const MethodSpec& method) {
  if (method.name != "scan/chunked")
    throw std::invalid_argument("gpu::ScanPlan: method '" + method.name +
                                "' has no GPU kernel; GPU scan methods: scan/chunked");
  method.check_keys({"chunk"});
  const index_t c = method.get_int("chunk", 256, 1, 1L << 30);
  if (c != 64 && c != 128 && c != 256 && c != 512)
    throw std::invalid_argument(
        "gpu::ScanPlan: scan/chunked on the GPU has chunk in {64, 128, 256, 512} (got chunk=" +
        std::to_string(c) + ")");
  return c;
}

template <class T>
std::unique_ptr<DeviceBuffer<T>> upload(const std::vector<T>& v, const char* what) {
  auto buf = std::make_unique<DeviceBuffer<T>>(v.size());
  if (!v.empty())
    check_cuda(cudaMemcpy(buf->get(), v.data(), v.size() * sizeof(T), cudaMemcpyHostToDevice),
               what);
  return buf;
}

void check_aligned(const void* p, std::size_t bytes, const char* what) {
  if (reinterpret_cast<std::uintptr_t>(p) % bytes != 0)
    throw std::invalid_argument(std::string("gpu::scan_diagonal: '") + what + "' is not " +
                                std::to_string(bytes) + "-byte aligned");
}

void check_dtype(DType t, const char* what) {
  if (t != DType::fp32 && t != DType::bf16 && t != DType::fp16)
    throw std::invalid_argument(std::string("gpu::scan_diagonal: unknown ") + what + " dtype " +
                                std::to_string(static_cast<int>(t)));
}

std::size_t dtype_size(DType t) {
  return t == DType::fp32 ? 4 : 2;
}

}  // namespace

std::vector<std::string> scan_gpu_methods() {
  return {
      "scan/chunked: single pass, tiles of chunk tokens (64, 128, 256 or 512; default 256) x 32 "
      "channels per "
      "thread block, carries by decoupled look-back in a fixed order; scalar and diagonal kinds, "
      "fp32 state, "
      "any in/out dtype"};
}

ScanPlan::ScanPlan(const MethodSpec& method, const ScanLayout& layout) : layout_(layout) {
  layout_.validate();
  chunk_ = parse_chunk(method);
  device_ = std::make_unique<Device>();
  Device& dev = *device_;
  const index_t D = layout_.dim;
  if ((D + 31) / 32 > INT_MAX) throw std::invalid_argument("gpu::ScanPlan: 'dim' too large");
  dev.groups = static_cast<int>((D + 31) / 32);

  std::vector<detail::ScanTile> tiles;
  std::vector<int> empty;
  const index_t S = layout_.sequences();
  if (S > INT_MAX) throw std::invalid_argument("gpu::ScanPlan: too many sequences");
  for (index_t s = 0; s < S; ++s) {
    const index_t begin = layout_.cu_seqlens.empty()
                              ? s * layout_.length
                              : layout_.cu_seqlens[static_cast<std::size_t>(s)];
    const index_t len = layout_.cu_seqlens.empty()
                            ? layout_.length
                            : layout_.cu_seqlens[static_cast<std::size_t>(s) + 1] - begin;
    if (len == 0) empty.push_back(static_cast<int>(s));
    const index_t first_row = static_cast<index_t>(tiles.size());
    if (first_row + (len + chunk_ - 1) / chunk_ > INT_MAX)
      throw std::invalid_argument("gpu::ScanPlan: too many tiles");
    for (index_t off = 0; off < len; off += chunk_) {
      const index_t size = std::min(chunk_, len - off);
      const int meta =
          static_cast<int>(size) | (off == 0 ? 1 << 16 : 0) | (off + size == len ? 1 << 17 : 0);
      tiles.push_back({begin + off, static_cast<int>(s), meta, static_cast<int>(first_row), 0});
    }
  }
  tile_rows_ = static_cast<index_t>(tiles.size());
  if (tile_rows_ * dev.groups > INT_MAX)
    throw std::invalid_argument("gpu::ScanPlan: " + std::to_string(tile_rows_) + " tiles x " +
                                std::to_string(dev.groups) +
                                " channel groups exceed one launch (2^31 - 1 blocks)");
  dev.tiles = upload(tiles, "cudaMemcpy(scan tiles)");
  dev.empty_sequences = upload(empty, "cudaMemcpy(empty sequences)");
  dev.empty_count = static_cast<int>(empty.size());

  const std::size_t slots =
      static_cast<std::size_t>(tile_rows_) * static_cast<std::size_t>(dev.groups);
  dev.descriptors_bytes = align_up(slots * 32 * sizeof(ulonglong2));
  dev.workspace = std::make_unique<DeviceBuffer<unsigned char>>(Device::ticket_bytes +
                                                                dev.descriptors_bytes);
  check_cuda(cudaMemset(dev.workspace->get(), 0, Device::ticket_bytes + dev.descriptors_bytes),
             "cudaMemset(scan look-back workspace)");
}

ScanPlan::~ScanPlan() = default;

void scan_diagonal(const ScanPlan& plan, ScanKind kind, DType in_type, const void* a, const void* b,
                   const float* h0, DType out_type, void* h, float* final_state,
                   std::int32_t* statuses, std::int32_t* flag, void* stream) {
  if (kind != ScanKind::scalar && kind != ScanKind::diagonal)
    throw std::invalid_argument("gpu::scan_diagonal: kind '" + std::string(scan_kind_name(kind)) +
                                "' has no GPU kernel (GPU kinds: scalar, diagonal)");
  check_dtype(in_type, "input");
  check_dtype(out_type, "output");
  const ScanLayout& layout = plan.layout();
  const ScanPlan::Device& dev = *plan.device();
  if (layout.tokens() > 0) {
    if (!a) throw std::invalid_argument("gpu::scan_diagonal: input 'a' is null");
    if (!b) throw std::invalid_argument("gpu::scan_diagonal: input 'b' is null");
    if (!h) throw std::invalid_argument("gpu::scan_diagonal: output 'h' is null");
    check_aligned(a, dtype_size(in_type), "a");
    check_aligned(b, dtype_size(in_type), "b");
    check_aligned(h, dtype_size(out_type), "h");
  }
  if (h0) check_aligned(h0, 4, "h0");
  if (final_state) check_aligned(final_state, 4, "final_state");
  if (statuses) check_aligned(statuses, 4, "statuses");
  if (flag) check_aligned(flag, 4, "flag");

  auto s = static_cast<cudaStream_t>(stream);
  const long long blocks = static_cast<long long>(plan.tile_rows()) * dev.groups;
  unsigned char* ws = dev.workspace->get();
  {
    const long long words =
        blocks > 0 ? static_cast<long long>(ScanPlan::Device::ticket_bytes / sizeof(int)) : 0;
    const long long seqs = statuses ? layout.sequences() : 0;
    const long long total = words + seqs + 1;
    if (words + seqs > 0 || flag) {
      const auto grid = static_cast<unsigned>(std::min<long long>((total + 255) / 256, 1024));
      detail::scan_clear_kernel<<<grid, 256, 0, s>>>(flag, statuses, seqs,
                                                     reinterpret_cast<int*>(ws), words);
      check_cuda(cudaGetLastError(), "scan_clear_kernel launch");
    }
  }
  if (dev.empty_count > 0 && (final_state || h0)) {
    const long long n = static_cast<long long>(dev.empty_count) * layout.dim;
    detail::scan_empty_sequences_kernel<<<static_cast<unsigned>((n + 255) / 256), 256, 0, s>>>(
        dev.empty_sequences->get(), dev.empty_count, layout.dim, h0, final_state, statuses, flag);
    check_cuda(cudaGetLastError(), "scan_empty_sequences_kernel launch");
  }
  if (blocks == 0) return;

  // A new epoch per call; after 2^30 - 1 calls the descriptors are cleared and the
  // epochs start again (a stale descriptor must never carry the current epoch).
  if (dev.epoch >= detail::scan_max_epoch) {
    check_cuda(cudaMemsetAsync(ws + ScanPlan::Device::ticket_bytes, 0, dev.descriptors_bytes, s),
               "cudaMemsetAsync(scan look-back descriptors)");
    dev.epoch = 0;
  }
  ++dev.epoch;

  detail::ScanParams p;
  p.a = a;
  p.b = b;
  p.h0 = h0;
  p.h = h;
  p.final_state = final_state;
  p.statuses = statuses;
  p.flag = flag;
  p.tiles = dev.tiles->get();
  p.dim = layout.dim;
  p.groups = dev.groups;
  p.ticket = reinterpret_cast<int*>(ws);
  p.descriptors = reinterpret_cast<ulonglong2*>(ws + ScanPlan::Device::ticket_bytes);
  p.epoch = dev.epoch;
  const int chunk = static_cast<int>(plan.chunk());
  if (kind == ScanKind::scalar)
    detail::launch_scan<true>(chunk, in_type, out_type, p, blocks, s);
  else
    detail::launch_scan<false>(chunk, in_type, out_type, p, blocks, s);
  check_cuda(cudaGetLastError(), "scan_kernel launch");
}

namespace detail {
void set_scan_epoch_for_testing(const ScanPlan& plan, unsigned epoch) {
  if (epoch > scan_max_epoch)
    throw std::invalid_argument("set_scan_epoch_for_testing: epoch past scan_max_epoch");
  plan.device()->epoch = epoch;
}
}  // namespace detail

}  // namespace triscan::gpu
