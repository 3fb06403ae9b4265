/* A C user's program: includes the installed triscan/triscan.h (compiled as C99) and
 * links libtriscan and libtriscan_gpu. Exits non-zero unless the library answers what
 * is known exactly: (I + N)^-1 for N = all ones below the diagonal is 1 on the
 * diagonal and -1 on the subdiagonal (forward substitution is exact on it), and the
 * GPU functions answer with a defined code whatever the machine. */
#include <stdio.h>

#include <triscan/triscan.h>

int main(void) {
  enum { n = 5 };
  float a[n * n], x[n * n];
  int32_t worst = -1;
  int i, j, ok, rc, gpu;
  for (i = 0; i < n; ++i)
    for (j = 0; j < n; ++j) a[i * n + j] = i > j ? 1.0f : 0.0f;
  rc = triscan_invert_batch("trinv/forward_substitution", TRISCAN_FP32, 1, n, a, n * n, n, 1, x,
                            n * n, n, 1, 0u, NULL, &worst);
  ok = rc == TRISCAN_SUCCESS && worst == TRISCAN_STATUS_OK;
  for (i = 0; i < n; ++i)
    for (j = 0; j < n; ++j) ok = ok && x[i * n + j] == (i == j ? 1.0f : i == j + 1 ? -1.0f : 0.0f);
  ok = ok && triscan_invert_batch(NULL, TRISCAN_FP32, 1, 0, a, n * n, n, 1, x, n * n, n, 1, 0u,
                                  NULL, NULL) == TRISCAN_ERROR_INVALID_ARGUMENT;
  gpu = triscan_gpu_available();
  ok = ok && (gpu == TRISCAN_SUCCESS || gpu == TRISCAN_ERROR_NO_DEVICE ||
              gpu == TRISCAN_ERROR_NOT_COMPILED);
  printf("triscan C consumer (%s, GPU: %s): %s\n", triscan_version(), triscan_error_message(gpu),
         ok ? "ok" : "WRONG");
  return ok ? 0 : 1;
}
