/* tests/capi/test_capi_linear.c — the C API's linear-attention and scan entry points
 * (triscan_chunk_wy, triscan_delta_forward, triscan_scan, triscan_scan_delta) used from
 * C99, against answers known exactly in closed form. Every input is a small integer or a
 * power of two times one, and every intermediate of the methods stays one, so every
 * floating-point operation is exact (no rounding: the error bounds of docs/wy.md and
 * docs/scan.md are attained with zero error) and results must equal the closed form bit
 * for bit, in fp32 and fp64:
 *   chunk WY, orthogonal keys k_t = e_t (dk >= T): N = 0 (k_i . k_j = 0), (I + N)^-1 = I,
 *     T = diag(beta), W_t = beta_t k_t, U_t = beta_t v_t (g = 0: gamma = 1 for gated/kda);
 *     dplr with a_t = beta_t e_t, b_t = e_t: N = 0, W_t = a_t, U_t = v_t.
 *   chunk WY, beta = 0 (any keys): N = 0, W = 0, U = 0, (I + N)^-1 = I.
 *   delta forward, k = 0: S_t = S_0 for all t, so o_t = S_0 q_t and the final state is S_0.
 *   scans with integer inputs and a_t in {1, 2} (log-diagonal: log a = 0): h is the
 *     recurrence evaluated in exact integer arithmetic (a plain loop here);
 *   delta scan, beta = 0 (gate none, or scalar / channel gate g = 0): S_t = h0.
 * Then argument errors: each must return its code and name the argument.
 * Exits 1 on any failure. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "capi_check.h"
#include "triscan/triscan.h"

#define POISON 12345.0

/* ---- chunk WY ------------------------------------------------------------------------ */

enum { WT = 6, WH = 2, WHK = 1, WDK = 8, WDV = 3, WBT = 4 };
/* cu_seqlens {0, 5, 6}: sequence 0 = tokens 0..4 (chunks of 4 and 1), sequence 1 = token 5. */
static const int64_t wcu[3] = {0, 5, 6};

static int64_t chunk_start(int64_t t) {
  int64_t bos = t < 5 ? 0 : 5;
  return bos + ((t - bos) / WBT) * WBT;
}
static int64_t chunk_size(int64_t t) {
  int64_t s = chunk_start(t), eos = t < 5 ? 5 : 6;
  return eos - s < WBT ? eos - s : WBT;
}

