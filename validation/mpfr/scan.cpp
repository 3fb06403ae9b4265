// validation/mpfr/scan.cpp — the MPFR sequential scan and the end-to-end experiment
// (validation/scan_experiment.hpp). The reference works on mpfr_t through the MPFR C
// API with an explicit precision on every variable (reference.hpp "Threads").
#include <mpfr.h>

#include <cmath>
#include <limits>
#include <vector>

#include "validation/scan_experiment.hpp"

namespace triscan::validation {
namespace {

// A vector of mpfr_t at a fixed precision.
class MpVec {
 public:
  MpVec(std::size_t n, mpfr_prec_t bits) : v_(n) {
    for (auto& x : v_) mpfr_init2(x.x, bits), mpfr_set_zero(x.x, 1);
  }
  ~MpVec() {
    for (auto& x : v_) mpfr_clear(x.x);
  }
  MpVec(const MpVec&) = delete;
  MpVec& operator=(const MpVec&) = delete;
  mpfr_ptr operator[](std::size_t i) { return v_[i].x; }

 private:
  struct Slot {
    mpfr_t x;
  };
  std::vector<Slot> v_;
};

}  // namespace

// h_t = A_t h_{t-1} + b_t (S_t = S_{t-1} P_t + B_t for delta) token by token, every
// operation rounded to `bits` bits (error <= ~4 t d 2^-bits relative to the bound's
// quantities: far below any working format).
std::vector<double> reference_scan(const ScanInput<double>& in, unsigned bits) {
  const mpfr_prec_t p = bits;
  const index_t ss = in.state_size();
  const index_t N = in.tokens();
  std::vector<double> out(static_cast<std::size_t>(N * ss));
  MpVec h(static_cast<std::size_t>(ss), p), tmp(static_cast<std::size_t>(ss), p), dec(static_cast<std::size_t>(std::max<index_t>(in.dk, 1)), p);
  MpVec s1(1, p), s2(1, p);
  mpfr_ptr x = s1[0], y = s2[0];
  for (index_t q = 0; q < in.sequences(); ++q) {
    index_t begin, len;
    if (in.cu_seqlens.empty()) {
      begin = q * in.length;
      len = in.length;
    } else {
      begin = in.cu_seqlens[static_cast<std::size_t>(q)];
      len = in.cu_seqlens[static_cast<std::size_t>(q) + 1] - begin;
    }
    for (index_t j = 0; j < ss; ++j) mpfr_set_d(h[static_cast<std::size_t>(j)], in.h0 ? in.h0[q * ss + j] : 0.0, MPFR_RNDN);
    for (index_t n = begin; n < begin + len; ++n) {
      switch (in.kind) {
        case ScanKind::scalar:
        case ScanKind::diagonal:
        case ScanKind::log_diagonal:
          for (index_t j = 0; j < ss; ++j) {
            const double av = in.kind == ScanKind::scalar ? in.a[n] : in.a[n * ss + j];
            mpfr_set_d(x, av, MPFR_RNDN);
            if (in.kind == ScanKind::log_diagonal) mpfr_exp(x, x, MPFR_RNDN);
            mpfr_mul(x, x, h[static_cast<std::size_t>(j)], MPFR_RNDN);
            mpfr_add_d(h[static_cast<std::size_t>(j)], x, in.b[n * ss + j], MPFR_RNDN);
          }
          break;
        case ScanKind::dense: {
          const index_t d = in.dim;
          for (index_t i = 0; i < d; ++i) {
            mpfr_set_d(tmp[static_cast<std::size_t>(i)], in.b[n * d + i], MPFR_RNDN);
            for (index_t j = 0; j < d; ++j) {
              mpfr_mul_d(x, h[static_cast<std::size_t>(j)], in.a[(n * d + i) * d + j], MPFR_RNDN);
              mpfr_add(tmp[static_cast<std::size_t>(i)], tmp[static_cast<std::size_t>(i)], x, MPFR_RNDN);
            }
          }
          for (index_t i = 0; i < d; ++i) mpfr_set(h[static_cast<std::size_t>(i)], tmp[static_cast<std::size_t>(i)], MPFR_RNDN);
          break;
        }
        case ScanKind::delta: {
          const index_t dk = in.dk, dv = in.dv;
          const double* kn = in.k + n * dk;
          for (index_t j = 0; j < dk; ++j) {
            if (in.gate == DeltaGate::none) {
              mpfr_set_ui(dec[static_cast<std::size_t>(j)], 1, MPFR_RNDN);
            } else {
              mpfr_set_d(dec[static_cast<std::size_t>(j)], in.gate == DeltaGate::scalar ? in.g[n] : in.g[n * dk + j], MPFR_RNDN);
              mpfr_exp(dec[static_cast<std::size_t>(j)], dec[static_cast<std::size_t>(j)], MPFR_RNDN);
            }
          }
          // S' = S D; u = S' k; S = S' + beta (v - u) k^T
          for (index_t i = 0; i < dv; ++i) {
            mpfr_set_zero(y, 1);
            for (index_t j = 0; j < dk; ++j) {
              mpfr_ptr sij = h[static_cast<std::size_t>(i * dk + j)];
              mpfr_mul(sij, sij, dec[static_cast<std::size_t>(j)], MPFR_RNDN);
              mpfr_mul_d(x, sij, kn[j], MPFR_RNDN);
              mpfr_add(y, y, x, MPFR_RNDN);
            }
            mpfr_d_sub(y, in.v[n * dv + i], y, MPFR_RNDN);
            mpfr_mul_d(y, y, in.beta[n], MPFR_RNDN);
            for (index_t j = 0; j < dk; ++j) {
              mpfr_mul_d(x, y, kn[j], MPFR_RNDN);
              mpfr_add(h[static_cast<std::size_t>(i * dk + j)], h[static_cast<std::size_t>(i * dk + j)], x, MPFR_RNDN);
            }
          }
          break;
        }
      }
      for (index_t j = 0; j < ss; ++j) out[static_cast<std::size_t>(n * ss + j)] = mpfr_get_d(h[static_cast<std::size_t>(j)], MPFR_RNDN);
    }
  }
  return out;
}

ScanRecord run_scan_experiment(const MethodSpec& algorithm, const ScanOptions& options, const ScanCase& c) {
  ScanRecord rec;
  rec.algorithm = algorithm.to_string();
  rec.precision = options.precision.describe() + " state " +
                  options.state_format.value_or(options.precision.storage).name;
  rec.c = c;
  const ScanData data = generate_scan(c, options.precision.operand);
  const ScanInput<double> in = data.input();
  rec.h.assign(static_cast<std::size_t>(in.tokens() * in.state_size()), 0.0);
  rec.result = scan(algorithm, in, rec.h.data(), options);
  if (rec.result.status == Status::nonfinite_input) {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    rec.errors = {nan, nan, nan, -1};
    return rec;
  }
  const auto ref = reference_scan(in);
  const auto bound = scan_error_bound(in, rec.algorithm, options, ref);
  rec.errors = measure_scan(in, rec.h, ref, bound);
  return rec;
}

}  // namespace triscan::validation
