// src/scan/ops.hpp — the recurrence of each transition kind as an element type with
// its associative combine (not installed). Every algorithm (algorithms.hpp) is written
// once against this interface, for any arithmetic model A (numerics/arith.hpp):
//
//   tsz, osz                          sizes of an element's transition and offset parts;
//                                     an element is tsz + osz contiguous values and the
//                                     offset part has the shape of the state
//   load(a, n, e)                     e <- e_n, the element of token n
//   step(a, n, h_prev, h)             h <- e_n applied to h_prev (the recurrence itself)
//   apply(a, e, h_prev, h)            h <- e applied to h_prev
//   combine(a, early, late, out)      out <- late o early (the element of the two spans
//                                     one after the other); out may alias early or late
//   absorb(a, agg, n)                 agg <- e_n o agg
//
// Every value written (element or state) is rounded to the state format (a.store).
// The left form (scalar, diagonal, log_diagonal, dense): e = (A, b), e applied to h is
// A h + b, late o early = (A_l A_e, A_l b_e + b_l). The right form (delta): e = (P, B),
// e applied to S is S P + B, late o early = (P_e P_l, B_e P_l + B_l).
#pragma once

#include <cmath>
#include <vector>

#include "numerics/arith.hpp"
#include "triscan/scan.hpp"

namespace triscan::scan_detail {

// exp under the model: the double result of std::exp rounded once to the accumulation
// format (simulated), or the native exp.
template <class A>
typename A::value_type exp_in(A& a, typename A::value_type x) {
  if constexpr (A::native) {
    return std::exp(x);
  } else {
    return a.accumulate(std::exp(x));
  }
}

template <class V>
std::vector<V>& scratch(std::size_t n) {
  thread_local std::vector<V> s;
  if (s.size() < n) s.resize(n);
  return s;
}

// scalar, diagonal and log_diagonal: d independent channels; the transition is one
// value (scalar), d values (diagonal), or d log-decays (log_diagonal, a = exp(la); the
// transition of a span is the SUM of its log-decays instead of the product of decays).
template <class A>
struct DiagonalOp {
  using V = typename A::value_type;
  ScanKind kind;
  index_t d;
  const V* a;  // [N] (scalar) or [N, d]
  const V* b;  // [N, d]
  index_t tsz, osz;

  DiagonalOp(ScanKind k, index_t dim, const V* a_, const V* b_)
      : kind(k), d(dim), a(a_), b(b_), tsz(k == ScanKind::scalar ? 1 : dim), osz(dim) {}

  const V* trans(index_t n) const { return a + n * tsz; }
  bool log_space() const { return kind == ScanKind::log_diagonal; }

  void load(A& ar, index_t n, V* e) const {
    const V* t = trans(n);
    for (index_t j = 0; j < tsz; ++j) e[j] = ar.store(t[j]);
    for (index_t j = 0; j < d; ++j) e[tsz + j] = ar.store(b[n * d + j]);
  }
  // h_j = a_j h_prev_j + b_j (a = exp(la) in log space).
  void apply_parts(A& ar, const V* t, const V* off, const V* hp, V* h) const {
    if (kind == ScanKind::scalar) {
      const V s = t[0];
      for (index_t j = 0; j < d; ++j) h[j] = ar.store(ar.muladd(s, hp[j], off[j]));
    } else if (kind == ScanKind::diagonal) {
      for (index_t j = 0; j < d; ++j) h[j] = ar.store(ar.muladd(t[j], hp[j], off[j]));
    } else {
      for (index_t j = 0; j < d; ++j) h[j] = ar.store(ar.muladd(exp_in(ar, t[j]), hp[j], off[j]));
    }
  }
  void step(A& ar, index_t n, const V* hp, V* h) const { apply_parts(ar, trans(n), b + n * d, hp, h); }
  void apply(A& ar, const V* e, const V* hp, V* h) const { apply_parts(ar, e, e + tsz, hp, h); }