/* One family, one dtype; zero_beta selects the beta = 0 case (keys then not orthogonal). */
static void run_wy(int family, int dtype, int zero_beta) {
  double k[WT * WHK * WDK], v[WT * WH * WDV], beta[WT * WH], g[WT * WH * WDK], a[WT * WH * WDK],
      b[WT * WH * WDK];
  double W[WT * WH * WDK], U[WT * WH * WDV], A[WT * WH * WBT], X[WT * WH * WBT];
  float kf[WT * WHK * WDK], vf[WT * WH * WDV], betaf[WT * WH], gf[WT * WH * WDK], af[WT * WH * WDK],
      bf[WT * WH * WDK];
  float Wf[WT * WH * WDK], Uf[WT * WH * WDV], Af[WT * WH * WBT], Xf[WT * WH * WBT];
  int32_t st[3 * WH], worst = -1;
  int t, h, c, rc;
  const int fp64 = dtype == TRISCAN_FP64;
  const char* name = triscan_wy_family_name(family);
  for (t = 0; t < WT; ++t) {
    for (c = 0; c < WDK; ++c) k[t * WDK + c] = zero_beta ? (double)((t + c) % 3 - 1) : (c == t);
    for (h = 0; h < WH; ++h) {
      beta[t * WH + h] = zero_beta ? 0.0 : (h + 1) * 0.25;
      for (c = 0; c < WDV; ++c) v[(t * WH + h) * WDV + c] = t + c + 10 * h;
      for (c = 0; c < WDK; ++c) {
        g[(t * WH + h) * WDK + c] = 0.0;
        b[(t * WH + h) * WDK + c] = c == t;
        a[(t * WH + h) * WDK + c] = (c == t) * beta[t * WH + h];
      }
    }
  }
  for (t = 0; t < WT * WH * WDK; ++t) {
    W[t] = POISON;
    Wf[t] = (float)POISON;
    gf[t] = (float)g[t];
    af[t] = (float)a[t];
    bf[t] = (float)b[t];
  }
  for (t = 0; t < WT * WHK * WDK; ++t) kf[t] = (float)k[t];
  for (t = 0; t < WT * WH * WDV; ++t) {
    U[t] = POISON;
    Uf[t] = (float)POISON;
    vf[t] = (float)v[t];
  }
  for (t = 0; t < WT * WH; ++t) betaf[t] = (float)beta[t];
  for (t = 0; t < WT * WH * WBT; ++t) {
    A[t] = X[t] = POISON;
    Af[t] = Xf[t] = (float)POISON;
  }
  if (fp64)
    rc = triscan_chunk_wy(NULL, dtype, family, 1, WT, WH, family == TRISCAN_WY_DPLR ? 0 : WHK, WDK,
                          WDV, WBT, wcu, 3, k, v, beta, g, a, b, W, U, A, X, 0u, st, &worst);
  else
    rc = triscan_chunk_wy("trinv/forward_substitution", dtype, family, 1, WT, WH,
                          family == TRISCAN_WY_DPLR ? 0 : WHK, WDK, WDV, WBT, wcu, 3, kf, vf, betaf,
                          gf, af, bf, Wf, Uf, Af, Xf, 0u, st, &worst);
  CHECK(rc == TRISCAN_SUCCESS, "%s %s: rc %d", name, triscan_dtype_name(dtype), rc);
  CHECK(worst == TRISCAN_STATUS_OK, "%s %s: worst %d", name, triscan_dtype_name(dtype), worst);
  for (t = 0; t < 3 * WH; ++t)
    CHECK(st[t] == TRISCAN_STATUS_OK, "%s: status[%d] %d", name, t, st[t]);
  for (t = 0; t < WT; ++t)
    for (h = 0; h < WH; ++h) {
      const double bt = family == TRISCAN_WY_DPLR ? 1.0 : beta[t * WH + h];
      const int64_t m = chunk_size(t), row = t - chunk_start(t);
      for (c = 0; c < WDK; ++c) {
        const double e =
            zero_beta ? 0.0
                      : (family == TRISCAN_WY_DPLR ? a[(t * WH + h) * WDK + c] : bt * (c == t));
        const double got = fp64 ? W[(t * WH + h) * WDK + c] : Wf[(t * WH + h) * WDK + c];
        CHECK(got == e, "%s %s W[%d,%d,%d] = %g, exact %g", name, triscan_dtype_name(dtype), t, h,
              c, got, e);
      }
      for (c = 0; c < WDV; ++c) {
        const double e = zero_beta ? 0.0 : bt * v[(t * WH + h) * WDV + c];
        const double got = fp64 ? U[(t * WH + h) * WDV + c] : Uf[(t * WH + h) * WDV + c];
        CHECK(got == e, "%s %s U[%d,%d,%d] = %g, exact %g", name, triscan_dtype_name(dtype), t, h,
              c, got, e);
      }
      for (c = 0; c < WBT; ++c) {
        const int64_t at = (t * WH + h) * WBT + c;
        const double gn = fp64 ? A[at] : Af[at], gx = fp64 ? X[at] : Xf[at];
        const double en = c < m ? 0.0 : POISON, ex = c < m ? (double)(c == row) : POISON;
        CHECK(gn == en && gx == ex, "%s %s A/Ainv[%d,%d,%d] = %g / %g, exact %g / %g", name,
              triscan_dtype_name(dtype), t, h, c, gn, gx, en, ex);
      }
    }
}

static void test_chunk_wy(void) {
  int family, z;
  for (z = 0; z < 2; ++z)
    for (family = TRISCAN_WY_DELTANET; family <= TRISCAN_WY_DPLR; ++family) {
      if (z && family == TRISCAN_WY_DPLR) continue; /* dplr has no beta */
      run_wy(family, TRISCAN_FP64, z);
      run_wy(family, TRISCAN_FP32, z);
    }
  CHECK(triscan_wy_family_name(4) == NULL && triscan_wy_family_name(-1) == NULL,
        "out-of-range family names");
}

/* ---- delta forward ------------------------------------------------------------------- */

enum { DT = 20, DH = 2, DHK = 1, DK = 4, DV = 3 };
static const int64_t dcu[3] = {0, 17, 20};

