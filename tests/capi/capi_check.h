/* tests/capi/capi_check.h — the check macros the C99 tests of the C API share.
 * CHECK(cond, fmt, ...) counts and reports a failure (with triscan_last_error());
 * CHECK_ERROR(call, code, word): the call must fail with `code`, and the last-error
 * detail must name `word`. A test's main returns failures != 0. */
#ifndef TRISCAN_TESTS_CAPI_CHECK_H
#define TRISCAN_TESTS_CAPI_CHECK_H

#include <stdio.h>
#include <string.h>

#include "triscan/triscan.h"

static int failures = 0;

#define CHECK(cond, ...)                                                 \
  do {                                                                   \
    if (!(cond)) {                                                       \
      ++failures;                                                        \
      fprintf(stderr, "%s:%d: FAILED: %s: ", __FILE__, __LINE__, #cond); \
      fprintf(stderr, __VA_ARGS__);                                      \
      fprintf(stderr, " (last error: %s)\n", triscan_last_error());      \
    }                                                                    \
  } while (0)

#define CHECK_ERROR(call, code, word)                                                             \
  do {                                                                                            \
    int rc_ = (call);                                                                             \
    CHECK(rc_ == (code), "%s returned %d (%s), expected %d (%s)", #call, rc_,                     \
          triscan_error_message(rc_), (int)(code), triscan_error_message(code));                  \
    CHECK(strstr(triscan_last_error(), (word)) != NULL, "detail of %s does not name '%s'", #call, \
          (word));                                                                                \
  } while (0)

#endif
