// A user's program: includes the installed headers and links the installed library.
// Exits non-zero unless the library answers what is known exactly.
#include <cstdio>
#include <triscan/matrix.hpp>
#include <triscan/registry.hpp>

int main() {
  const auto spec = triscan::MethodSpec::parse("trinv/blocked:nb=32");
  triscan::ChunkLayout layout{1, 100, 2, 64, {0, 30, 100}};
  // chunks restart at 30: sequence 1 has chunks [0,30), sequence 2 [30,94), [94,100).
  const auto chunks = triscan::enumerate_chunks(layout);
  const bool ok = spec.get_int("nb", 0, 1, 4096) == 32 && chunks.size() == 6 && chunks.back().size == 6;
  std::printf("triscan consumer: %s\n", ok ? "ok" : "WRONG");
  return ok ? 0 : 1;
}
