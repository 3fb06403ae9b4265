// Shape, stride and layout checks for views, batches and the chunk layout.
#include "triscan/matrix.hpp"

#include <algorithm>
#include <cstdlib>
#include <string>

namespace triscan {
namespace {

[[noreturn]] void fail(const char* what, const std::string& msg) {
  throw std::invalid_argument(std::string(what) + ": " + msg);
}

// Two distinct (i, j) map to one element iff the strides let one index step be
// absorbed by the other's range. Sorting |strides| and requiring each to exceed the
// span of the smaller dimension is sufficient for the layouts used here.
bool strides_alias(index_t rows, index_t cols, index_t rs, index_t cs) {
  if (rows <= 1 && cols <= 1) return false;
  if (rows <= 1) return cs == 0;
  if (cols <= 1) return rs == 0;
  const index_t ars = std::abs(rs), acs = std::abs(cs);
  if (ars == 0 || acs == 0) return true;
  if (ars >= acs) return ars < acs * cols;
  return acs < ars * rows;
}

}  // namespace

template <class T>
void check_view(const MatrixView<T>& v, const char* what) {
  if (v.rows < 0 || v.cols < 0)
    fail(what, "negative shape " + std::to_string(v.rows) + "x" + std::to_string(v.cols));
  if (v.empty()) return;
  if (v.data == nullptr) fail(what, "null data pointer for a non-empty matrix");
  if (strides_alias(v.rows, v.cols, v.row_stride, v.col_stride))
    fail(what, "strides (" + std::to_string(v.row_stride) + ", " + std::to_string(v.col_stride) +
                   ") make distinct entries of a " + std::to_string(v.rows) + "x" +
                   std::to_string(v.cols) + " matrix overlap");
}

template <class T>
void check_batch(const BatchView<T>& b, const char* what) {
  if (b.count < 0) fail(what, "negative batch count " + std::to_string(b.count));
  check_view(b[0], what);
  if (b.count > 1 && b.rows > 0 && b.cols > 0) {
    // Matrices must not overlap: the stride must step past one matrix's span.
    const index_t span = (b.rows - 1) * std::abs(b.row_stride) + (b.cols - 1) * std::abs(b.col_stride) + 1;
    if (std::abs(b.batch_stride) < span)
      fail(what, "batch stride " + std::to_string(b.batch_stride) + " is smaller than one matrix's span " +
                     std::to_string(span));
  }
}

template void check_view(const MatrixView<double>&, const char*);
template void check_view(const MatrixView<const double>&, const char*);
template void check_view(const MatrixView<float>&, const char*);
template void check_view(const MatrixView<const float>&, const char*);
template void check_batch(const BatchView<double>&, const char*);
template void check_batch(const BatchView<const double>&, const char*);
template void check_batch(const BatchView<float>&, const char*);
template void check_batch(const BatchView<const float>&, const char*);

void ChunkLayout::validate() const {
  const char* what = "ChunkLayout";
  if (batch < 1) fail(what, "batch B must be >= 1, got " + std::to_string(batch));
  if (length < 0) fail(what, "length T must be >= 0, got " + std::to_string(length));
  if (heads < 1) fail(what, "heads H must be >= 1, got " + std::to_string(heads));
  if (chunk < 1) fail(what, "chunk size BT must be >= 1, got " + std::to_string(chunk));
  if (cu_seqlens.empty()) return;
  if (batch != 1) fail(what, "cu_seqlens requires batch B == 1 (packed sequences), got B = " + std::to_string(batch));
  if (cu_seqlens.size() < 2) fail(what, "cu_seqlens needs at least 2 entries");
  if (cu_seqlens.front() != 0) fail(what, "cu_seqlens[0] must be 0, got " + std::to_string(cu_seqlens.front()));
  for (std::size_t i = 1; i < cu_seqlens.size(); ++i)
    if (cu_seqlens[i] < cu_seqlens[i - 1])
      fail(what, "cu_seqlens must be non-decreasing: cu_seqlens[" + std::to_string(i) + "] = " +
                     std::to_string(cu_seqlens[i]) + " < " + std::to_string(cu_seqlens[i - 1]));
  if (cu_seqlens.back() != length)
    fail(what, "cu_seqlens must end at T = " + std::to_string(length) + ", got " + std::to_string(cu_seqlens.back()));
}

index_t chunk_count(const ChunkLayout& layout) {
  layout.validate();
  auto ceil_div = [&](index_t a) { return (a + layout.chunk - 1) / layout.chunk; };
  if (layout.cu_seqlens.empty()) return layout.batch * ceil_div(layout.length);
  index_t total = 0;
  for (std::size_t s = 1; s < layout.cu_seqlens.size(); ++s)
    total += ceil_div(layout.cu_seqlens[s] - layout.cu_seqlens[s - 1]);
  return total;
}

std::vector<ChunkRef> enumerate_chunks(const ChunkLayout& layout) {
  layout.validate();
  std::vector<ChunkRef> out;
  out.reserve(static_cast<std::size_t>(chunk_count(layout) * layout.heads));
  const bool varlen = !layout.cu_seqlens.empty();
  const index_t sequences = varlen ? static_cast<index_t>(layout.cu_seqlens.size()) - 1 : layout.batch;
  index_t chunk_index = 0;
  for (index_t s = 0; s < sequences; ++s) {
    const index_t b = varlen ? 0 : s;
    const index_t bos = varlen ? layout.cu_seqlens[s] : 0;
    const index_t eos = varlen ? layout.cu_seqlens[s + 1] : layout.length;
    if (!varlen) chunk_index = 0;
    for (index_t start = bos; start < eos; start += layout.chunk, ++chunk_index) {
      const index_t m = std::min(layout.chunk, eos - start);
      for (index_t h = 0; h < layout.heads; ++h) {
        ChunkRef c;
        c.batch = b;
        c.sequence = s;
        c.start = start;
        c.size = m;
        c.head = h;
        c.chunk_index = chunk_index;
        c.offset = ((b * layout.length + start) * layout.heads + h) * layout.chunk;
        out.push_back(c);
      }
    }
  }
  return out;
}

}  // namespace triscan
