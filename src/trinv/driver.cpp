// src/trinv/driver.cpp — the public triangular-inversion API (include/triscan/trinv.hpp).
//
// What every method shares is done here, once (docs/trinv.md "Driver"):
//   1. argument checks (std::invalid_argument naming the bad thing);
//   2. the input contract: only the triangle (and the diagonal for non-unit) is read and
//      copied into a clean row-major LOWER working matrix (an upper input is read through
//      its transpose, since (A^T)^-1 = (A^-1)^T), rounded to the storage format (the format
//      matrices live in; operands are rounded to the operand format where they enter a
//      product, by the arithmetic model, so a residual formed in a wider format by
//      trinv/refine sees the stored L, not an operand-rounded copy);
//   3. statuses before the method runs: nonfinite_input, singular;
//   4. the method's kernel for the arithmetic model (native fp64 / fp32, or simulated);
//   5. the output contract: the result rounded to the output format, exactly 1 on a unit
//      diagonal, 0 in the other triangle; overflow if anything overflowed;
//   6. the a-posteriori check (inaccurate), see accuracy_check().
#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <limits>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "src/parallel.hpp"
#include "src/trinv/check.hpp"
#include "src/trinv/method.hpp"

namespace triscan {
namespace {

using trinv_detail::Context;
using trinv_detail::MethodImpl;
using trinv_detail::MethodOutcome;

// ---- Argument checks --------------------------------------------------------------------

// [first byte, one past the last byte] of the memory a view can touch.
template <class T>
std::pair<std::uintptr_t, std::uintptr_t> byte_span(const T* data, index_t rows, index_t cols, index_t rs,
                                                    index_t cs) {
  const index_t lo = std::min<index_t>(0, (rows - 1) * rs) + std::min<index_t>(0, (cols - 1) * cs);
  const index_t hi = std::max<index_t>(0, (rows - 1) * rs) + std::max<index_t>(0, (cols - 1) * cs);
  const auto base = reinterpret_cast<std::uintptr_t>(data);
  const auto size = static_cast<std::uintptr_t>(sizeof(T));
  return {base + static_cast<std::uintptr_t>(lo) * size, base + static_cast<std::uintptr_t>(hi + 1) * size};
}

bool spans_overlap(std::pair<std::uintptr_t, std::uintptr_t> a, std::pair<std::uintptr_t, std::uintptr_t> b) {
  return a.first < b.second && b.first < a.second;
}

// Looks the method up (unknown name: std::invalid_argument listing the registry), checks
// its parameters (unknown keys, bad values) and that it handles the requested matrix kind.
const MethodImpl& checked_method(const MethodSpec& spec, const TrinvOptions& opt) {
  const MethodImpl& m = trinv_detail::find_method(spec.name);
  m.validate(spec);
  if (opt.triangle == Triangle::upper && !m.info.supports_upper)
    throw std::invalid_argument(spec.name + ": upper-triangular input is not supported by this method");
  if (opt.diagonal == Diagonal::non_unit && !m.info.supports_non_unit)
    throw std::invalid_argument(spec.name + ": non-unit diagonal is not supported by this method");
  return m;
}

void check_square(const char* what, index_t rows, index_t cols) {
  if (rows != cols)
    throw std::invalid_argument(std::string(what) + ": matrix must be square, got " + std::to_string(rows) + "x" +
                                std::to_string(cols));
}

// ---- The per-matrix problem -------------------------------------------------------------

struct Problem {
  const MethodImpl* method = nullptr;
  const MethodSpec* spec = nullptr;
  const TrinvOptions* opt = nullptr;
  bool native = false;   // the precision is the caller's own IEEE type in round-to-nearest
  double u_work = 0.0;   // the coarsest unit roundoff of the four formats
};

template <class In>
bool is_native_for(const Precision& p) {
  static const Format& f = format_by_name(std::is_same_v<In, double> ? "fp64" : "fp32");
  return p.is_native(f);
}

template <class In>
Problem make_problem(const MethodImpl& m, const MethodSpec& spec, const TrinvOptions& opt) {
  Problem p{&m, &spec, &opt, is_native_for<In>(opt.precision), 0.0};
  p.u_work = p.native ? std::numeric_limits<In>::epsilon() / 2 : opt.precision.working_unit_roundoff();
  return p;
}

// Per-worker scratch, reused across matrices. Nothing is cleared between matrices: the
// driver writes L's lower triangle in full, methods write X's lower triangle in full,
// and neither upper triangle is read (method.hpp).
template <class T>
struct Workspace {
  std::vector<T> l, x;
  void resize(index_t n) {
    const auto size = static_cast<std::size_t>(n * n);
    if (l.size() != size) {
      l.assign(size, T(0));
      x.assign(size, T(0));
    }
  }
};

// Copies the first m entries of a strided row into dst, rounded by `a.store`, and
// returns how many were not finite (a branch-free count, so the contiguous native loop
// vectorizes).
template <class A, class In, class T>
index_t copy_row_in(A& a, const In* src, index_t cs, index_t m, T* dst) {
  index_t bad = 0;
  if constexpr (A::native) {
    if (cs == 1) {
      for (index_t j = 0; j < m; ++j) {
        bad += !(std::fabs(src[j]) <= std::numeric_limits<In>::max());
        dst[j] = static_cast<T>(src[j]);
      }
      return bad;
    }
  }
  for (index_t j = 0; j < m; ++j) {
    const In v = src[j * cs];
    bad += !(std::fabs(v) <= std::numeric_limits<In>::max());
    dst[j] = a.store(static_cast<T>(v));
  }
  return bad;
}

// Writes the first m entries of row x, rounded by `a.output`, to the strided row dst and
// keeps the delivered values in x (for the check); returns how many are not finite.
template <class A, class In, class T>
index_t copy_row_out(A& a, T* x, index_t m, In* dst, index_t cs) {
  index_t bad = 0;
  if constexpr (A::native) {
    if (cs == 1) {
      for (index_t j = 0; j < m; ++j) {
        bad += !(std::fabs(x[j]) <= std::numeric_limits<T>::max());
        dst[j] = static_cast<In>(x[j]);
      }
      return bad;
    }
  }
  for (index_t j = 0; j < m; ++j) {
    const In o = static_cast<In>(a.output(x[j]));
    bad += !(std::fabs(o) <= std::numeric_limits<In>::max());
    dst[j * cs] = o;
    x[j] = static_cast<T>(o);
  }
  return bad;
}

template <class In>
struct Workspaces {
  Workspace<In> native;
  Workspace<double> simulated;
  std::vector<In> lanes;  // the batched fast path's tiles (src/trinv/lanes.hpp)
};

trinv_detail::Kernel<arith::Native<double>> kernel_of(const MethodImpl& m, const arith::Native<double>&) {
  return m.run_f64;
}
trinv_detail::Kernel<arith::Native<float>> kernel_of(const MethodImpl& m, const arith::Native<float>&) {
  return m.run_f32;
}
trinv_detail::Kernel<arith::Simulated> kernel_of(const MethodImpl& m, const arith::Simulated&) { return m.run_sim; }

template <class In>
void fill_nan(const MatrixView<In>& X) {
  for (index_t i = 0; i < X.rows; ++i)
    for (index_t j = 0; j < X.cols; ++j) X(i, j) = std::numeric_limits<In>::quiet_NaN();
}

std::string entry(index_t i, index_t j, bool upper) {
  return "(" + std::to_string(upper ? j : i) + ", " + std::to_string(upper ? i : j) + ")";
}

std::string short_number(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", x);
  return buf;
}

// ---- The a-posteriori check: src/trinv/check.hpp ----------------------------------------

using trinv_detail::accuracy_check;
using trinv_detail::check_threshold;

// The statuses and the check once the method has run and the output is written.
// rho: the check's residual when the caller computed it already (the batched fast path,
// lane-wise from its tile: src/trinv/lanes.hpp check_lanes), else nullptr.
template <class A, class T>
TrinvResult finish(const Problem& p, A& a, const MethodOutcome& out, bool finite, MatrixView<const T> L,
                   MatrixView<const T> X, TrinvResult r, const double* rho = nullptr) {
  r.iterations = out.iterations;
  r.message = out.message;
  r.growth = a.growth();
  r.status = out.status;
  if (!finite || a.overflowed()) {
    r.status = worst(r.status, Status::overflow);
    if (r.message.empty())
      r.message = finite ? "an intermediate overflowed the working format" : "the result is not finite";
  }
  if (p.opt->check_accuracy && finite) {
    r.check_residual = rho ? *rho : accuracy_check(L, X, p.opt->diagonal == Diagonal::unit);
    const double tau = check_threshold(L.rows, p.u_work);
    if (r.status == Status::ok && !(r.check_residual <= tau)) {
      r.status = Status::inaccurate;
      r.message = "a-posteriori check: relative residual " + short_number(r.check_residual) +
                  " exceeds 4(n+1)u = " + short_number(tau);
    }
  }
  return r;
}

template <class In>
TrinvResult unsupported(TrinvResult r, const MethodOutcome& out, const MatrixView<In>& Xout) {
  fill_nan(Xout);
  r.status = Status::unsupported;
  r.iterations = out.iterations;
  r.message = out.message;
  return r;
}

// Locates the first non-finite entry of the read part (there is one) for the message.
template <class In>
TrinvResult nonfinite_input(const MatrixView<const In>& Ain, const MatrixView<In>& Xout, bool unit, bool upper) {
  TrinvResult r;
  fill_nan(Xout);
  r.status = Status::nonfinite_input;
  for (index_t i = 0; i < Ain.rows; ++i)
    for (index_t j = 0; j < (unit ? i : i + 1); ++j)
      if (!std::isfinite(Ain(i, j))) {
        r.message = "A" + entry(i, j, upper) + " = " + short_number(double(Ain(i, j)));
        return r;
      }
  return r;
}

template <class T, class In>
bool singular(const MatrixView<const T>& L, const MatrixView<const In>& Ain, const MatrixView<In>& Xout, bool upper,
              TrinvResult& r) {
  for (index_t i = 0; i < L.rows; ++i)
    if (L(i, i) == T(0) || !std::isfinite(L(i, i))) {
      fill_nan(Xout);
      r.status = Status::singular;
      r.message = "diagonal entry A" + entry(i, i, upper) + " = " + short_number(double(Ain(i, i))) +
                  (L(i, i) == T(0) ? " is zero" : " is not finite") + " in the storage format";
      return true;
    }
  return false;
}

// Native arithmetic on row-major views (unit column strides): no working copies. The
// method reads the caller's A (only the part the contract allows: methods never read
// the upper triangle, nor a unit diagonal) and writes the caller's X, whose diagonal and
// upper triangle are then set.
template <class T>
TrinvResult invert_in_place(const Problem& p, arith::Native<T>& a, MatrixView<const T> L, MatrixView<T> X,
                            bool unit, bool upper) {
  TrinvResult r;
  const index_t n = L.rows;
  index_t nonfinite = 0;
  for (index_t i = 0; i < n; ++i) {
    const T* row = &L(i, 0);
    const index_t m = unit ? i : i + 1;
    for (index_t j = 0; j < m; ++j) nonfinite += !(std::fabs(row[j]) <= std::numeric_limits<T>::max());
  }
  if (nonfinite > 0) return nonfinite_input(L, X, unit, upper);
  if (!unit && singular(L, L, X, upper, r)) return r;
  const Context ctx{p.opt->diagonal, &p.opt->precision};
  const MethodOutcome out = kernel_of(*p.method, a)(*p.spec, a, L, X, ctx);
  if (out.status == Status::unsupported) return unsupported(r, out, X);
  index_t nonfinite_out = 0;
  for (index_t i = 0; i < n; ++i) {
    T* row = &X(i, 0);
    if (unit) row[i] = T(1);
    for (index_t j = 0; j <= i; ++j) nonfinite_out += !(std::fabs(row[j]) <= std::numeric_limits<T>::max());
    for (index_t j = i + 1; j < n; ++j) row[j] = T(0);
  }
  return finish(p, a, out, nonfinite_out == 0, L, MatrixView<const T>(X), r);
}

// ---- One matrix ---------------------------------------------------------------------------

// Inverts one n x n matrix under arithmetic model A. Ain, Xout are the caller's views
// (already checked); ws the worker's scratch.
template <class A, class In>
TrinvResult invert_one(const Problem& p, A& a, MatrixView<const In> Ain, MatrixView<In> Xout,
                       Workspace<typename A::value_type>& ws) {
  using T = typename A::value_type;
  const bool upper = p.opt->triangle == Triangle::upper, unit = p.opt->diagonal == Diagonal::unit;
  if (upper) {  // invert the lower triangular A^T; X^T = (A^T)^-1 is written through X's transpose
    Ain = Ain.transposed();
    Xout = Xout.transposed();
  }
  TrinvResult r;
  const index_t n = Ain.rows;
  if (n == 0) return r;

  if constexpr (A::native) {
    if (Ain.col_stride == 1 && Xout.col_stride == 1) return invert_in_place(p, a, Ain, Xout, unit, upper);
  }

  // One pass copies the read part into the working L, rounded to the storage format,
  // counting non-finite entries; only if there is one is it located for the message.
  ws.resize(n);
  const MatrixView<T> L = MatrixView<T>::row_major(ws.l.data(), n, n), X = MatrixView<T>::row_major(ws.x.data(), n, n);
  index_t nonfinite = 0;
  for (index_t i = 0; i < n; ++i) {
    nonfinite += copy_row_in(a, &Ain(i, 0), Ain.col_stride, unit ? i : i + 1, &L(i, 0));
    if (unit) L(i, i) = T(1);
  }
  if (nonfinite > 0) return nonfinite_input(Ain, Xout, unit, upper);  // X: NaN
  if (!unit && singular(MatrixView<const T>(L), Ain, Xout, upper, r)) return r;

  const Context ctx{p.opt->diagonal, &p.opt->precision};
  const MethodOutcome out = kernel_of(*p.method, a)(*p.spec, a, L, X, ctx);
  if (out.status == Status::unsupported) return unsupported(r, out, Xout);

  // Output contract, one row at a time; X keeps what the caller receives, for the check.
  index_t nonfinite_out = 0;
  for (index_t i = 0; i < n; ++i) {
    In* dst = &Xout(i, 0);
    const index_t cs = Xout.col_stride;
    if (unit) X(i, i) = T(1);
    nonfinite_out += copy_row_out(a, &X(i, 0), unit ? i : i + 1, dst, cs);
    if (unit) dst[i * cs] = In(1);
    for (index_t j = i + 1; j < n; ++j) dst[j * cs] = In(0);
  }
  return finish(p, a, out, nonfinite_out == 0, MatrixView<const T>(L), MatrixView<const T>(X), r);
}

// The arithmetic model for one matrix: native when the precision is the caller's own
// type, else simulated with stochastic-rounding stream `stream` (the matrix's index).
template <class In>
TrinvResult run_one(const Problem& p, std::uint64_t stream, MatrixView<const In> A, MatrixView<In> X,
                    Workspaces<In>& ws) {
  if (p.native) {
    arith::Native<In> a;
    return invert_one(p, a, A, X, ws.native);
  }
  arith::Simulated a(p.opt->precision, stream);
  return invert_one(p, a, A, X, ws.simulated);
}

// ---- Batches ------------------------------------------------------------------------------

// Runs range(lo, hi, workspaces) over [0, count) in contiguous chunks that the workers
// take in turn (src/parallel.hpp), with one set of workspaces per worker. Each item's
// result depends only on its index (the batched fast path gives every matrix the
// operations of the one-matrix kernel, whichever matrices share its group), so results do
// not depend on W or on which worker ran it. Returns the worst status.
template <class In, class Range>
Status run_ranges(index_t count, unsigned threads, const Range& range) {
  std::vector<Workspaces<In>> ws(detail::worker_count(threads, count));
  return detail::parallel_ranges(count, threads, [&](index_t lo, index_t hi, unsigned w) {
    return range(lo, hi, ws[w]);
  });
}

// Runs item(i, workspaces) for every i in [0, count) (see run_ranges).
template <class In, class Item>
Status run_items(index_t count, unsigned threads, const Item& item) {
  return run_ranges<In>(count, threads, [&](index_t lo, index_t hi, Workspaces<In>& ws) {
    Status s = Status::ok;
    for (index_t i = lo; i < hi; ++i) s = worst(s, item(i, ws));
    return s;
  });
}

// ---- The batched fast path ------------------------------------------------------------------

// The batched fast path of a call: with the a-posteriori check the lane kernel (it computes
// the check from its tile), without it the row kernel (faster: no transpositions), each
// where the method has it. Both give the bits of the single-matrix native kernel.
template <class T>
const trinv_detail::LaneKernel<T>& lane_kernel(const MethodImpl& m, const TrinvOptions& opt) {
  const trinv_detail::LaneKernel<T>* lanes;
  const trinv_detail::LaneKernel<T>* rows;
  if constexpr (std::is_same_v<T, double>) {
    lanes = &m.lanes_f64;
    rows = &m.rows_f64;
  } else {
    lanes = &m.lanes_f32;
    rows = &m.rows_f32;
  }
  return (!opt.check_accuracy && rows->width > 0) || lanes->width == 0 ? *rows : *lanes;
}

// Statuses of one matrix of a lane group, as invert_one would report them: the input
// checks (the kernel counted non-finite entries while gathering), then the output checks.
// L, X are the lower-triangular views the kernel used (transposed for upper input).
// rho: the kernel's lane-wise check residual of this matrix (nullptr: check here).
template <class T>
TrinvResult lane_result(const Problem& p, MatrixView<const T> L, MatrixView<T> X, index_t bad_in, index_t bad_out,
                        Workspace<T>& ws, const double* rho) {
  const bool upper = p.opt->triangle == Triangle::upper, unit = p.opt->diagonal == Diagonal::unit;
  TrinvResult r;
  if (bad_in > 0) return nonfinite_input(L, X, unit, upper);
  if (!unit && singular(L, L, X, upper, r)) return r;
  arith::Native<T> a;
  const MethodOutcome out{};
  if (!p.opt->check_accuracy || bad_out > 0 || rho || (L.col_stride == 1 && X.col_stride == 1))
    return finish(p, a, out, bad_out == 0, L, MatrixView<const T>(X), r, rho);
  // The check reads rows with unit stride: row-major copies of the lower triangles.
  const index_t n = L.rows;
  ws.resize(n);
  const MatrixView<T> Lc = MatrixView<T>::row_major(ws.l.data(), n, n), Xc = MatrixView<T>::row_major(ws.x.data(), n, n);
  for (index_t i = 0; i < n; ++i)
    for (index_t j = 0; j <= i; ++j) {
      Lc(i, j) = (unit && i == j) ? T(1) : L(i, j);
      Xc(i, j) = X(i, j);
    }
  return finish(p, a, out, true, MatrixView<const T>(Lc), MatrixView<const T>(Xc), r);
}

// Items [lo, hi) through the method's lane kernel: consecutive matrices of the same order
// n <= max_n form groups of up to `width`; others (n = 0, n > max_n) take run_one.
// views(i) returns item i's (A, X) as the caller gave them.
// Output bytes above which the lane kernel writes with streaming stores (far beyond the
// caches of the machines we run on; a smaller batch's output stays in cache for its user).
constexpr double stream_output_bytes = 64.0 * 1024 * 1024;

template <class T, class Views>
Status run_lanes(const Problem& p, const trinv_detail::LaneKernel<T>& lk, index_t lo, index_t hi, const Views& views,
                 Status* statuses, Workspaces<T>& ws, bool stream_output) {
  const bool upper = p.opt->triangle == Triangle::upper;
  Status status = Status::ok;
  auto record = [&](index_t i, Status s) {
    if (statuses) statuses[i] = s;
    status = worst(status, s);
  };
  const auto width = static_cast<std::size_t>(lk.width);
  std::vector<MatrixView<const T>> L, next_L;
  std::vector<MatrixView<T>> X, next_X;
  std::vector<index_t> items, bad_in(width), bad_out(width);
  std::vector<double> rho(p.opt->check_accuracy && lk.checks ? width : 0);
  L.reserve(width);
  X.reserve(width);
  next_L.reserve(width);
  next_X.reserve(width);
  items.reserve(width);
  auto flush = [&](index_t next) {  // next: the first item after this group
    if (items.empty()) return;
    next_L.clear();
    next_X.clear();
    for (index_t i = next; i < std::min(hi, next + lk.width); ++i) {
      const auto [a, x] = views(i);
      next_L.push_back(upper ? a.transposed() : a);
      next_X.push_back(upper ? x.transposed() : x);
    }
    const index_t n = L.front().rows;
    trinv_detail::LaneGroup<T> g;
    g.n = n;
    g.unit = p.opt->diagonal == Diagonal::unit;
    g.count = static_cast<index_t>(items.size());
    g.L = L.data();
    g.X = X.data();
    g.nonfinite_in = bad_in.data();
    g.nonfinite_out = bad_out.data();
    g.stream_output = stream_output;
    g.prefetch = next_L.data();
    g.prefetch_count = static_cast<index_t>(next_L.size());
    g.prefetch_out = next_X.data();
    g.rho = rho.empty() ? nullptr : rho.data();
    ws.lanes.resize(static_cast<std::size_t>(lk.scratch_size(n)));
    lk.run(g, ws.lanes.data());
    for (std::size_t j = 0; j < items.size(); ++j)
      record(items[j], lane_result(p, L[j], X[j], bad_in[j], bad_out[j], ws.native, g.rho ? &rho[j] : nullptr).status);
    L.clear();
    X.clear();
    items.clear();
  };
  for (index_t i = lo; i < hi; ++i) {
    const auto [a, x] = views(i);
    const MatrixView<const T> la = upper ? a.transposed() : a;
    const MatrixView<T> lx = upper ? x.transposed() : x;
    if (la.rows == 0 || la.rows > lk.max_n) {
      flush(i);
      record(i, run_one(p, static_cast<std::uint64_t>(i), a, x, ws).status);
      continue;
    }
    if (!items.empty() && L.front().rows != la.rows) flush(i);
    L.push_back(la);
    X.push_back(lx);
    items.push_back(i);
    if (items.size() == width) flush(i + 1);
  }
  flush(hi);
  return status;
}

template <class In>
TrinvResult invert_single(const MethodSpec& spec, MatrixView<const In> A, MatrixView<In> X,
                          const TrinvOptions& opt) {
  check_view(A, "invert: A");
  check_view(X, "invert: X");
  check_square("invert: A", A.rows, A.cols);
  if (X.rows != A.rows || X.cols != A.cols)
    throw std::invalid_argument("invert: X is " + std::to_string(X.rows) + "x" + std::to_string(X.cols) +
                                " but A is " + std::to_string(A.rows) + "x" + std::to_string(A.cols));
  if (!A.empty() && spans_overlap(byte_span(A.data, A.rows, A.cols, A.row_stride, A.col_stride),
                                  byte_span(X.data, X.rows, X.cols, X.row_stride, X.col_stride)))
    throw std::invalid_argument("invert: X overlaps A (in-place inversion is not supported)");
  const MethodImpl& m = checked_method(spec, opt);
  const Problem p = make_problem<In>(m, spec, opt);
  Workspaces<In> ws;
  return run_one(p, 0, A, X, ws);
}

template <class In>
Status invert_batch_impl(const MethodSpec& spec, BatchView<const In> A, BatchView<In> X, const TrinvOptions& opt,
                         Status* statuses) {
  check_batch(A, "invert_batch: A");
  check_batch(X, "invert_batch: X");
  check_square("invert_batch: A", A.rows, A.cols);
  if (X.count != A.count || X.rows != A.rows || X.cols != A.cols)
    throw std::invalid_argument("invert_batch: X is " + std::to_string(X.count) + " x " + std::to_string(X.rows) +
                                "x" + std::to_string(X.cols) + " but A is " + std::to_string(A.count) + " x " +
                                std::to_string(A.rows) + "x" + std::to_string(A.cols));
  if (A.count > 0 && A.rows > 0) {
    // The whole batch's span: the last matrix's span shifted by (count - 1) batch strides.
    auto batch_span = [](const auto& b) {
      auto first = byte_span(b.data, b.rows, b.cols, b.row_stride, b.col_stride);
      auto last = byte_span(b[b.count - 1].data, b.rows, b.cols, b.row_stride, b.col_stride);
      return std::make_pair(std::min(first.first, last.first), std::max(first.second, last.second));
    };
    if (spans_overlap(batch_span(A), batch_span(X)))
      throw std::invalid_argument("invert_batch: X overlaps A (in-place inversion is not supported)");
  }
  const MethodImpl& m = checked_method(spec, opt);
  const Problem p = make_problem<In>(m, spec, opt);
  const auto& lk = lane_kernel<In>(m, opt);
  const bool stream = double(A.count) * double(A.rows) * double(A.cols) * sizeof(In) > stream_output_bytes;
  if (p.native && lk.width > 0)
    return run_ranges<In>(A.count, opt.threads, [&](index_t lo, index_t hi, Workspaces<In>& ws) {
      return run_lanes(p, lk, lo, hi, [&](index_t b) { return std::make_pair(A[b], X[b]); }, statuses, ws, stream);
    });
  return run_items<In>(A.count, opt.threads, [&](index_t b, Workspaces<In>& ws) {
    const Status s = run_one(p, static_cast<std::uint64_t>(b), A[b], X[b], ws).status;
    if (statuses) statuses[b] = s;
    return s;
  });
}

template <class In>
Status invert_chunks_impl(const MethodSpec& spec, const ChunkLayout& layout, const In* A, In* X,
                          const TrinvOptions& opt, Status* statuses) {
  const std::vector<ChunkRef> chunks = enumerate_chunks(layout);  // validates the layout
  if (opt.triangle != Triangle::lower || opt.diagonal != Diagonal::unit)
    throw std::invalid_argument(
        "invert_chunks: the chunk layout holds the strictly lower N of I + N; options.triangle must be lower and "
        "options.diagonal unit");
  const index_t elements = layout.elements();
  if (elements > 0 && (A == nullptr || X == nullptr))
    throw std::invalid_argument(std::string("invert_chunks: ") + (A == nullptr ? "A" : "X") + " is null");
  if (elements > 0 && spans_overlap(byte_span(A, 1, elements, 0, 1), byte_span(X, 1, elements, 0, 1)))
    throw std::invalid_argument("invert_chunks: X overlaps A (in-place inversion is not supported)");
  const MethodImpl& m = checked_method(spec, opt);
  const Problem p = make_problem<In>(m, spec, opt);
  // chunks are ordered (batch, chunk, head), so chunk i is status entry i of the
  // row-major [chunk_count, H] array.
  const auto& lk = lane_kernel<In>(m, opt);
  const bool stream = double(elements) * sizeof(In) > stream_output_bytes;
  if (p.native && lk.width > 0)
    return run_ranges<In>(static_cast<index_t>(chunks.size()), opt.threads,
                          [&](index_t lo, index_t hi, Workspaces<In>& ws) {
                            return run_lanes(
                                p, lk, lo, hi,
                                [&](index_t i) {
                                  const ChunkRef& c = chunks[static_cast<std::size_t>(i)];
                                  return std::make_pair(MatrixView<const In>(chunk_view(A, layout, c)),
                                                        chunk_view(X, layout, c));
                                },
                                statuses, ws, stream);
                          });
  return run_items<In>(static_cast<index_t>(chunks.size()), opt.threads, [&](index_t i, Workspaces<In>& ws) {
    const ChunkRef& c = chunks[static_cast<std::size_t>(i)];
    const Status s =
        run_one(p, static_cast<std::uint64_t>(i), chunk_view(A, layout, c), chunk_view(X, layout, c), ws).status;
    if (statuses) statuses[i] = s;
    return s;
  });
}

}  // namespace

TrinvResult invert(const MethodSpec& method, MatrixView<const double> A, MatrixView<double> X,
                   const TrinvOptions& options) {
  return invert_single(method, A, X, options);
}
TrinvResult invert(const MethodSpec& method, MatrixView<const float> A, MatrixView<float> X,
                   const TrinvOptions& options) {
  return invert_single(method, A, X, options);
}

Status invert_batch(const MethodSpec& method, BatchView<const double> A, BatchView<double> X,
                    const TrinvOptions& options, Status* statuses) {
  return invert_batch_impl(method, A, X, options, statuses);
}
Status invert_batch(const MethodSpec& method, BatchView<const float> A, BatchView<float> X,
                    const TrinvOptions& options, Status* statuses) {
  return invert_batch_impl(method, A, X, options, statuses);
}

Status invert_chunks(const MethodSpec& method, const ChunkLayout& layout, const double* A, double* X,
                     const TrinvOptions& options, Status* statuses) {
  return invert_chunks_impl(method, layout, A, X, options, statuses);
}
Status invert_chunks(const MethodSpec& method, const ChunkLayout& layout, const float* A, float* X,
                     const TrinvOptions& options, Status* statuses) {
  return invert_chunks_impl(method, layout, A, X, options, statuses);
}

}  // namespace triscan
