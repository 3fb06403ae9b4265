/* tests/capi/test_capi.c — the C API (include/triscan/triscan.h) used from C99.
 *
 * Accuracy is checked against inverses known exactly in closed form, with inputs whose
 * every intermediate of forward substitution is a small integer (or a power of two
 * times one), so every floating-point operation is exact and the bound of Higham, ASNA
 * 2nd ed., Thm 8.5 (|X - L^-1| <= gamma_n |L^-1||L||X|, gamma_n = nu/(1-nu)) is attained
 * with zero rounding error: the computed inverse must equal the exact one bit for bit.
 *   N = all ones strictly below the diagonal:  (I + N)^-1 = I - S   (S = subdiagonal shift)
 *   N = -2 on the subdiagonal only:           (I + N)^-1 = sum_k 2^k S^k (entry 2^(i-j))
 *   L = 2 I - 2 S (non-unit):                  L^-1 = 1/2 * (all ones on and below the diagonal)
 * Each failure prints the case, layout, dtype and entry. Exits 1 on any failure. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "capi_check.h"
#include "triscan/triscan.h"

#define MAXN 16
#define POISON 12345.0

/* Exact inverses of the three test matrices (see the top of the file). */
static double ones_inverse(int i, int j) {
  return i == j ? 1.0 : (i == j + 1 ? -1.0 : 0.0);
}
static double pow2_inverse(int i, int j) {
  return i >= j ? ldexp(1.0, i - j) : 0.0;
}
static double nonunit_inverse(int i, int j) {
  return i >= j ? 0.5 : 0.0;
}

static void test_names(void) {
  int major = -1, minor = -1, patch = -1, code;
  char expected[64];
  triscan_version_numbers(&major, &minor, &patch);
  CHECK(major == TRISCAN_VERSION_MAJOR && minor == TRISCAN_VERSION_MINOR &&
            patch == TRISCAN_VERSION_PATCH,
        "library %d.%d.%d vs header %d.%d.%d", major, minor, patch, TRISCAN_VERSION_MAJOR,
        TRISCAN_VERSION_MINOR, TRISCAN_VERSION_PATCH);
  snprintf(expected, sizeof expected, "%d.%d.%d", TRISCAN_VERSION_MAJOR, TRISCAN_VERSION_MINOR,
           TRISCAN_VERSION_PATCH);
  CHECK(strcmp(triscan_version(), expected) == 0, "version '%s' vs '%s'", triscan_version(),
        expected);
  for (code = TRISCAN_SUCCESS; code <= TRISCAN_ERROR_INTERNAL; ++code) {
    CHECK(strcmp(triscan_error_message(code), "unknown error code") != 0, "code %d has no message",
          code);
    if (code > 0)
      CHECK(strcmp(triscan_error_message(code), triscan_error_message(code - 1)) != 0,
            "codes %d and %d share a message", code, code - 1);
  }
  CHECK(strcmp(triscan_error_message(999), "unknown error code") == 0, "code 999");
  CHECK(strcmp(triscan_status_name(TRISCAN_STATUS_OK), "ok") == 0, "ok");
  CHECK(strcmp(triscan_status_name(TRISCAN_STATUS_NONFINITE_INPUT), "nonfinite_input") == 0,
        "nonfinite_input");
  CHECK(strcmp(triscan_status_name(TRISCAN_STATUS_UNSUPPORTED), "unsupported") == 0, "unsupported");
  CHECK(triscan_status_name(7) == NULL && triscan_status_name(-1) == NULL,
        "out-of-range status names");
  CHECK(strcmp(triscan_dtype_name(TRISCAN_FP64), "fp64") == 0 &&
            strcmp(triscan_dtype_name(TRISCAN_BF16), "bf16") == 0,
        "dtype names");
  CHECK(triscan_dtype_name(4) == NULL, "dtype 4");
}

/* Writes the test matrix `kind` (0: ones, 1: -2 subdiagonal, 2: non-unit) of size n into
 * a strided buffer; the entries that must not be read (upper part, and the diagonal
 * of unit matrices) hold NaN to prove it. */
