// A user's program: includes the installed headers and links the installed library.
// Exits non-zero unless the library answers what is known exactly.
#include <cstdio>
#include <triscan/format.hpp>
#include <triscan/matrix.hpp>
#include <triscan/trinv.hpp>

int main() {
  // (I + N)^-1 for N = all ones below the diagonal is 1 on the diagonal and -1 on the
  // subdiagonal, exactly, in any format: forward substitution in fp16 gets it exactly.
  const int n = 6;
  triscan::Matrix<double> A(n, n, 1.0), X(n, n);
  triscan::TrinvOptions options;
  options.precision = triscan::Precision::uniform(triscan::format_by_name("fp16"));
  const auto result = triscan::invert(triscan::MethodSpec::parse("trinv/forward_substitution"),
                                      A.view(), X.view(), options);
  bool ok = result.status == triscan::Status::ok;
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) ok = ok && X(i, j) == (i == j ? 1.0 : i == j + 1 ? -1.0 : 0.0);
  // Chunks restart at each sequence start: [0,30), then [30,94) and [94,100).
  triscan::ChunkLayout layout{1, 100, 2, 64, {0, 30, 100}};
  const auto chunks = triscan::enumerate_chunks(layout);
  ok = ok && chunks.size() == 6 && chunks.back().size == 6;
  std::printf("triscan consumer: %s\n", ok ? "ok" : "WRONG");
  return ok ? 0 : 1;
}
