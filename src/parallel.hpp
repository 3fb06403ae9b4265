// src/parallel.hpp — the worker pool the CPU batch drivers share (src/trinv/driver.cpp,
// src/wy/): a static partition of [0, count) over W threads, the worst status of all
// items, the first worker exception rethrown, and OpenBLAS kept single-threaded meanwhile.
#pragma once

#include <cblas.h>

#include <algorithm>
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

// Runs range(lo, hi, w) in worker w over the contiguous range [w count / W, (w+1) count / W)
// (W = worker_count(threads, count)); the partition depends only on count and W. Returns
// the worst status the ranges returned; rethrows the first worker's exception.
template <class Range>
Status parallel_ranges(index_t count, unsigned threads, const Range& range) {
  if (count == 0) return Status::ok;
  const SingleThreadedBlas blas_guard;
  const unsigned W = worker_count(threads, count);
  std::vector<Status> worst_of(W, Status::ok);
  std::vector<std::exception_ptr> errors(W);
  auto work = [&](unsigned w) {
    try {
      worst_of[w] = range(count * w / W, count * (w + 1) / W, w);
    } catch (...) {
      errors[w] = std::current_exception();
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
