// The CPU batch drivers' worker pool (src/parallel.hpp): contiguous chunks taken in turn.
// Every item is run exactly once whatever the item and worker counts, a worker index is
// never used by two threads at once, the worst status is returned, and an exception
// thrown in a worker reaches the caller after every worker has stopped, with no chunk
// taken after it.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "src/parallel.hpp"

namespace triscan {
namespace {

TEST(ParallelRanges, EveryItemOnceAndWorkerIndicesExclusive) {
  for (index_t count : {1, 2, 3, 7, 31, 32, 33, 100, 1000, 4099})
    for (unsigned threads : {1u, 2u, 3u, 8u}) {
      const std::string what =
          "count " + std::to_string(count) + ", threads " + std::to_string(threads);
      const unsigned W = detail::worker_count(threads, count);
      std::vector<std::atomic<int>> runs(static_cast<std::size_t>(count));
      std::vector<std::atomic<int>> busy(W);
      std::atomic<bool> overlap{false}, out_of_order{false};
      const Status s =
          detail::parallel_ranges(count, threads, [&](index_t lo, index_t hi, unsigned w) {
            if (w >= W || busy[w].fetch_add(1) != 0) overlap = true;
            if (!(0 <= lo && lo < hi && hi <= count)) out_of_order = true;
            for (index_t i = lo; i < hi; ++i) runs[static_cast<std::size_t>(i)].fetch_add(1);
            busy[w].fetch_sub(1);
            return lo == 0 ? Status::inaccurate : Status::ok;  // the worst: from item 0's range
          });
      EXPECT_FALSE(overlap.load()) << what;
      EXPECT_FALSE(out_of_order.load()) << what;
      for (index_t i = 0; i < count; ++i)
        ASSERT_EQ(runs[static_cast<std::size_t>(i)].load(), 1) << what << ", item " << i;
      EXPECT_EQ(s, Status::inaccurate) << what;
    }
  EXPECT_EQ(
      detail::parallel_ranges(0, 2, [](index_t, index_t, unsigned) { return Status::overflow; }),
      Status::ok);
}

TEST(ParallelRanges, AnExceptionStopsTheChunksAndReachesTheCaller) {
  // Two workers, 32 chunks; the chunk holding item 0 throws at once, every other chunk
  // takes 2 ms. Once the exception is caught no worker takes a further chunk, so the other
  // worker starts only the chunks it takes before that: a handful, far below the 31 a
  // pool that ignored the exception would run (the bound 16 fails only if the throwing
  // thread stalls for ~30 ms between the throw and its catch).
  const index_t count = 4096;
  std::atomic<int> started{0};
  auto range = [&](index_t lo, index_t, unsigned) -> Status {
    started.fetch_add(1);
    if (lo == 0) throw std::runtime_error("chunk 0 failed");
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    return Status::ok;
  };
  EXPECT_THROW(detail::parallel_ranges(count, 2, range), std::runtime_error);
  EXPECT_LE(started.load(), 16);
}

}  // namespace
}  // namespace triscan
