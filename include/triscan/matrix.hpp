// triscan/matrix.hpp — strided matrix views, strided batches and the
// linear-attention chunk layout [B, T, H, BT] (DESIGN.md "Data layout").
//
// A view is (rows, cols, row_stride, col_stride) over memory it does not own, so
// row-major (ML) and column-major (LAPACK) matrices need no copies and no flag.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace triscan {

using index_t = std::ptrdiff_t;

template <class T>
struct MatrixView {
  T* data = nullptr;
  index_t rows = 0, cols = 0;
  index_t row_stride = 0, col_stride = 1;

  T& operator()(index_t i, index_t j) const { return data[i * row_stride + j * col_stride]; }
  bool empty() const { return rows == 0 || cols == 0; }
  // The r x c block whose top-left entry is (i, j).
  MatrixView block(index_t i, index_t j, index_t r, index_t c) const {
    return {data + i * row_stride + j * col_stride, r, c, row_stride, col_stride};
  }
  MatrixView transposed() const { return {data, cols, rows, col_stride, row_stride}; }
  operator MatrixView<const T>() const { return {data, rows, cols, row_stride, col_stride}; }

  static MatrixView row_major(T* p, index_t r, index_t c) { return {p, r, c, c, 1}; }
  static MatrixView col_major(T* p, index_t r, index_t c) { return {p, r, c, 1, r}; }
};

// Throws std::invalid_argument when the view's shape or strides are unusable:
// negative sizes, a null pointer for a non-empty view, or strides that make two
// different (i, j) alias the same element.
template <class T>
void check_view(const MatrixView<T>& v, const char* what);

// An owning, row-major matrix.
template <class T>
class Matrix {
 public:
  Matrix() = default;
  Matrix(index_t rows, index_t cols, T fill = T(0))
      : rows_(rows), cols_(cols), data_(checked_size(rows, cols), fill) {}

  index_t rows() const { return rows_; }
  index_t cols() const { return cols_; }
  T* data() { return data_.data(); }
  const T* data() const { return data_.data(); }
  T& operator()(index_t i, index_t j) { return data_[i * cols_ + j]; }
  const T& operator()(index_t i, index_t j) const { return data_[i * cols_ + j]; }
  MatrixView<T> view() { return MatrixView<T>::row_major(data_.data(), rows_, cols_); }
  MatrixView<const T> view() const { return MatrixView<const T>::row_major(data_.data(), rows_, cols_); }

  static Matrix identity(index_t n) {
    Matrix m(n, n);
    for (index_t i = 0; i < n; ++i) m(i, i) = T(1);
    return m;
  }

 private:
  static std::size_t checked_size(index_t r, index_t c) {
    if (r < 0 || c < 0) throw std::invalid_argument("Matrix: negative dimension");
    return static_cast<std::size_t>(r) * static_cast<std::size_t>(c);
  }
  index_t rows_ = 0, cols_ = 0;
  std::vector<T> data_;
};

// `count` matrices of the same shape, matrix b starting at data + b * batch_stride.
template <class T>
struct BatchView {
  T* data = nullptr;
  index_t count = 0;
  index_t batch_stride = 0;
  index_t rows = 0, cols = 0;
  index_t row_stride = 0, col_stride = 1;

  MatrixView<T> operator[](index_t b) const {
    return {data + b * batch_stride, rows, cols, row_stride, col_stride};
  }
  operator BatchView<const T>() const {
    return {data, count, batch_stride, rows, cols, row_stride, col_stride};
  }
  // The contiguous [count, rows, cols] row-major batch.
  static BatchView contiguous(T* p, index_t count, index_t rows, index_t cols) {
    return {p, count, rows * cols, rows, cols, cols, 1};
  }
};

template <class T>
void check_batch(const BatchView<T>& b, const char* what);

// The linear-attention layout [B, T, H, BT]: element (b, t, h, j) lives at
// ((b * T + t) * H + h) * BT + j. The chunk matrix of (sequence, chunk c, head h)
// holds rows t = start .. start + m - 1 where start = bos + c * BT, and its column
// j refers to token start + j. With cu_seqlens (then B == 1) chunks restart at
// every sequence start; the last chunk of a sequence may be partial (m < BT).
struct ChunkLayout {
  index_t batch = 1;     // B
  index_t length = 0;    // T (per batch entry; the packed total when cu_seqlens is set)
  index_t heads = 1;     // H
  index_t chunk = 64;    // BT
  std::vector<std::int64_t> cu_seqlens;  // empty, or [0, l1, l1+l2, ..., T]

  // Throws std::invalid_argument naming the offending field.
  void validate() const;
  index_t elements() const { return batch * length * heads * chunk; }
  index_t row_stride() const { return heads * chunk; }
};

// One chunk matrix of the layout: its first row `start` (token index within batch
// entry `batch`), its size m <= BT, the head, and the offset of element (0, 0).
struct ChunkRef {
  index_t batch = 0;
  index_t sequence = 0;  // index into cu_seqlens (or == batch without it)
  index_t start = 0;
  index_t size = 0;
  index_t head = 0;
  index_t chunk_index = 0;  // global chunk number within its batch entry (status row)
  index_t offset = 0;       // offset of element (0, 0) in the [B, T, H, BT] buffer
};

// All chunk matrices in a deterministic order (batch, chunk, head). Validates.
std::vector<ChunkRef> enumerate_chunks(const ChunkLayout& layout);
index_t chunk_count(const ChunkLayout& layout);  // number of chunk rows (without heads)

template <class T>
MatrixView<T> chunk_view(T* base, const ChunkLayout& layout, const ChunkRef& c) {
  return {base + c.offset, c.size, c.size, layout.row_stride(), 1};
}

}  // namespace triscan