  // out = (t_l * t_e, t_l * b_e + b_l); offsets first, so out may alias either input.
  void combine_parts(A& ar, const V* te, const V* be, const V* tl, const V* bl, V* out) const {
    V* to = out;
    V* bo = out + tsz;
    if (kind == ScanKind::scalar) {
      const V s = tl[0];
      for (index_t j = 0; j < d; ++j) bo[j] = ar.store(ar.muladd(s, be[j], bl[j]));
      to[0] = ar.store(ar.mul(tl[0], te[0]));
    } else if (kind == ScanKind::diagonal) {
      for (index_t j = 0; j < d; ++j) bo[j] = ar.store(ar.muladd(tl[j], be[j], bl[j]));
      for (index_t j = 0; j < d; ++j) to[j] = ar.store(ar.mul(tl[j], te[j]));
    } else {
      for (index_t j = 0; j < d; ++j) bo[j] = ar.store(ar.muladd(exp_in(ar, tl[j]), be[j], bl[j]));
      for (index_t j = 0; j < d; ++j) to[j] = ar.store(ar.add(tl[j], te[j]));
    }
  }
  void combine(A& ar, const V* early, const V* late, V* out) const {
    combine_parts(ar, early, early + tsz, late, late + tsz, out);
  }
  void absorb(A& ar, V* agg, index_t n) const {
    combine_parts(ar, agg, agg + tsz, trans(n), b + n * d, agg);
  }
};

// dense: h_t = A_t h_{t-1} + b_t with A_t d x d row-major.
template <class A>
struct DenseOp {
  using V = typename A::value_type;
  index_t d;
  const V* a;  // [N, d, d]
  const V* b;  // [N, d]
  index_t tsz, osz;

  DenseOp(index_t dim, const V* a_, const V* b_) : d(dim), a(a_), b(b_), tsz(dim * dim), osz(dim) {}

  void load(A& ar, index_t n, V* e) const {
    for (index_t j = 0; j < tsz; ++j) e[j] = ar.store(a[n * tsz + j]);
    for (index_t j = 0; j < d; ++j) e[tsz + j] = ar.store(b[n * d + j]);
  }
  // h_i = b_i + sum_j A_ij h_prev_j
  void apply_parts(A& ar, const V* t, const V* off, const V* hp, V* h) const {
    for (index_t i = 0; i < d; ++i) h[i] = ar.store(ar.dot(d, t + i * d, 1, hp, 1, off[i]));
  }
  void step(A& ar, index_t n, const V* hp, V* h) const {
    auto& tmp = scratch<V>(static_cast<std::size_t>(d));  // h may alias h_prev
    apply_parts(ar, a + n * tsz, b + n * d, hp, tmp.data());
    for (index_t i = 0; i < d; ++i) h[i] = tmp[i];
  }
  void apply(A& ar, const V* e, const V* hp, V* h) const {
    auto& tmp = scratch<V>(static_cast<std::size_t>(d));
    apply_parts(ar, e, e + tsz, hp, tmp.data());
    for (index_t i = 0; i < d; ++i) h[i] = tmp[i];
  }
  // out = (A_l A_e, A_l b_e + b_l), formed in scratch so out may alias an input.
  void combine_parts(A& ar, const V* te, const V* be, const V* tl, const V* bl, V* out) const {
    auto& tmp = scratch<V>(static_cast<std::size_t>(tsz + osz));
    for (index_t i = 0; i < d; ++i) {
      for (index_t j = 0; j < d; ++j) tmp[i * d + j] = ar.store(ar.dot(d, tl + i * d, 1, te + j, d, V(0)));
      tmp[tsz + i] = ar.store(ar.dot(d, tl + i * d, 1, be, 1, bl[i]));
    }
    for (index_t i = 0; i < tsz + osz; ++i) out[i] = tmp[i];
  }
  void combine(A& ar, const V* early, const V* late, V* out) const {
    combine_parts(ar, early, early + tsz, late, late + tsz, out);
  }
  void absorb(A& ar, V* agg, index_t n) const {
    combine_parts(ar, agg, agg + tsz, a + n * tsz, b + n * d, agg);
  }
};

// delta: S_t = S_{t-1} P_t + B_t, S dv x dk, P_t = D_t (I - beta_t k_t k_t^T) (dk x dk,
// dense: combine costs dk^2 (dk + dv) multiply-adds), B_t = beta_t v_t k_t^T, D_t = I,
// exp(g_t) I or diag(exp(g_t)).
template <class A>
struct DeltaOp {
  using V = typename A::value_type;
  index_t dk, dv;
  DeltaGate gate;
  const V* k;     // [N, dk]
  const V* v;     // [N, dv]
  const V* beta;  // [N]
  const V* g;     // [N] or [N, dk]
  index_t tsz, osz;

  DeltaOp(index_t dk_, index_t dv_, DeltaGate gt, const V* k_, const V* v_, const V* beta_, const V* g_)
      : dk(dk_), dv(dv_), gate(gt), k(k_), v(v_), beta(beta_), g(g_), tsz(dk_ * dk_), osz(dv_ * dk_) {}