static void run_delta(int dtype, int family, unsigned flags) {
  double q[DT * DHK * DK], k[DT * DHK * DK], v[DT * DH * DV], beta[DT * DH], g[DT * DH * DK];
  double s0[2 * DH * DV * DK], o[DT * DH * DV], s1[2 * DH * DV * DK];
  float qf[DT * DHK * DK], kf[DT * DHK * DK], vf[DT * DH * DV], betaf[DT * DH], gf[DT * DH * DK],
      s0f[2 * DH * DV * DK], of[DT * DH * DV], s1f[2 * DH * DV * DK];
  int32_t st[3 * DH], worst = -1; /* 3 chunk rows: ceil(17/16) + ceil(3/16) */
  int i, t, h, r, c, n, rc;
  const int fp64 = dtype == TRISCAN_FP64, tr = (flags & TRISCAN_STATE_TRANSPOSED) != 0;
  for (i = 0; i < DT * DHK * DK; ++i) {
    q[i] = (i % 5) - 2;
    k[i] = 0.0;
    qf[i] = (float)q[i];
    kf[i] = 0.0f;
  }
  for (i = 0; i < DT * DH * DV; ++i) {
    v[i] = (i % 7) - 3;
    vf[i] = (float)v[i];
    o[i] = POISON;
    of[i] = (float)POISON;
  }
  for (i = 0; i < DT * DH; ++i) betaf[i] = (float)(beta[i] = 0.5);
  for (i = 0; i < DT * DH * DK; ++i) gf[i] = (float)(g[i] = 0.0);
  for (i = 0; i < 2 * DH * DV * DK; ++i) {
    s0f[i] = (float)(s0[i] = (i % 9) - 4);
    s1[i] = POISON;
    s1f[i] = (float)POISON;
  }
  if (fp64)
    rc = triscan_delta_forward(NULL, dtype, family, 1, DT, DH, DHK, DK, DV, 16, dcu, 3, q, k, v,
                               beta, family == TRISCAN_WY_DELTANET ? NULL : g, s0, o, s1, flags, st,
                               &worst);
  else
    rc = triscan_delta_forward(NULL, dtype, family, 1, DT, DH, DHK, DK, DV, 16, dcu, 3, qf, kf, vf,
                               betaf, family == TRISCAN_WY_DELTANET ? NULL : gf, s0f, of, s1f,
                               flags, st, &worst);
  CHECK(rc == TRISCAN_SUCCESS && worst == TRISCAN_STATUS_OK, "delta %s family %d: rc %d worst %d",
        triscan_dtype_name(dtype), family, rc, worst);
  for (i = 0; i < 3 * DH; ++i) CHECK(st[i] == TRISCAN_STATUS_OK, "delta: status[%d] %d", i, st[i]);
  for (t = 0; t < DT; ++t) {
    n = t < 17 ? 0 : 1;
    for (h = 0; h < DH; ++h)
      for (r = 0; r < DV; ++r) {
        double e = 0.0, got;
        for (c = 0; c < DK; ++c) {
          const int64_t at = ((int64_t)(n * DH + h) * DV + r) * DK + c;
          const int64_t att = ((int64_t)(n * DH + h) * DK + c) * DV + r;
          e += s0[tr ? att : at] * q[t * DK + c];
        }
        got = fp64 ? o[(t * DH + h) * DV + r] : of[(t * DH + h) * DV + r];
        CHECK(got == e, "delta %s family %d flags %u: o[%d,%d,%d] = %g, exact S0 q = %g",
              triscan_dtype_name(dtype), family, flags, t, h, r, got, e);
      }
  }
  for (i = 0; i < 2 * DH * DV * DK; ++i) {
    const double got = fp64 ? s1[i] : s1f[i];
    CHECK(got == s0[i], "delta %s family %d: final state[%d] = %g, exact %g",
          triscan_dtype_name(dtype), family, i, got, s0[i]);
  }
}

static void test_delta_forward(void) {
  int family;
  for (family = TRISCAN_WY_DELTANET; family <= TRISCAN_WY_KDA; ++family) {
    run_delta(TRISCAN_FP64, family, 0u);
    run_delta(TRISCAN_FP32, family, 0u);
    run_delta(TRISCAN_FP64, family, TRISCAN_STATE_TRANSPOSED);
    run_delta(TRISCAN_FP32, family, TRISCAN_STATE_TRANSPOSED | TRISCAN_CUMULATIVE_G);
  }
}