static void fill_matrix(double* a, int kind, int n, int64_t rs, int64_t cs) {
  int i, j;
  for (i = 0; i < n; ++i)
    for (j = 0; j < n; ++j) {
      double v = NAN;
      if (i > j) v = kind == 0 ? 1.0 : (i == j + 1 ? -2.0 : 0.0);
      if (kind == 2 && i >= j) v = i == j ? 2.0 : (i == j + 1 ? -2.0 : 0.0);
      a[i * rs + j * cs] = v;
    }
}

static double expected_entry(int kind, int i, int j) {
  return kind == 0 ? ones_inverse(i, j) : kind == 1 ? pow2_inverse(i, j) : nonunit_inverse(i, j);
}

/* A batch of `count` matrices of size n under the given strides, in fp64 and fp32. */
static void test_batch_exact(int kind, int count, int n, int64_t bs, int64_t rs, int64_t cs,
                             const char* layout) {
  static double a[4 * MAXN * MAXN * 2], x[4 * MAXN * MAXN * 2];
  static float af[4 * MAXN * MAXN * 2], xf[4 * MAXN * MAXN * 2];
  int32_t statuses[4], worst = -1;
  const unsigned flags = kind == 2 ? TRISCAN_NON_UNIT_DIAGONAL : 0u;
  const size_t total = sizeof a / sizeof a[0];
  size_t k;
  int b, i, j, rc;
  for (k = 0; k < total; ++k) a[k] = x[k] = POISON;
  for (b = 0; b < count; ++b) fill_matrix(a + b * bs, kind, n, rs, cs);
  for (k = 0; k < total; ++k) {
    af[k] = (float)a[k];
    xf[k] = (float)POISON;
  }
  rc = triscan_invert_batch(NULL, TRISCAN_FP64, count, n, a, bs, rs, cs, x, bs, rs, cs, flags,
                            statuses, &worst);
  CHECK(rc == TRISCAN_SUCCESS, "fp64 %s kind %d: rc %d", layout, kind, rc);
  rc = triscan_invert_batch("trinv/forward_substitution", TRISCAN_FP32, count, n, af, bs, rs, cs,
                            xf, bs, rs, cs, flags, NULL, NULL);
  CHECK(rc == TRISCAN_SUCCESS, "fp32 %s kind %d: rc %d", layout, kind, rc);
  CHECK(worst == TRISCAN_STATUS_OK, "fp64 %s kind %d: worst status %d", layout, kind, worst);
  for (b = 0; b < count; ++b) {
    CHECK(statuses[b] == TRISCAN_STATUS_OK, "fp64 %s kind %d matrix %d: status %d", layout, kind, b,
          statuses[b]);
    for (i = 0; i < n; ++i)
      for (j = 0; j < n; ++j) {
        const int64_t at = b * bs + i * rs + j * cs;
        const double e = expected_entry(kind, i, j);
        CHECK(x[at] == e, "fp64 %s kind %d n %d matrix %d (%d,%d): %g, exact %g", layout, kind, n,
              b, i, j, x[at], e);
        CHECK(xf[at] == (float)e, "fp32 %s kind %d n %d matrix %d (%d,%d): %g, exact %g", layout,
              kind, n, b, i, j, (double)xf[at], e);
      }
  }
  /* Nothing outside the matrices is written (the padding between them keeps POISON). */
  for (k = 0; k < total; ++k) {
    int inside = 0;
    for (b = 0; b < count && !inside; ++b)
      for (i = 0; i < n && !inside; ++i)
        for (j = 0; j < n && !inside; ++j) inside = (size_t)(b * bs + i * rs + j * cs) == k;
    if (!inside)
      CHECK(x[k] == POISON && xf[k] == (float)POISON,
            "%s: element %zu outside the matrices written", layout, k);
  }
}

static void test_batch_layouts(void) {
  int kind;
  for (kind = 0; kind < 3; ++kind) {
    test_batch_exact(kind, 3, 8, 64, 8, 1, "row-major contiguous");
    test_batch_exact(kind, 3, 8, 64, 1, 8, "column-major contiguous");
    test_batch_exact(kind, 2, 7, 7 * 9 + 5, 9, 1,
                     "row-major padded (row stride 9, batch stride 68)");
    test_batch_exact(kind, 3, 5, 5 * 7 + 3, 1, 7,
                     "column-major padded (leading dimension 7, batch stride 38)");
  }
  test_batch_exact(1, 1, 16, 256, 16, 1, "one 16x16 matrix, entries up to 2^15");
}

