// tests/capi/test_capi_threads.cpp — the C API's last-error detail is per thread: a
// failure on one thread never shows in, or overwrites, another thread's detail; and
// concurrent successful calls on the CPU entries give the exact result on every thread.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <thread>
#include <vector>

#include "triscan/triscan.h"

namespace {

TEST(CapiThreads, LastErrorIsThreadLocal) {
  double a[16] = {}, x[16] = {};
  ASSERT_EQ(triscan_invert_batch(nullptr, TRISCAN_FP64, 1, 0, a, 16, 4, 1, x, 16, 4, 1, 0u, nullptr,
                                 nullptr),
            TRISCAN_ERROR_INVALID_ARGUMENT);
  const std::string mine = triscan_last_error();
  ASSERT_NE(mine.find("n must be >= 1"), std::string::npos) << mine;
  std::string other_before, other_after;
  std::thread t([&] {
    other_before = triscan_last_error();
    (void)triscan_invert_batch("trinv/nope", TRISCAN_FP64, 1, 4, a, 16, 4, 1, x, 16, 4, 1, 0u,
                               nullptr, nullptr);
    other_after = triscan_last_error();
  });
  t.join();
  EXPECT_EQ(other_before, "") << "a new thread starts with no detail";
  EXPECT_NE(other_after.find("trinv/nope"), std::string::npos) << other_after;
  EXPECT_EQ(std::string(triscan_last_error()), mine)
      << "another thread's failure changed this thread's detail";
}

// (I + N)^-1 for N = ones strictly below the diagonal is I - S exactly (forward
// substitution is exact on it: every intermediate is 0 or +-1), on every thread at once.
TEST(CapiThreads, ConcurrentCallsAreExact) {
  constexpr int n = 24, count = 8, threads = 4;
  std::vector<float> a(count * n * n, 0.0f);
  for (int b = 0; b < count; ++b)
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < i; ++j) a[(b * n + i) * n + j] = 1.0f;
  std::vector<std::vector<float>> x(threads, std::vector<float>(a.size(), NAN));
  std::vector<int> rc(threads, -1);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      rc[t] = triscan_invert_batch(nullptr, TRISCAN_FP32, count, n, a.data(), n * n, n, 1,
                                   x[t].data(), n * n, n, 1, 0u, nullptr, nullptr);
    });
  for (auto& th : pool) th.join();
  for (int t = 0; t < threads; ++t) {
    ASSERT_EQ(rc[t], TRISCAN_SUCCESS) << "thread " << t;
    for (int b = 0; b < count; ++b)
      for (int i = 0; i < n; ++i)
        for (int j = 0; j < n; ++j)
          ASSERT_EQ(x[t][(b * n + i) * n + j], i == j ? 1.0f : (i == j + 1 ? -1.0f : 0.0f))
              << "thread " << t << " matrix " << b << " (" << i << ", " << j << ")";
  }
}

}  // namespace