/* ---- scans ----------------------------------------------------------------------------- */

enum { ST = 9, SD = 2 };
static const int64_t scu[4] = {0, 3, 3, 9}; /* an empty sequence in the middle */
static const char* algorithms[] = {NULL, "scan/sequential", "scan/hillis_steele", "scan/blelloch",
                                   "scan/chunked:chunk=2"};

static void run_scan(int kind, int dtype, const char* algorithm) {
  double a[ST * SD * SD], b[ST * SD], h0[3 * SD], h[ST * SD], want[ST * SD];
  float af[ST * SD * SD], bf[ST * SD], h0f[3 * SD], hf[ST * SD];
  int32_t status = -1;
  int n, i, j, s, rc;
  const int fp64 = dtype == TRISCAN_FP64;
  for (n = 0; n < ST; ++n) {
    for (i = 0; i < SD; ++i) {
      b[n * SD + i] = (n * 3 + i) % 5 - 2;
      for (j = 0; j < SD; ++j) /* dense: A_t = [[1, 1], [0, 1]] or the identity */
        a[(n * SD + i) * SD + j] =
            kind == TRISCAN_SCAN_DENSE ? (i == j || (j == i + 1 && n % 2)) : 0.0;
    }
    if (kind == TRISCAN_SCAN_SCALAR) a[n] = 1 + n % 2;
    if (kind == TRISCAN_SCAN_DIAGONAL)
      for (i = 0; i < SD; ++i) a[n * SD + i] = 1 + (n + i) % 2;
    /* log-diagonal: log a = 0 (a = exp(0) = 1 exactly), already 0 */
  }
  for (i = 0; i < 3 * SD; ++i) h0[i] = i - 2;
  for (i = 0; i < ST * SD * SD; ++i) af[i] = (float)a[i];
  for (i = 0; i < ST * SD; ++i) {
    bf[i] = (float)b[i];
    h[i] = POISON;
    hf[i] = (float)POISON;
  }
  for (i = 0; i < 3 * SD; ++i) h0f[i] = (float)h0[i];
  /* the recurrence, exactly (integers) */
  for (s = 0; s < 3; ++s) {
    double cur[SD], nxt[SD];
    for (i = 0; i < SD; ++i) cur[i] = h0[s * SD + i];
    for (n = (int)scu[s]; n < scu[s + 1]; ++n) {
      for (i = 0; i < SD; ++i) {
        double ai = kind == TRISCAN_SCAN_SCALAR     ? a[n]
                    : kind == TRISCAN_SCAN_DIAGONAL ? a[n * SD + i]
                                                    : 1.0;
        nxt[i] = ai * cur[i] + b[n * SD + i];
        if (kind == TRISCAN_SCAN_DENSE) {
          nxt[i] = b[n * SD + i];
          for (j = 0; j < SD; ++j) nxt[i] += a[(n * SD + i) * SD + j] * cur[j];
        }
      }
      for (i = 0; i < SD; ++i) want[n * SD + i] = cur[i] = nxt[i];
    }
  }
  if (fp64)
    rc = triscan_scan(algorithm, dtype, kind, 1, ST, scu, 4, SD, a, b, h0, h, &status);
  else
    rc = triscan_scan(algorithm, dtype, kind, 1, ST, scu, 4, SD, af, bf, h0f, hf, &status);
  CHECK(rc == TRISCAN_SUCCESS && status == TRISCAN_STATUS_OK, "scan kind %d %s %s: rc %d status %d",
        kind, triscan_dtype_name(dtype), algorithm ? algorithm : "(default)", rc, status);
  for (i = 0; i < ST * SD; ++i) {
    const double got = fp64 ? h[i] : hf[i];
    CHECK(got == want[i], "scan kind %d %s %s: h[%d] = %g, exact %g", kind,
          triscan_dtype_name(dtype), algorithm ? algorithm : "(default)", i, got, want[i]);
  }
}