/* The chunk layout: every chunk matrix is N = ones below the diagonal, with NaN in the
 * diagonal, the upper part and beyond a partial chunk's columns (never read). */
static void test_chunks(const int64_t* cu, int64_t cu_len, int64_t B, int64_t T, int64_t H,
                        int64_t BT, int64_t expected_rows, const char* layout) {
  static float a[2 * 48 * 3 * 16], x[2 * 48 * 3 * 16];
  static int32_t statuses[64];
  int64_t rows = -1, b, t, h, j, s;
  int32_t worst = -1;
  int rc;
  const int64_t nseq = cu ? cu_len - 1 : B;
  const int64_t size = B * T * H * BT;
  for (b = 0; b < size; ++b) {
    a[b] = NAN;
    x[b] = (float)POISON;
  }
  rc = triscan_chunk_rows(B, T, BT, cu, cu_len, &rows);
  CHECK(rc == TRISCAN_SUCCESS && rows == expected_rows, "%s: chunk_rows %lld, expected %lld",
        layout, (long long)rows, (long long)expected_rows);
  /* Fill: row t of sequence s's chunk starting at c0 gets ones in columns j < t - c0. */
  for (s = 0; s < nseq; ++s) {
    const int64_t bb = cu ? 0 : s, bos = cu ? cu[s] : 0, eos = cu ? cu[s + 1] : T;
    for (t = bos; t < eos; ++t)
      for (h = 0; h < H; ++h)
        for (j = 0; j < (t - bos) % BT; ++j) a[((bb * T + t) * H + h) * BT + j] = 1.0f;
  }
  rc = triscan_invert_chunks(NULL, TRISCAN_FP32, B, T, H, BT, cu, cu_len, a, x, 0u, statuses,
                             &worst);
  CHECK(rc == TRISCAN_SUCCESS, "%s: rc %d", layout, rc);
  CHECK(worst == TRISCAN_STATUS_OK, "%s: worst status %d", layout, worst);
  for (b = 0; b < rows * H; ++b)
    CHECK(statuses[b] == TRISCAN_STATUS_OK, "%s: status[%lld] = %d", layout, (long long)b,
          statuses[b]);
  for (s = 0; s < nseq; ++s) {
    const int64_t bb = cu ? 0 : s, bos = cu ? cu[s] : 0, eos = cu ? cu[s + 1] : T;
    for (t = bos; t < eos; ++t) {
      const int64_t c0 = bos + (t - bos) / BT * BT, m = (eos - c0 < BT) ? eos - c0 : BT;
      for (h = 0; h < H; ++h)
        for (j = 0; j < BT; ++j) {
          const float got = x[((bb * T + t) * H + h) * BT + j];
          const float want = j < m ? (float)ones_inverse((int)(t - c0), (int)j) : (float)POISON;
          CHECK(got == want, "%s: sequence %lld token %lld head %lld column %lld: %g, expected %g",
                layout, (long long)s, (long long)t, (long long)h, (long long)j, (double)got,
                (double)want);
        }
    }
  }
}

static void test_chunk_layouts(void) {
  const int64_t cu[] = {0, 5, 40};
  test_chunks(NULL, 0, 2, 40, 3, 16, 2 * 3, "[2, 40, 3, 16] (partial last chunk of 8)");
  test_chunks(cu, 3, 1, 40, 3, 16, 1 + 3, "varlen cu_seqlens {0, 5, 40}, BT 16");
  test_chunks(NULL, 0, 1, 48, 2, 16, 3, "[1, 48, 2, 16] (full chunks)");
}

