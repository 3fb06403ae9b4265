// The batched row kernel (src/trinv/rows.hpp) at a vector width other than the library's:
// this file is compiled without AVX on x86 (tests/trinv/CMakeLists.txt), so its copy of the
// kernel (internal linkage, src/simd.hpp) has 16-byte vectors — two fp64 lanes, fewer than
// the R = 4 rows of a group, so a group's diagonal entries span two vectors and may span
// two tiles — the width of a portable build (TRISCAN_NATIVE_ARCH=OFF) and of NEON. The
// library's own copy follows the build machine (AVX2 or AVX-512 in CI), where R divides
// the width; a change that assumed so for every width broke the portable build's fp64
// batches, which CI did not build (session 12).
//
// The check (Method 1's recurrence written out, equal entry by entry): rows_recurrence.hpp.
#include "tests/trinv/rows_recurrence.hpp"

namespace triscan {
namespace {

TEST(TrinvRowsNarrowVectors, WidthIsTheIntendedOne) {
#if defined(__x86_64__) || defined(__i386__)
  // The point of this file: fp64 vectors narrower than a group of rows.
  EXPECT_EQ(simd::vector_bytes, 16u);
  EXPECT_LT(simd::Vec<double>::width, rows::R);
  EXPECT_FALSE(rows::diagonal_in_last_vector<double>);
#else
  GTEST_SKIP() << "vector width " << simd::vector_bytes << " bytes (only x86 builds force 16 here)";
#endif
}

TEST(TrinvRowsNarrowVectors, Fp64MatchesTheRecurrence) {
  sweep<double>();
}
TEST(TrinvRowsNarrowVectors, Fp32MatchesTheRecurrence) {
  sweep<float>();
}

}  // namespace
}  // namespace triscan