/* beta = 0: every state is the initial one, for every gate (g = 0: exp(0) = 1). */
static void run_scan_delta(int gate, int dtype, const char* algorithm) {
  enum { K = 3, V = 2 };
  double k[ST * K], v[ST * V], beta[ST], g[ST * K], h0[3 * V * K], S[ST * V * K];
  float kf[ST * K], vf[ST * V], betaf[ST], gf[ST * K], h0f[3 * V * K], Sf[ST * V * K];
  int32_t status = -1;
  int i, n, s, rc;
  const int fp64 = dtype == TRISCAN_FP64;
  for (i = 0; i < ST * K; ++i) {
    kf[i] = (float)(k[i] = i % 4 - 1);
    gf[i] = (float)(g[i] = 0.0);
  }
  for (i = 0; i < ST * V; ++i) vf[i] = (float)(v[i] = i % 3 + 1);
  for (i = 0; i < ST; ++i) betaf[i] = (float)(beta[i] = 0.0);
  for (i = 0; i < 3 * V * K; ++i) h0f[i] = (float)(h0[i] = i - 7);
  for (i = 0; i < ST * V * K; ++i) Sf[i] = (float)(S[i] = POISON);
  if (fp64)
    rc = triscan_scan_delta(algorithm, dtype, gate, 1, ST, scu, 4, K, V, k, v, beta,
                            gate ? g : NULL, h0, S, &status);
  else
    rc = triscan_scan_delta(algorithm, dtype, gate, 1, ST, scu, 4, K, V, kf, vf, betaf,
                            gate ? gf : NULL, h0f, Sf, &status);
  CHECK(rc == TRISCAN_SUCCESS && status == TRISCAN_STATUS_OK, "scan_delta gate %d: rc %d status %d",
        gate, rc, status);
  for (s = 0; s < 3; ++s)
    for (n = (int)scu[s]; n < scu[s + 1]; ++n)
      for (i = 0; i < V * K; ++i) {
        const double got = fp64 ? S[n * V * K + i] : Sf[n * V * K + i];
        CHECK(got == h0[s * V * K + i], "scan_delta gate %d %s: S[%d][%d] = %g, exact h0 %g", gate,
              triscan_dtype_name(dtype), n, i, got, h0[s * V * K + i]);
      }
}

static void test_scans(void) {
  int kind, alg, gate;
  for (alg = 0; alg < 5; ++alg) {
    for (kind = TRISCAN_SCAN_SCALAR; kind <= TRISCAN_SCAN_DENSE; ++kind) {
      run_scan(kind, TRISCAN_FP64, algorithms[alg]);
      run_scan(kind, TRISCAN_FP32, algorithms[alg]);
    }
    for (gate = 0; gate < 3; ++gate) {
      run_scan_delta(gate, TRISCAN_FP64, algorithms[alg]);
      run_scan_delta(gate, TRISCAN_FP32, algorithms[alg]);
    }
  }
}

/* ---- argument errors --------------------------------------------------------------------- */