/* NaN in the strictly lower part is a status, not an error; other matrices are fine. */
static void test_nan_status(void) {
  double a[3 * 16], x[3 * 16];
  int32_t statuses[3] = {-1, -1, -1}, worst = -1;
  int b, rc;
  for (b = 0; b < 3; ++b) fill_matrix(a + 16 * b, 0, 4, 4, 1);
  a[16 + 2 * 4 + 1] = NAN; /* matrix 1, entry (2, 1) */
  rc = triscan_invert_batch(NULL, TRISCAN_FP64, 3, 4, a, 16, 4, 1, x, 16, 4, 1, 0u, statuses,
                            &worst);
  CHECK(rc == TRISCAN_SUCCESS, "NaN input: rc %d", rc);
  CHECK(statuses[0] == TRISCAN_STATUS_OK && statuses[2] == TRISCAN_STATUS_OK,
        "NaN input: clean matrices %d %d", statuses[0], statuses[2]);
  CHECK(statuses[1] == TRISCAN_STATUS_NONFINITE_INPUT, "NaN input: status %d (%s)", statuses[1],
        triscan_status_name(statuses[1]));
  CHECK(worst == TRISCAN_STATUS_NONFINITE_INPUT, "NaN input: worst %d", worst);
}

static void test_errors(void) {
  double a[64], x[64];
  float af[64];
  const int64_t cu_bad[] = {0, 5, 30}, cu_ok[] = {0, 5, 40};
  int64_t rows;
  int32_t worst = 77;
  int k;
  for (k = 0; k < 64; ++k) {
    a[k] = 0.0;
    x[k] = POISON;
    af[k] = 0.0f;
  }
  CHECK_ERROR(
      triscan_invert_batch(NULL, TRISCAN_FP64, 1, 4, NULL, 16, 4, 1, x, 16, 4, 1, 0u, NULL, &worst),
      TRISCAN_ERROR_INVALID_ARGUMENT, "A is NULL");
  CHECK_ERROR(
      triscan_invert_batch(NULL, TRISCAN_FP64, 1, 4, a, 16, 4, 1, NULL, 16, 4, 1, 0u, NULL, &worst),
      TRISCAN_ERROR_INVALID_ARGUMENT, "X is NULL");
  CHECK_ERROR(
      triscan_invert_batch(NULL, TRISCAN_FP64, 1, 0, a, 16, 4, 1, x, 16, 4, 1, 0u, NULL, &worst),
      TRISCAN_ERROR_INVALID_ARGUMENT, "n must be >= 1");
  CHECK_ERROR(
      triscan_invert_batch(NULL, TRISCAN_FP64, 1, -3, a, 16, 4, 1, x, 16, 4, 1, 0u, NULL, &worst),
      TRISCAN_ERROR_INVALID_ARGUMENT, "n must be >= 1");
  CHECK_ERROR(
      triscan_invert_batch(NULL, TRISCAN_FP64, -1, 4, a, 16, 4, 1, x, 16, 4, 1, 0u, NULL, &worst),
      TRISCAN_ERROR_INVALID_ARGUMENT, "count");
  /* strides: aliasing entries in A, in X, and matrices overlapping in a batch */
  CHECK_ERROR(
      triscan_invert_batch(NULL, TRISCAN_FP64, 1, 4, a, 16, 0, 0, x, 16, 4, 1, 0u, NULL, &worst),
      TRISCAN_ERROR_INVALID_ARGUMENT, "A");
  CHECK_ERROR(
      triscan_invert_batch(NULL, TRISCAN_FP64, 1, 4, a, 16, 4, 1, x, 16, 2, 1, 0u, NULL, &worst),
      TRISCAN_ERROR_INVALID_ARGUMENT, "X");
  CHECK_ERROR(
      triscan_invert_batch(NULL, TRISCAN_FP64, 2, 4, a, 8, 4, 1, x, 16, 4, 1, 0u, NULL, &worst),
      TRISCAN_ERROR_INVALID_ARGUMENT, "batch stride");
  /* interleaved matrices ([n, count, n]) are not accepted: matrices may not interleave */
  CHECK_ERROR(
      triscan_invert_batch(NULL, TRISCAN_FP64, 2, 4, a, 4, 8, 1, x, 16, 4, 1, 0u, NULL, &worst),
      TRISCAN_ERROR_INVALID_ARGUMENT, "batch stride");
  CHECK_ERROR(
      triscan_invert_batch(NULL, TRISCAN_FP64, 1, 4, a, 16, 4, 1, a, 16, 4, 1, 0u, NULL, &worst),
      TRISCAN_ERROR_INVALID_ARGUMENT, "overlaps");
  /* methods */
  CHECK_ERROR(triscan_invert_batch("trinv/no_such_method", TRISCAN_FP64, 1, 4, a, 16, 4, 1, x, 16,
                                   4, 1, 0u, NULL, &worst),
              TRISCAN_ERROR_INVALID_METHOD, "trinv/no_such_method");
  CHECK_ERROR(triscan_invert_batch("trinv/forward_substitution:iters", TRISCAN_FP64, 1, 4, a, 16, 4,
                                   1, x, 16, 4, 1, 0u, NULL, &worst),
              TRISCAN_ERROR_INVALID_METHOD, "iters");
  CHECK_ERROR(triscan_invert_batch("trinv/forward_substitution:bogus=1", TRISCAN_FP64, 1, 4, a, 16,
                                   4, 1, x, 16, 4, 1, 0u, NULL, &worst),
              TRISCAN_ERROR_INVALID_METHOD, "bogus");
  CHECK_ERROR(
      triscan_invert_chunks("", TRISCAN_FP32, 1, 16, 1, 16, NULL, 0, af, af, 0u, NULL, &worst),
      TRISCAN_ERROR_INVALID_METHOD, "method");
  /* dtypes and flags */
  CHECK_ERROR(triscan_invert_batch(NULL, 99, 1, 4, a, 16, 4, 1, x, 16, 4, 1, 0u, NULL, &worst),
              TRISCAN_ERROR_INVALID_DTYPE, "99");
  CHECK_ERROR(
      triscan_invert_batch(NULL, TRISCAN_BF16, 1, 4, a, 16, 4, 1, x, 16, 4, 1, 0u, NULL, &worst),
      TRISCAN_ERROR_INVALID_DTYPE, "bf16");
  CHECK_ERROR(
      triscan_invert_batch(NULL, TRISCAN_FP64, 1, 4, a, 16, 4, 1, x, 16, 4, 1, 64u, NULL, &worst),
      TRISCAN_ERROR_INVALID_ARGUMENT, "flags");
  /* the chunk layout */
  CHECK_ERROR(triscan_invert_chunks(NULL, TRISCAN_FP32, 1, 40, 1, 16, cu_bad, 3, af, NULL, 0u, NULL,
                                    &worst),
              TRISCAN_ERROR_INVALID_ARGUMENT, "cu_seqlens");
  CHECK_ERROR(
      triscan_invert_chunks(NULL, TRISCAN_FP32, 2, 40, 1, 16, cu_ok, 3, af, NULL, 0u, NULL, &worst),
      TRISCAN_ERROR_INVALID_ARGUMENT, "B");
  CHECK_ERROR(
      triscan_invert_chunks(NULL, TRISCAN_FP32, 1, 40, 1, 16, NULL, 3, af, NULL, 0u, NULL, &worst),
      TRISCAN_ERROR_INVALID_ARGUMENT, "cu_seqlens is NULL");
  CHECK_ERROR(
      triscan_invert_chunks(NULL, TRISCAN_FP32, 1, 16, 0, 16, NULL, 0, af, NULL, 0u, NULL, &worst),
      TRISCAN_ERROR_INVALID_ARGUMENT, "H");
  CHECK_ERROR(
      triscan_invert_chunks(NULL, TRISCAN_FP32, 1, 16, 1, 0, NULL, 0, af, NULL, 0u, NULL, &worst),
      TRISCAN_ERROR_INVALID_ARGUMENT, "BT");
  CHECK_ERROR(
      triscan_invert_chunks(NULL, TRISCAN_FP32, 1, 16, 1, 16, NULL, 0, af, NULL, 0u, NULL, &worst),
      TRISCAN_ERROR_INVALID_ARGUMENT, "X is NULL");
  CHECK_ERROR(triscan_invert_chunks(NULL, TRISCAN_FP32, 1, 16, 1, 16, NULL, 0, af, af + 16,
                                    TRISCAN_NON_UNIT_DIAGONAL, NULL, &worst),
              TRISCAN_ERROR_INVALID_ARGUMENT, "TRISCAN_NON_UNIT_DIAGONAL");
  CHECK_ERROR(triscan_chunk_rows(1, 16, 16, NULL, 0, NULL), TRISCAN_ERROR_INVALID_ARGUMENT,
              "chunk_rows is NULL");
  CHECK_ERROR(triscan_chunk_rows(1, -1, 16, NULL, 0, &rows), TRISCAN_ERROR_INVALID_ARGUMENT, "T");
  CHECK_ERROR(triscan_set_cpu_threads(-1), TRISCAN_ERROR_INVALID_ARGUMENT, "threads");
  /* On an error nothing is written. */
  CHECK(worst == 77, "worst_status written on an error: %d", worst);
  for (k = 0; k < 64; ++k) CHECK(x[k] == POISON, "X[%d] written on an error", k);
  /* An empty batch is not an error. */
  CHECK(triscan_invert_batch(NULL, TRISCAN_FP64, 0, 4, NULL, 16, 4, 1, NULL, 16, 4, 1, 0u, NULL,
                             &worst) == TRISCAN_SUCCESS &&
            worst == TRISCAN_STATUS_OK,
        "empty batch");
}

