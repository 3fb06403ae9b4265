// The batched row kernel (src/trinv/rows.hpp) at the library's own vector width (this file
// is compiled with the library's target flags and -ffp-contract=off: tests/trinv/
// CMakeLists.txt) against Method 1's recurrence, entry by entry (rows_recurrence.hpp): the
// direct path's three ways of storing the output — streaming stores only (streaming asked,
// every row aligned), per-store checked (streaming asked, the output misaligned or its row
// stride not whole vectors; or no streaming asked), and the copying path. The batch
// driver asks for streaming only above 64 MiB, which no other test reaches.
#include "tests/trinv/rows_recurrence.hpp"

namespace triscan {
namespace {

// The cases of sweep() meant for the streaming-only stores take them (where the build can
// stream at all: AVX), and the misaligned ones do not.
TEST(TrinvRowsNativeVectors, StreamingOnlyWhereEveryRowIsAligned) {
  alignas(64) static double buf[64 * 65 + 8];
  const index_t n = 64;
  EXPECT_EQ(rows::streams_every_vector(MatrixView<double>{buf, n, n, n, 1}, true), simd::can_stream);
  EXPECT_FALSE(rows::streams_every_vector(MatrixView<double>{buf, n, n, n, 1}, false));
  EXPECT_FALSE(rows::streams_every_vector(MatrixView<double>{buf + 1, n, n, n, 1}, true));
  EXPECT_FALSE(rows::streams_every_vector(MatrixView<double>{buf, n, n, n + 1, 1}, true));
}

TEST(TrinvRowsNativeVectors, Fp64MatchesTheRecurrence) {
  sweep<double>();
}
TEST(TrinvRowsNativeVectors, Fp32MatchesTheRecurrence) {
  sweep<float>();
}

}  // namespace
}  // namespace triscan
