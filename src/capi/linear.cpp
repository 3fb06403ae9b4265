// src/capi/linear.cpp — the C API's CPU linear-attention and scan entry points
// (include/triscan/triscan.h): triscan_chunk_wy -> triscan::chunk_wy (wy.hpp),
// triscan_delta_forward -> triscan::delta_forward (delta.hpp), triscan_scan and
// triscan_scan_delta -> triscan::scan (scan.hpp). As in src/capi/invert.cpp, the C layer
// checks what it names itself (dtype, family, kind, gate, flags, method, the layout) and
// leaves pointers, shapes and overlaps to the C++ checks, whose messages name the
// argument; everything is checked before any work.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "src/capi/capi.hpp"
#include "triscan/delta.hpp"
#include "triscan/matrix.hpp"
#include "triscan/scan.hpp"
#include "triscan/trinv.hpp"
#include "triscan/wy.hpp"

namespace triscan::capi {
namespace {

constexpr const char* default_scan = "scan/chunked";

void require(bool ok, int code, const std::string& what) {
  if (!ok) fail(code, what);
}

WyFamily family_of(int family) {
  require(family >= TRISCAN_WY_DELTANET && family <= TRISCAN_WY_DPLR,
          TRISCAN_ERROR_INVALID_ARGUMENT,
          "family must be a triscan_wy_family (0 deltanet, 1 gated, 2 kda, 3 dplr), got " +
              std::to_string(family));
  return static_cast<WyFamily>(family);
}

void check_flags(unsigned flags, unsigned allowed) {
  require((flags & ~allowed) == 0u, TRISCAN_ERROR_INVALID_ARGUMENT,
          "flags has bits " + std::to_string(flags & ~allowed) +
              " that do not apply here (allowed: " + std::to_string(allowed) + ")");
}

// The trinv method of a chunk function, checked as triscan_invert_* check theirs.
MethodSpec trinv_spec(const char* method, const Precision& p, bool check_accuracy) {
  TrinvOptions to;
  to.precision = p;
  to.check_accuracy = check_accuracy;
  to.threads = 1;
  return checked_trinv_method(method, to);
}

void write_statuses(const std::vector<Status>& s, int32_t* out) {
  if (out)
    std::transform(s.begin(), s.end(), out, [](Status x) { return static_cast<int32_t>(x); });
}

template <class V>
Status run_chunk_wy(WyFamily f, const ChunkLayout& layout, const WyInputs<V>& in, V* W, V* U, V* A,
                    V* Ainv, const WyOptions& opt, TrinvOptions trinv_opt,
                    std::vector<Status>& st) {
  const bool want_inverse = Ainv != nullptr;
  std::vector<V> scratch;
  if (want_inverse && A == nullptr && layout.elements() > 0) {
    scratch.assign(static_cast<std::size_t>(layout.elements()), V(0));
    A = scratch.data();
  }
  Status w = chunk_wy(f, layout, in, WyOutputs<V>{W, U, A, nullptr}, opt, st.data());
  if (want_inverse) {
    std::vector<Status> si(st.size());
    const Status wi =
        invert_chunks(opt.method, layout, static_cast<const V*>(A), Ainv, trinv_opt, si.data());
    for (std::size_t i = 0; i < st.size(); ++i) st[i] = std::max(st[i], si[i]);
    w = std::max(w, wi);
  }
  return w;
}

// Checks the algorithm (name, parameters) on a one-token scan, so that every problem of
// it is TRISCAN_ERROR_INVALID_METHOD.
MethodSpec checked_scan(const char* algorithm, const ScanOptions& opt) {
  const char* text = algorithm ? algorithm : default_scan;
  try {
    MethodSpec spec = MethodSpec::parse(text);
    (void)scan_algorithm(spec.name);
    double one = 1.0, out = 0.0;
    ScanInput<double> probe;
    probe.kind = ScanKind::diagonal;
    probe.length = 1;
    probe.a = &one;
    probe.b = &one;
    (void)scan(spec, probe, &out, opt);
    return spec;
  } catch (const std::invalid_argument& e) {
    fail(TRISCAN_ERROR_INVALID_METHOD, std::string("algorithm \"") + text + "\": " + e.what());
  }
}

template <class V>
void fill_scan_input(ScanInput<V>& in, int64_t B, int64_t T, const int64_t* cu_seqlens,
                     int64_t cu_seqlens_len) {
  require(cu_seqlens_len >= 0, TRISCAN_ERROR_INVALID_ARGUMENT,
          "cu_seqlens_len must be >= 0, got " + std::to_string(cu_seqlens_len));
  require(cu_seqlens != nullptr || cu_seqlens_len == 0, TRISCAN_ERROR_INVALID_ARGUMENT,
          "cu_seqlens is NULL but cu_seqlens_len is " + std::to_string(cu_seqlens_len));
  require(cu_seqlens_len != 1, TRISCAN_ERROR_INVALID_ARGUMENT,
          "cu_seqlens_len must be 0 or >= 2 (the entries 0 .. T), got 1");
  in.batch = B;
  in.length = T;
  if (cu_seqlens_len > 0) in.cu_seqlens.assign(cu_seqlens, cu_seqlens + cu_seqlens_len);
}

// With no tokens there is nothing to read: as for triscan_invert_batch with count 0, the
// input pointers are not looked at (the C++ scan still checks every size and cu_seqlens).
template <class V>
void allow_null_when_empty(ScanInput<V>& in) {
  static const V dummy[1] = {V(0)};
  if (in.tokens() != 0) return;
  for (const V** p : {&in.a, &in.b, &in.k, &in.v, &in.beta, &in.g})
    if (*p == nullptr) *p = dummy;
}

int finish_scan(const ScanResult& r, int32_t* status) {
  if (status) *status = static_cast<int32_t>(r.status);
  return TRISCAN_SUCCESS;
}

}  // namespace
}  // namespace triscan::capi