/* Threads: results never depend on the worker count. */
static void test_threads(void) {
  CHECK(triscan_set_cpu_threads(1) == TRISCAN_SUCCESS, "set 1 thread");
  test_batch_exact(1, 4, 6, 36, 6, 1, "row-major, 1 thread");
  CHECK(triscan_set_cpu_threads(0) == TRISCAN_SUCCESS, "set all threads");
}

/* The GPU entry points answer cleanly whatever the build and machine: without CUDA
 * "not compiled"; with CUDA but no device "no device" (after the host-side argument
 * checks). With a device present, only host-side checks run here (tests/gpu and
 * bench/fla_dropin.py exercise the kernels). */
static void test_gpu_entry(void) {
  float host[256];
  int32_t flag;
  const int compiled = triscan_gpu_compiled();
  const int available = triscan_gpu_available();
  printf("test_capi_c: GPU functions %s; device: %s\n", compiled ? "compiled" : "not compiled",
         available == TRISCAN_SUCCESS ? "usable" : triscan_last_error());
  if (!compiled) {
    CHECK(available == TRISCAN_ERROR_NOT_COMPILED, "available %d", available);
    CHECK_ERROR(triscan_gpu_invert_chunks(NULL, 1, 64, 1, 64, NULL, 0, TRISCAN_FP32, host,
                                          TRISCAN_FP32, host, NULL, &flag, NULL),
                TRISCAN_ERROR_NOT_COMPILED, "not compiled");
    CHECK_ERROR(triscan_gpu_invert_batch(NULL, 1, 16, 256, 16, TRISCAN_FP32, host, TRISCAN_FP32,
                                         host, NULL, &flag, NULL),
                TRISCAN_ERROR_NOT_COMPILED, "not compiled");
    CHECK_ERROR(triscan_gpu_scan(NULL, TRISCAN_SCAN_DIAGONAL, 1, 64, NULL, 0, 4, TRISCAN_FP32, host,
                                 host, NULL, TRISCAN_FP32, host, NULL, NULL, &flag, NULL),
                TRISCAN_ERROR_NOT_COMPILED, "not compiled");
    CHECK_ERROR(triscan_gpu_chunk_wy(TRISCAN_WY_DELTANET, 1, 64, 1, 0, 64, 64, 64, NULL, 0, TRISCAN_BF16,
                                     host, host, host, NULL, TRISCAN_BF16, host, host, NULL, 0u, NULL,
                                     &flag, NULL),
                TRISCAN_ERROR_NOT_COMPILED, "not compiled");
    CHECK(strcmp(triscan_gpu_methods(), "") == 0, "methods without CUDA: '%s'",
          triscan_gpu_methods());
    return;
  }
  CHECK(available == TRISCAN_SUCCESS || available == TRISCAN_ERROR_NO_DEVICE, "available %d",
        available);
  CHECK(strstr(triscan_gpu_methods(), "trinv/forward_substitution\n") != NULL, "methods '%s'",
        triscan_gpu_methods());
  CHECK_ERROR(triscan_gpu_invert_chunks(NULL, 1, 64, 1, 64, NULL, 0, TRISCAN_FP64, host,
                                        TRISCAN_FP32, host, NULL, &flag, NULL),
              TRISCAN_ERROR_INVALID_DTYPE, "fp64");
  CHECK_ERROR(triscan_gpu_invert_chunks(NULL, 1, 64, 1, 64, NULL, 0, TRISCAN_FP32, host, 7, host,
                                        NULL, &flag, NULL),
              TRISCAN_ERROR_INVALID_DTYPE, "out_dtype");
  CHECK_ERROR(triscan_gpu_invert_chunks("trinv/newton_schulz", 1, 64, 1, 64, NULL, 0, TRISCAN_FP32,
                                        host, TRISCAN_FP32, host, NULL, &flag, NULL),
              TRISCAN_ERROR_INVALID_METHOD, "no GPU kernel");
  /* The GPU-only keys of trinv/recursive_merge pass (checked as gpu::invert checks them);
   * a bad value, or a key on a method that takes none, does not. */
  CHECK_ERROR(triscan_gpu_invert_chunks("trinv/recursive_merge:mma=int8", 1, 64, 1, 64, NULL, 0,
                                        TRISCAN_FP32, host, TRISCAN_FP32, host, NULL, &flag, NULL),
              TRISCAN_ERROR_INVALID_METHOD, "mma");
  CHECK_ERROR(triscan_gpu_invert_chunks("trinv/forward_substitution:mma=bf16", 1, 64, 1, 64, NULL, 0,
                                        TRISCAN_FP32, host, TRISCAN_FP32, host, NULL, &flag, NULL),
              TRISCAN_ERROR_INVALID_METHOD, "mma");
  CHECK_ERROR(triscan_gpu_invert_batch("trinv/recursive_merge:mma=bf16,tau=1e-3,check=0", 1, 16, 256,
                                       16, TRISCAN_FP32, host, TRISCAN_FP32, host, NULL, &flag, NULL),
              TRISCAN_ERROR_INVALID_METHOD, "tau");
  CHECK_ERROR(triscan_gpu_invert_chunks(NULL, 1, 48, 1, 48, NULL, 0, TRISCAN_FP32, host,
                                        TRISCAN_FP32, host, NULL, &flag, NULL),
              TRISCAN_ERROR_UNSUPPORTED, "BT");
  CHECK_ERROR(triscan_gpu_invert_batch(NULL, 1, 0, 256, 16, TRISCAN_FP32, host, TRISCAN_FP32, host,
                                       NULL, &flag, NULL),
              TRISCAN_ERROR_INVALID_ARGUMENT, "n must be >= 1");
  CHECK_ERROR(triscan_gpu_invert_batch(NULL, 1, 129, 129 * 132, 132, TRISCAN_FP32, host,
                                       TRISCAN_FP32, host, NULL, &flag, NULL),
              TRISCAN_ERROR_UNSUPPORTED, "128");
  CHECK_ERROR(triscan_gpu_invert_batch(NULL, 1, 16, 256, 16, TRISCAN_FP32, NULL, TRISCAN_FP32, host,
                                       NULL, &flag, NULL),
              TRISCAN_ERROR_INVALID_ARGUMENT, "A is NULL");
  if (available == TRISCAN_ERROR_NO_DEVICE) {
    CHECK_ERROR(triscan_gpu_invert_chunks(NULL, 1, 64, 1, 64, NULL, 0, TRISCAN_FP32, host,
                                          TRISCAN_FP32, host, NULL, &flag, NULL),
                TRISCAN_ERROR_NO_DEVICE, "no usable CUDA device");
    /* valid keys get as far as the device check */
    CHECK_ERROR(triscan_gpu_invert_chunks("trinv/recursive_merge:mma=bf16,check=0", 1, 64, 1, 64,
                                          NULL, 0, TRISCAN_FP32, host, TRISCAN_FP32, host, NULL,
                                          &flag, NULL),
                TRISCAN_ERROR_NO_DEVICE, "no usable CUDA device");
  }
}

int main(void) {
  test_names();
  test_batch_layouts();
  test_chunk_layouts();
  test_nan_status();
  test_errors();
  test_threads();
  test_gpu_entry();
  if (failures) {
    fprintf(stderr, "test_capi_c: %d check(s) failed\n", failures);
    return 1;
  }
  printf("test_capi_c: all checks passed\n");
  return 0;
}