static void test_errors(void) {
  double k[64] = {0}, v[64] = {0}, beta[16] = {0}, W[64], U[64], o[64], h[64];
  double a[16] = {0}, b[16] = {0};
  const int64_t bad_cu[3] = {0, 3, 5};
  int32_t worst = -7;
#define WY(method, dtype, family, BT, kp, Wp, flags)                                              \
  triscan_chunk_wy(method, dtype, family, 1, 4, 1, 0, 2, 2, BT, NULL, 0, kp, v, beta, NULL, NULL, \
                   NULL, Wp, U, NULL, NULL, flags, NULL, &worst)
  CHECK_ERROR(WY(NULL, TRISCAN_FP64, 9, 4, k, W, 0u), TRISCAN_ERROR_INVALID_ARGUMENT, "family");
  CHECK_ERROR(WY(NULL, TRISCAN_BF16, 0, 4, k, W, 0u), TRISCAN_ERROR_INVALID_DTYPE, "bf16");
  CHECK_ERROR(WY("trinv/nope", TRISCAN_FP64, 0, 4, k, W, 0u), TRISCAN_ERROR_INVALID_METHOD,
              "trinv/nope");
  CHECK_ERROR(WY("trinv/forward_substitution:bogus=1", TRISCAN_FP64, 0, 4, k, W, 0u),
              TRISCAN_ERROR_INVALID_METHOD, "bogus");
  CHECK_ERROR(WY(NULL, TRISCAN_FP64, 0, 0, k, W, 0u), TRISCAN_ERROR_INVALID_ARGUMENT, "BT");
  CHECK_ERROR(WY(NULL, TRISCAN_FP64, 0, 4, NULL, W, 0u), TRISCAN_ERROR_INVALID_ARGUMENT,
              "k is null");
  CHECK_ERROR(WY(NULL, TRISCAN_FP64, 0, 4, k, NULL, 0u), TRISCAN_ERROR_INVALID_ARGUMENT, "W");
  CHECK_ERROR(WY(NULL, TRISCAN_FP64, 1, 4, k, W, 0u), TRISCAN_ERROR_INVALID_ARGUMENT, "g is null");
  CHECK_ERROR(WY(NULL, TRISCAN_FP64, 0, 4, k, W, TRISCAN_NON_UNIT_DIAGONAL),
              TRISCAN_ERROR_INVALID_ARGUMENT, "flags");
  CHECK_ERROR(triscan_chunk_wy(NULL, TRISCAN_FP64, 0, 1, 4, 3, 2, 2, 2, 4, NULL, 0, k, v, beta,
                               NULL, NULL, NULL, W, U, NULL, NULL, 0u, NULL, &worst),
              TRISCAN_ERROR_INVALID_ARGUMENT, "key_heads");
  CHECK_ERROR(triscan_chunk_wy(NULL, TRISCAN_FP64, 0, 1, 4, 1, 0, 2, 2, 4, bad_cu, 3, k, v, beta,
                               NULL, NULL, NULL, W, U, NULL, NULL, 0u, NULL, &worst),
              TRISCAN_ERROR_INVALID_ARGUMENT, "cu_seqlens");
  CHECK_ERROR(triscan_chunk_wy(NULL, TRISCAN_FP64, 0, 1, 4, 1, 0, 2, 2, 4, NULL, 0, k, v, beta,
                               NULL, NULL, NULL, W, U, NULL, W + 2, 0u, NULL, &worst),
              TRISCAN_ERROR_INVALID_ARGUMENT, "Ainv overlaps W");
  CHECK(worst == -7, "a failed call wrote *worst_status (%d)", worst);
#undef WY
#define DF(dtype, family, BT, q, initial, flags)                                                 \
  triscan_delta_forward(NULL, dtype, family, 1, 4, 1, 0, 2, 2, BT, NULL, 0, q, k, v, beta, NULL, \
                        initial, o, NULL, flags, NULL, &worst)
  CHECK_ERROR(DF(TRISCAN_FP64, TRISCAN_WY_DPLR, 16, k, NULL, 0u), TRISCAN_ERROR_INVALID_ARGUMENT,
              "dplr");
  CHECK_ERROR(DF(TRISCAN_FP64, 0, 8, k, NULL, 0u), TRISCAN_ERROR_INVALID_ARGUMENT, "BT");
  CHECK_ERROR(DF(TRISCAN_FP64, 0, 16, NULL, NULL, 0u), TRISCAN_ERROR_INVALID_ARGUMENT, "q is null");
  CHECK_ERROR(DF(7, 0, 16, k, NULL, 0u), TRISCAN_ERROR_INVALID_DTYPE, "dtype");
  CHECK_ERROR(DF(TRISCAN_FP64, 0, 16, k, NULL, 64u), TRISCAN_ERROR_INVALID_ARGUMENT, "flags");
  CHECK(worst == -7, "a failed call wrote *worst_status (%d)", worst);
#undef DF
  CHECK_ERROR(triscan_scan(NULL, TRISCAN_FP64, 9, 1, 4, NULL, 0, 2, a, b, NULL, h, NULL),
              TRISCAN_ERROR_INVALID_ARGUMENT, "kind");
  CHECK_ERROR(
      triscan_scan(NULL, TRISCAN_FP64, TRISCAN_SCAN_DELTA, 1, 4, NULL, 0, 2, a, b, NULL, h, NULL),
      TRISCAN_ERROR_INVALID_ARGUMENT, "triscan_scan_delta");
  CHECK_ERROR(triscan_scan("scan/nope", TRISCAN_FP64, 1, 1, 4, NULL, 0, 2, a, b, NULL, h, NULL),
              TRISCAN_ERROR_INVALID_METHOD, "scan/nope");
  CHECK_ERROR(
      triscan_scan("scan/chunked:chunk=0", TRISCAN_FP64, 1, 1, 4, NULL, 0, 2, a, b, NULL, h, NULL),
      TRISCAN_ERROR_INVALID_METHOD, "chunk");
  CHECK_ERROR(triscan_scan(NULL, TRISCAN_FP64, 1, 1, 4, NULL, 0, 2, NULL, b, NULL, h, NULL),
              TRISCAN_ERROR_INVALID_ARGUMENT, "'a'");
  CHECK_ERROR(triscan_scan(NULL, TRISCAN_FP64, 1, 1, 4, NULL, 0, 2, a, b, NULL, NULL, NULL),
              TRISCAN_ERROR_INVALID_ARGUMENT, "'h'");
  CHECK_ERROR(triscan_scan(NULL, TRISCAN_FP64, 1, 1, 4, NULL, 0, 0, a, b, NULL, h, NULL),
              TRISCAN_ERROR_INVALID_ARGUMENT, "dim");
  CHECK_ERROR(triscan_scan(NULL, TRISCAN_FP64, 1, 1, 4, bad_cu, 3, 2, a, b, NULL, h, NULL),
              TRISCAN_ERROR_INVALID_ARGUMENT, "cu_seqlens");
  CHECK_ERROR(triscan_scan(NULL, TRISCAN_FP16, 1, 1, 4, NULL, 0, 2, a, b, NULL, h, NULL),
              TRISCAN_ERROR_INVALID_DTYPE, "fp16");
  CHECK_ERROR(triscan_scan_delta(NULL, TRISCAN_FP64, 3, 1, 4, NULL, 0, 2, 2, k, v, beta, NULL, NULL,
                                 h, NULL),
              TRISCAN_ERROR_INVALID_ARGUMENT, "gate");
  CHECK_ERROR(triscan_scan_delta(NULL, TRISCAN_FP64, 1, 1, 4, NULL, 0, 2, 2, k, v, beta, NULL, NULL,
                                 h, NULL),
              TRISCAN_ERROR_INVALID_ARGUMENT, "'g'");
}