  // The decay of key channel i at token n.
  V decay(A& ar, index_t n, index_t i) const {
    if (gate == DeltaGate::scalar) return exp_in(ar, g[n]);
    return exp_in(ar, g[n * dk + i]);
  }

  // P_ij = D_i (delta_ij - beta k_i k_j), B_ij = (beta v_i) k_j.
  void load(A& ar, index_t n, V* e) const {
    const V* kn = k + n * dk;
    const V bn = beta[n];
    V gs = V(1);
    if (gate == DeltaGate::scalar) gs = decay(ar, n, 0);
    for (index_t i = 0; i < dk; ++i) {
      const V bk = ar.mul(bn, kn[i]);
      const V di = gate == DeltaGate::channel ? decay(ar, n, i) : gs;
      for (index_t j = 0; j < dk; ++j) {
        V p = ar.sub(i == j ? V(1) : V(0), ar.mul(bk, kn[j]));
        if (gate != DeltaGate::none) p = ar.mul(di, p);
        e[i * dk + j] = ar.store(p);
      }
    }
    for (index_t i = 0; i < dv; ++i) {
      const V bv = ar.mul(bn, v[n * dv + i]);
      for (index_t j = 0; j < dk; ++j) e[tsz + i * dk + j] = ar.store(ar.mul(bv, kn[j]));
    }
  }

  // S = S' + (beta (v - S' k)) k^T with S' = S_prev D (the token recurrence, O(dv dk)).
  void step(A& ar, index_t n, const V* sp, V* s) const {
    const V* kn = k + n * dk;
    const V bn = beta[n];
    auto& dec = scratch<V>(static_cast<std::size_t>(dk));
    if (gate == DeltaGate::scalar) {
      const V gs = decay(ar, n, 0);
      for (index_t j = 0; j < dk; ++j) dec[j] = gs;
    } else if (gate == DeltaGate::channel) {
      for (index_t j = 0; j < dk; ++j) dec[j] = decay(ar, n, j);
    }
    for (index_t i = 0; i < dv; ++i) {
      V* si = s + i * dk;
      const V* spi = sp + i * dk;
      for (index_t j = 0; j < dk; ++j) si[j] = gate == DeltaGate::none ? spi[j] : ar.store(ar.mul(spi[j], dec[j]));
      const V u = ar.dot(dk, si, 1, kn, 1, V(0));
      const V w = ar.mul(bn, ar.sub(v[n * dv + i], u));
      for (index_t j = 0; j < dk; ++j) si[j] = ar.store(ar.muladd(w, kn[j], si[j]));
    }
  }

  // S = S_prev P + B (S may alias S_prev: formed in scratch).
  void apply(A& ar, const V* e, const V* sp, V* s) const {
    auto& tmp = scratch<V>(static_cast<std::size_t>(osz));
    for (index_t i = 0; i < dv; ++i)
      for (index_t j = 0; j < dk; ++j)
        tmp[i * dk + j] = ar.store(ar.dot(dk, sp + i * dk, 1, e + j, dk, e[tsz + i * dk + j]));
    for (index_t i = 0; i < osz; ++i) s[i] = tmp[i];
  }
  // out = (P_e P_l, B_e P_l + B_l).
  void combine(A& ar, const V* early, const V* late, V* out) const {
    auto& tmp = scratch<V>(static_cast<std::size_t>(tsz + osz));
    for (index_t i = 0; i < dk; ++i)
      for (index_t j = 0; j < dk; ++j)
        tmp[i * dk + j] = ar.store(ar.dot(dk, early + i * dk, 1, late + j, dk, V(0)));
    for (index_t i = 0; i < dv; ++i)
      for (index_t j = 0; j < dk; ++j)
        tmp[tsz + i * dk + j] =
            ar.store(ar.dot(dk, early + tsz + i * dk, 1, late + j, dk, late[tsz + i * dk + j]));
    for (index_t i = 0; i < tsz + osz; ++i) out[i] = tmp[i];
  }
  void absorb(A& ar, V* agg, index_t n) const {
    auto& e = elem_scratch(static_cast<std::size_t>(tsz + osz));
    load(ar, n, e.data());
    combine(ar, agg, e.data(), agg);
  }
  static std::vector<V>& elem_scratch(std::size_t n) {
    thread_local std::vector<V> s;
    if (s.size() < n) s.resize(n);
    return s;
  }
};

}  // namespace triscan::scan_detail
