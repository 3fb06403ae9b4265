// src/scan/driver.cpp — the public scan(): argument checks, the arithmetic model the
// algorithms run under (state format, native fast path), input rounding, dispatch by
// kind and algorithm, and the statuses (docs/scan.md "Statuses").
#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "src/scan/algorithms.hpp"
#include "src/scan/registry.hpp"
#include "triscan/scan.hpp"

namespace triscan {
namespace scan_detail {
namespace {

template <class V>
void require(const V* p, const char* name, ScanKind kind) {
  if (!p)
    throw std::invalid_argument(std::string("scan: input '") + name + "' is null (required by kind " +
                                std::string(scan_kind_name(kind)) + ")");
}

template <class V>
void validate(const ScanInput<V>& in, const V* h) {
  if (in.length < 0) throw std::invalid_argument("scan: 'length' is negative");
  if (in.cu_seqlens.empty()) {
    if (in.batch < 1) throw std::invalid_argument("scan: 'batch' must be >= 1");
  } else {
    if (in.batch != 1) throw std::invalid_argument("scan: 'batch' must be 1 with cu_seqlens");
    if (in.cu_seqlens.size() < 2 || in.cu_seqlens.front() != 0 || in.cu_seqlens.back() != in.length)
      throw std::invalid_argument("scan: 'cu_seqlens' must run from 0 to length");
    for (std::size_t i = 1; i < in.cu_seqlens.size(); ++i)
      if (in.cu_seqlens[i] < in.cu_seqlens[i - 1])
        throw std::invalid_argument("scan: 'cu_seqlens' is not non-decreasing at entry " + std::to_string(i));
  }
  if (in.kind == ScanKind::delta) {
    if (in.dk < 1 || in.dv < 1) throw std::invalid_argument("scan: 'dk' and 'dv' must be >= 1 for kind delta");
    require(in.k, "k", in.kind);
    require(in.v, "v", in.kind);
    require(in.beta, "beta", in.kind);
    if (in.gate != DeltaGate::none) require(in.g, "g", in.kind);
  } else {
    if (in.dim < 1) throw std::invalid_argument("scan: 'dim' must be >= 1");
    require(in.a, in.kind == ScanKind::log_diagonal ? "a (log-decays la)" : "a", in.kind);
    require(in.b, "b", in.kind);
  }
  if (!h && in.tokens() > 0) throw std::invalid_argument("scan: output 'h' is null");
}

template <class V>
std::vector<Sequence<V>> sequences_of(const ScanInput<V>& in) {
  std::vector<Sequence<V>> out;
  const index_t ss = in.state_size();
  for (index_t s = 0; s < in.sequences(); ++s) {
    Sequence<V> q;
    if (in.cu_seqlens.empty()) {
      q.begin = s * in.length;
      q.length = in.length;
    } else {
      q.begin = in.cu_seqlens[static_cast<std::size_t>(s)];
      q.length = in.cu_seqlens[static_cast<std::size_t>(s) + 1] - q.begin;
    }
    q.h0 = in.h0 ? in.h0 + s * ss : nullptr;
    out.push_back(q);
  }
  return out;
}

// Every input array with its length, in a fixed order.
template <class V>
struct Arrays {
  std::vector<std::pair<const V*, index_t>> list;
  explicit Arrays(const ScanInput<V>& in) {
    const index_t n = in.tokens();
    switch (in.kind) {
      case ScanKind::scalar: list = {{in.a, n}, {in.b, n * in.dim}}; break;
      case ScanKind::diagonal:
      case ScanKind::log_diagonal: list = {{in.a, n * in.dim}, {in.b, n * in.dim}}; break;
      case ScanKind::dense: list = {{in.a, n * in.dim * in.dim}, {in.b, n * in.dim}}; break;
      case ScanKind::delta:
        list = {{in.k, n * in.dk}, {in.v, n * in.dv}, {in.beta, n}};
        if (in.gate == DeltaGate::scalar) list.push_back({in.g, n});
        if (in.gate == DeltaGate::channel) list.push_back({in.g, n * in.dk});
        break;
    }
    if (in.h0) list.push_back({in.h0, in.sequences() * in.state_size()});
  }
};

template <class V>
bool inputs_finite(const ScanInput<V>& in) {
  for (const auto& [p, len] : Arrays<V>(in).list)
    for (index_t i = 0; i < len; ++i)
      if (!std::isfinite(p[i])) return false;
  return true;
}

template <class A>
void run_algorithm(const Algorithm& alg, const ScanInput<typename A::value_type>& in,
                   typename A::value_type* h, const Precision& ip, unsigned threads, Tracker& tr) {
  const auto seqs = sequences_of(in);
  ArithFactory<A> af{&ip};
  auto go = [&](const auto& op) {
    switch (alg.which) {
      case Algorithm::sequential: scan_sequential<A>(op, seqs, h, af, threads, tr); break;
      case Algorithm::hillis_steele: scan_hillis_steele<A>(op, seqs, h, af, threads, tr); break;
      case Algorithm::blelloch: scan_blelloch<A>(op, seqs, h, af, threads, tr); break;
      case Algorithm::chunked: scan_chunked<A>(op, seqs, h, af, threads, tr, alg.chunk); break;
    }
  };
  switch (in.kind) {
    case ScanKind::scalar:
    case ScanKind::diagonal:
    case ScanKind::log_diagonal: go(DiagonalOp<A>(in.kind, in.dim, in.a, in.b)); break;
    case ScanKind::dense: go(DenseOp<A>(in.dim, in.a, in.b)); break;
    case ScanKind::delta: go(DeltaOp<A>(in.dk, in.dv, in.gate, in.k, in.v, in.beta, in.g)); break;
  }
}

const Format& wider(const Format& x, const Format& y) {
  if (x.precision != y.precision) return x.precision > y.precision ? x : y;
  return x.emax >= y.emax ? x : y;
}

// The model the algorithms run under: products and sums in the wider of the
// accumulation and state formats, values written back in the state format, states
// handed back in the output format.
Precision internal_precision(const ScanOptions& o) {
  const Format state = o.state_format.value_or(o.precision.storage);
  const Format& compute = wider(o.precision.accumulate, state);
  Precision ip = o.precision;
  ip.operand = compute;
  ip.accumulate = compute;
  ip.storage = state;
  return ip;
}

unsigned thread_count(unsigned requested) {
  if (requested) return requested;
  const unsigned hw = std::thread::hardware_concurrency();
  return hw ? hw : 1;
}

template <class V>
void fill_nan(const ScanInput<V>& in, V* h) {
  std::fill(h, h + in.tokens() * in.state_size(), std::numeric_limits<V>::quiet_NaN());
}

// The native path: no rounding calls. Scalar/diagonal skip the input scan (a full extra
// read of the inputs in a memory-bound kernel): a non-finite input there always makes
// the state of its token non-finite, which the output check sees; only then are the
// inputs scanned to tell nonfinite_input from overflow.
template <class V>
ScanResult run_native(const Algorithm& alg, const ScanInput<V>& in, V* h, const Precision& ip, unsigned threads) {
  ScanResult r;
  const bool output_check_suffices = in.kind == ScanKind::scalar || in.kind == ScanKind::diagonal;
  if (!output_check_suffices && !inputs_finite(in)) {
    fill_nan(in, h);
    r.status = Status::nonfinite_input;
    r.message = "non-finite value in the input";
    return r;
  }
  Tracker tr;
  run_algorithm<arith::Native<V>>(alg, in, h, ip, threads, tr);
  if (tr.nonfinite) {
    if (output_check_suffices && !inputs_finite(in)) {
      fill_nan(in, h);
      r.status = Status::nonfinite_input;
      r.message = "non-finite value in the input";
    } else {
      r.status = Status::overflow;
      r.message = "a state overflowed the state format";
    }
  }
  return r;
}

ScanResult run_simulated(const Algorithm& alg, const ScanInput<double>& in, double* h, const ScanOptions& o,
                         const Precision& ip, unsigned threads) {
  ScanResult r;
  if (!inputs_finite(in)) {
    fill_nan(in, h);
    r.status = Status::nonfinite_input;
    r.message = "non-finite value in the input";
    return r;
  }
  // The inputs as values of the operand format (rounded copies).
  RandomBits rng(o.precision.seed ^ 0x5CA7ull);
  ScanInput<double> rin = in;
  std::vector<std::vector<double>> store;
  bool input_overflow = false;
  const Arrays<double> arrays(in);
  for (const auto& [p, len] : arrays.list) {
    std::vector<double> c(static_cast<std::size_t>(len));
    for (index_t i = 0; i < len; ++i) {
      c[static_cast<std::size_t>(i)] = round(p[i], o.precision.operand, o.precision.rounding, &rng);
      input_overflow = input_overflow || !std::isfinite(c[static_cast<std::size_t>(i)]);
    }
    store.push_back(std::move(c));
  }
  auto swap_in = [&](const double*& ptr) {
    if (!ptr) return;
    for (std::size_t i = 0; i < arrays.list.size(); ++i)
      if (arrays.list[i].first == ptr) {
        ptr = store[i].data();
        return;
      }
  };
  swap_in(rin.a);
  swap_in(rin.b);
  swap_in(rin.k);
  swap_in(rin.v);
  swap_in(rin.beta);
  swap_in(rin.g);
  swap_in(rin.h0);
  Tracker tr;
  run_algorithm<arith::Simulated>(alg, rin, h, ip, threads, tr);
  r.growth = tr.growth;
  if (input_overflow) {
    r.status = Status::overflow;
    r.message = "an input overflows the operand format " + o.precision.operand.name;
  } else if (tr.overflow || tr.nonfinite) {
    r.status = Status::overflow;
    r.message = "an intermediate or a state overflowed (state format " + ip.storage.name + ")";
  }
  return r;
}

}  // namespace
}  // namespace scan_detail

ScanResult scan(const MethodSpec& algorithm, const ScanInput<double>& input, double* h, const ScanOptions& options) {
  using namespace scan_detail;
  const Algorithm alg = parse_algorithm(algorithm);
  validate(input, h);
  const Precision ip = internal_precision(options);
  const unsigned threads = thread_count(options.threads);
  const Format& fp64 = format_by_name("fp64");
  if (ip.is_native(fp64) && options.precision.operand == fp64)
    return run_native(alg, input, h, ip, threads);
  return run_simulated(alg, input, h, options, ip, threads);
}

ScanResult scan(const MethodSpec& algorithm, const ScanInput<float>& input, float* h, const ScanOptions& options) {
  using namespace scan_detail;
  const Algorithm alg = parse_algorithm(algorithm);
  validate(input, h);
  const Precision ip = internal_precision(options);
  const unsigned threads = thread_count(options.threads);
  const Format& fp32 = format_by_name("fp32");
  if (ip.is_native(fp32) && options.precision.operand == fp32) return run_native(alg, input, h, ip, threads);
  const Format& out = options.precision.output;
  if (out.precision > 24 || out.emax > 127 || out.emin < -126)
    throw std::invalid_argument("scan: output format '" + out.name + "' is not representable in float");
  // Simulated: through double copies (every float is a double).
  ScanInput<double> din;
  din.kind = input.kind;
  din.batch = input.batch;
  din.length = input.length;
  din.cu_seqlens = input.cu_seqlens;
  din.dim = input.dim;
  din.dk = input.dk;
  din.dv = input.dv;
  din.gate = input.gate;
  const Arrays<float> arrays(input);
  std::vector<std::vector<double>> copies;
  auto copy = [&](const float* p) -> const double* {
    if (!p) return nullptr;
    for (const auto& [q, len] : arrays.list)
      if (q == p) {
        copies.emplace_back(p, p + len);
        return copies.back().data();
      }
    return nullptr;
  };
  copies.reserve(8);
  din.a = copy(input.a);
  din.b = copy(input.b);
  din.k = copy(input.k);
  din.v = copy(input.v);
  din.beta = copy(input.beta);
  din.g = copy(input.g);
  din.h0 = copy(input.h0);
  std::vector<double> dh(static_cast<std::size_t>(input.tokens() * input.state_size()));
  const ScanResult r = scan(algorithm, din, dh.data(), options);
  for (std::size_t i = 0; i < dh.size(); ++i) h[i] = static_cast<float>(dh[i]);
  return r;
}

}  // namespace triscan