using namespace triscan;
using namespace triscan::capi;

extern "C" {

const char* triscan_wy_family_name(int family) {
  switch (family) {
    case TRISCAN_WY_DELTANET:
      return "deltanet";
    case TRISCAN_WY_GATED:
      return "gated";
    case TRISCAN_WY_KDA:
      return "kda";
    case TRISCAN_WY_DPLR:
      return "dplr";
    default:
      return nullptr;
  }
}

int triscan_chunk_wy(const char* method, int dtype, int family, int64_t B, int64_t T, int64_t H,
                     int64_t key_heads, int64_t dk, int64_t dv, int64_t BT,
                     const int64_t* cu_seqlens, int64_t cu_seqlens_len, const void* k,
                     const void* v, const void* beta, const void* g, const void* a, const void* b,
                     void* W, void* U, void* A, void* Ainv, unsigned flags, int32_t* statuses,
                     int32_t* worst_status) {
  return guarded("triscan_chunk_wy", [&] {
    const WyFamily f = family_of(family);
    const ChunkLayout layout = make_chunk_layout(B, T, H, BT, cu_seqlens, cu_seqlens_len);
    require(key_heads >= 0, TRISCAN_ERROR_INVALID_ARGUMENT,
            "key_heads must be >= 0 (0 = H), got " + std::to_string(key_heads));
    check_flags(flags, TRISCAN_NO_ACCURACY_CHECK | TRISCAN_CUMULATIVE_G);
    const bool empty = layout.elements() == 0;
    require(empty || W != nullptr, TRISCAN_ERROR_INVALID_ARGUMENT, "W is NULL");
    require(empty || U != nullptr, TRISCAN_ERROR_INVALID_ARGUMENT, "U is NULL");
    const Format fmt = cpu_format(dtype);
    // Ainv is written after chunk_wy, so its overlaps are checked here, before any work
    // (chunk_wy checks W, U and A against the inputs and each other).
    if (Ainv != nullptr && !empty) {
      const std::size_t size = dtype == TRISCAN_FP64 ? sizeof(double) : sizeof(float);
      const auto bytes = [&](int64_t n) { return static_cast<std::size_t>(n) * size; };
      const auto overlaps = [&](const void* p, std::size_t n) {
        const auto* x = static_cast<const unsigned char*>(Ainv);
        const auto* y = static_cast<const unsigned char*>(p);
        return p != nullptr && x < y + n && y < x + bytes(layout.elements());
      };
      const int64_t tokens = layout.cu_seqlens.empty() ? B * T : T;
      require(!overlaps(A, bytes(layout.elements())), TRISCAN_ERROR_INVALID_ARGUMENT,
              "Ainv overlaps A");
      require(!overlaps(W, bytes(tokens * H * dk)), TRISCAN_ERROR_INVALID_ARGUMENT,
              "Ainv overlaps W");
      require(!overlaps(U, bytes(tokens * H * dv)), TRISCAN_ERROR_INVALID_ARGUMENT,
              "Ainv overlaps U");
    }
    WyOptions opt;
    opt.precision = Precision::uniform(fmt);
    opt.check_accuracy = (flags & TRISCAN_NO_ACCURACY_CHECK) == 0u;
    opt.cumulative_g = (flags & TRISCAN_CUMULATIVE_G) != 0u;
    opt.threads = cpu_thread_count();
    opt.method = trinv_spec(method, opt.precision, opt.check_accuracy);
    TrinvOptions to;
    to.precision = opt.precision;
    to.check_accuracy = opt.check_accuracy;
    to.threads = opt.threads;
    std::vector<Status> st(static_cast<std::size_t>(chunk_count(layout) * H));
    auto run = [&](auto tag) {
      using V = decltype(tag);
      const WyInputs<V> in{static_cast<const V*>(k),
                           static_cast<const V*>(v),
                           static_cast<const V*>(beta),
                           static_cast<const V*>(g),
                           static_cast<const V*>(a),
                           static_cast<const V*>(b),
                           dk,
                           dv,
                           key_heads};
      return run_chunk_wy(f, layout, in, static_cast<V*>(W), static_cast<V*>(U), static_cast<V*>(A),
                          static_cast<V*>(Ainv), opt, to, st);
    };
    const Status w = dtype == TRISCAN_FP64 ? run(double{}) : run(float{});
    write_statuses(st, statuses);
    if (worst_status) *worst_status = static_cast<int32_t>(w);
    return TRISCAN_SUCCESS;
  });
}

int triscan_delta_forward(const char* method, int dtype, int family, int64_t B, int64_t T,
                          int64_t H, int64_t key_heads, int64_t dk, int64_t dv, int64_t BT,
                          const int64_t* cu_seqlens, int64_t cu_seqlens_len, const void* q,
                          const void* k, const void* v, const void* beta, const void* g,
                          const void* initial_state, void* o, void* final_state, unsigned flags,
                          int32_t* statuses, int32_t* worst_status) {
  return guarded("triscan_delta_forward", [&] {
    const WyFamily f = family_of(family);
    require(f != WyFamily::dplr, TRISCAN_ERROR_INVALID_ARGUMENT,
            "family dplr has no chunkwise forward here (deltanet, gated, kda)");
    const ChunkLayout layout = make_chunk_layout(B, T, H, BT, cu_seqlens, cu_seqlens_len);
    require(BT == 16 || BT == 32 || BT == 64 || BT == 128, TRISCAN_ERROR_INVALID_ARGUMENT,
            "BT must be 16, 32, 64 or 128, got " + std::to_string(BT));
    require(key_heads >= 0, TRISCAN_ERROR_INVALID_ARGUMENT,
            "key_heads must be >= 0 (0 = H), got " + std::to_string(key_heads));
    check_flags(flags, TRISCAN_NO_ACCURACY_CHECK | TRISCAN_CUMULATIVE_G | TRISCAN_STATE_TRANSPOSED);
    require(layout.elements() == 0 || o != nullptr, TRISCAN_ERROR_INVALID_ARGUMENT, "o is NULL");
    const Format fmt = cpu_format(dtype);
    DeltaForwardOptions opt;
    opt.precision = Precision::uniform(fmt);
    opt.state_format = fmt;
    opt.check_accuracy = (flags & TRISCAN_NO_ACCURACY_CHECK) == 0u;
    opt.cumulative_g = (flags & TRISCAN_CUMULATIVE_G) != 0u;
    opt.state_transposed = (flags & TRISCAN_STATE_TRANSPOSED) != 0u;
    opt.threads = cpu_thread_count();
    opt.method = trinv_spec(method, opt.precision, opt.check_accuracy);
    std::vector<Status> st(static_cast<std::size_t>(chunk_count(layout) * H));
    auto run = [&](auto tag) {
      using V = decltype(tag);
      const DeltaInputs<V> in{static_cast<const V*>(q),
                              static_cast<const V*>(k),
                              static_cast<const V*>(v),
                              static_cast<const V*>(beta),
                              static_cast<const V*>(g),
                              static_cast<const V*>(initial_state),
                              dk,
                              dv,
                              key_heads};
      return delta_forward(f, layout, in, static_cast<V*>(o), static_cast<V*>(final_state), opt,
                           st.data());
    };
    const Status w = dtype == TRISCAN_FP64 ? run(double{}) : run(float{});
    write_statuses(st, statuses);
    if (worst_status) *worst_status = static_cast<int32_t>(w);
    return TRISCAN_SUCCESS;
  });
}

int triscan_scan(const char* algorithm, int dtype, int kind, int64_t B, int64_t T,
                 const int64_t* cu_seqlens, int64_t cu_seqlens_len, int64_t dim, const void* a,
                 const void* b, const void* h0, void* h, int32_t* status) {
  return guarded("triscan_scan", [&] {
    require(kind >= TRISCAN_SCAN_SCALAR && kind <= TRISCAN_SCAN_DENSE,
            TRISCAN_ERROR_INVALID_ARGUMENT,
            kind == TRISCAN_SCAN_DELTA
                ? std::string("kind TRISCAN_SCAN_DELTA is scanned by triscan_scan_delta")
                : "kind must be a triscan_scan_kind (0 scalar, 1 diagonal, 2 log_diagonal, 3 "
                  "dense), got " +
                      std::to_string(kind));
    const Format fmt = cpu_format(dtype);
    ScanOptions opt;
    opt.precision = Precision::uniform(fmt);
    opt.threads = cpu_thread_count();
    const ScanKind k = kind == TRISCAN_SCAN_SCALAR         ? ScanKind::scalar
                       : kind == TRISCAN_SCAN_DIAGONAL     ? ScanKind::diagonal
                       : kind == TRISCAN_SCAN_LOG_DIAGONAL ? ScanKind::log_diagonal
                                                           : ScanKind::dense;
    auto run = [&](auto tag) {
      using V = decltype(tag);
      ScanInput<V> in;
      fill_scan_input(in, B, T, cu_seqlens, cu_seqlens_len);
      in.kind = k;
      in.dim = dim;
      in.a = static_cast<const V*>(a);
      in.b = static_cast<const V*>(b);
      in.h0 = static_cast<const V*>(h0);
      allow_null_when_empty(in);
      const MethodSpec spec = checked_scan(algorithm, opt);
      return scan(spec, in, static_cast<V*>(h), opt);
    };
    return finish_scan(dtype == TRISCAN_FP64 ? run(double{}) : run(float{}), status);
  });
}

int triscan_scan_delta(const char* algorithm, int dtype, int gate, int64_t B, int64_t T,
                       const int64_t* cu_seqlens, int64_t cu_seqlens_len, int64_t dk, int64_t dv,
                       const void* k, const void* v, const void* beta, const void* g,
                       const void* h0, void* S, int32_t* status) {
  return guarded("triscan_scan_delta", [&] {
    require(gate >= 0 && gate <= 2, TRISCAN_ERROR_INVALID_ARGUMENT,
            "gate must be 0 (none), 1 (scalar) or 2 (channel), got " + std::to_string(gate));
    const Format fmt = cpu_format(dtype);
    ScanOptions opt;
    opt.precision = Precision::uniform(fmt);
    opt.threads = cpu_thread_count();
    auto run = [&](auto tag) {
      using V = decltype(tag);
      ScanInput<V> in;
      fill_scan_input(in, B, T, cu_seqlens, cu_seqlens_len);
      in.kind = ScanKind::delta;
      in.dk = dk;
      in.dv = dv;
      in.gate = static_cast<DeltaGate>(gate);
      in.k = static_cast<const V*>(k);
      in.v = static_cast<const V*>(v);
      in.beta = static_cast<const V*>(beta);
      in.g = static_cast<const V*>(g);
      in.h0 = static_cast<const V*>(h0);
      allow_null_when_empty(in);
      const MethodSpec spec = checked_scan(algorithm, opt);
      return scan(spec, in, static_cast<V*>(S), opt);
    };
    return finish_scan(dtype == TRISCAN_FP64 ? run(double{}) : run(float{}), status);
  });
}

}  // extern "C"
