// src/parallel.hpp — the worker pool the CPU batch drivers share (src/trinv/driver.cpp,
// src/wy/): contiguous chunks of [0, count) taken in turn by W threads, the worst status
// of all items, the first worker exception rethrown, and OpenBLAS kept single-threaded
// meanwhile.
#pragma once

#include <cblas.h>

#include <algorithm>
#include <atomic>
#include <exception>
#include <thread>
#include <vector>

#include "triscan/matrix.hpp"
#include "triscan/status.hpp"

namespace triscan::detail {

// OpenBLAS runs single-threaded while a batch is processed (restored afterwards): the
// batch workers own the cores, and a large block's BLAS result then cannot depend on the
// worker count. (This sets OpenBLAS's process-wide thread count for the duration.)
class SingleThreadedBlas {
 public:
  SingleThreadedBlas() : saved_(openblas_get_num_threads()) { openblas_set_num_threads(1); }
  ~SingleThreadedBlas() { openblas_set_num_threads(saved_); }
  SingleThreadedBlas(const SingleThreadedBlas&) = delete;
  SingleThreadedBlas& operator=(const SingleThreadedBlas&) = delete;

 private:
  int saved_;
};

// Workers for `items` items: `requested`, or every core when 0; never more than the items,
// at least 1.
inline unsigned worker_count(unsigned requested, index_t items) {
  const unsigned w = requested != 0 ? requested : std::max(1u, std::thread::hardware_concurrency());
  return static_cast<unsigned>(std::min<index_t>(w, std::max<index_t>(items, 1)));
}

// Contiguous chunks per worker that parallel_ranges hands out (W = 1: one chunk).
inline constexpr index_t chunks_per_worker = 16;

// Runs range(lo, hi, w) over [0, count) in W = worker_count(threads, count) workers: the
// range is cut into min(count, 16 W) contiguous chunks (the cut depends only on count and
// W), and each worker takes the next chunk not yet taken until none is left, so a worker
// slowed down (a busy core, a host's other tenants) takes fewer chunks instead of
// delaying the end. range may be called several times per worker, never concurrently
// with the same w. Each item's result must depend only on its index (the drivers'
// contract), so results do not depend on which worker ran it. Returns the worst status
// the ranges returned; after an exception the workers take no further chunk, and once
// all have stopped the first worker's exception is rethrown.
template <class Range>
Status parallel_ranges(index_t count, unsigned threads, const Range& range) {
  if (count == 0) return Status::ok;
  const SingleThreadedBlas blas_guard;
  const unsigned W = worker_count(threads, count);
  const index_t chunks =
      W == 1 ? 1 : std::min<index_t>(count, static_cast<index_t>(W) * chunks_per_worker);
  std::atomic<index_t> next{0};
  std::vector<Status> worst_of(W, Status::ok);
  std::vector<std::exception_ptr> errors(W);
  auto work = [&](unsigned w) {
    try {
      for (index_t c = next.fetch_add(1); c < chunks; c = next.fetch_add(1))
        worst_of[w] = worst(worst_of[w], range(count * c / chunks, count * (c + 1) / chunks, w));
    } catch (...) {
      errors[w] = std::current_exception();
      next.store(chunks);  // no worker takes a further chunk
    }
  };
  std::vector<std::thread> pool;
  for (unsigned w = 1; w < W; ++w) pool.emplace_back(work, w);
  work(0);
  for (auto& t : pool) t.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
  Status s = Status::ok;
  for (Status x : worst_of) s = worst(s, x);
  return s;
}

}  // namespace triscan::detail