/* NaN input is a status, not an error. */
static void test_nan_status(void) {
  double a[4] = {1, 1, 1, 1}, b[4] = {1, NAN, 1, 1}, h[4];
  int32_t status = -1;
  int rc = triscan_scan(NULL, TRISCAN_FP64, TRISCAN_SCAN_SCALAR, 1, 4, NULL, 0, 1, a, b, NULL, h,
                        &status);
  CHECK(rc == TRISCAN_SUCCESS && status == TRISCAN_STATUS_NONFINITE_INPUT,
        "NaN scan: rc %d status %d", rc, status);
}

/* No tokens: nothing to read, so NULL data pointers are fine and the status is ok. */
static void test_empty(void) {
  int32_t status = -1, worst = -1;
  int64_t cu[2] = {0, 0};
  CHECK(triscan_scan(NULL, TRISCAN_FP32, TRISCAN_SCAN_DENSE, 3, 0, NULL, 0, 2, NULL, NULL, NULL,
                     NULL, &status) == TRISCAN_SUCCESS &&
            status == TRISCAN_STATUS_OK,
        "empty scan: status %d", status);
  CHECK(triscan_scan_delta(NULL, TRISCAN_FP64, 1, 1, 0, cu, 2, 2, 2, NULL, NULL, NULL, NULL, NULL,
                           NULL, &status) == TRISCAN_SUCCESS,
        "empty delta scan");
  CHECK(triscan_chunk_wy(NULL, TRISCAN_FP64, TRISCAN_WY_GATED, 1, 0, 2, 0, 4, 4, 16, NULL, 0, NULL,
                         NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0u, NULL,
                         &worst) == TRISCAN_SUCCESS &&
            worst == TRISCAN_STATUS_OK,
        "empty chunk WY: worst %d", worst);
}

int main(void) {
  test_chunk_wy();
  test_delta_forward();
  test_scans();
  test_errors();
  test_nan_status();
  test_empty();
  if (failures) {
    fprintf(stderr, "test_capi_linear_c: %d check(s) failed\n", failures);
    return 1;
  }
  printf("test_capi_linear_c: all checks passed\n");
  return 0;
}
