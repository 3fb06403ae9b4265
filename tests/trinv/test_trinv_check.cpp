// DESIGN.md's contract in the formats where it is hardest to keep: a method never
// returns silently wrong numbers. In e4m3, bf16 and fp16 operands (fp32 accumulation)
// the driver's componentwise threshold 4(n+1)u reaches or passes 1, so what keeps a
// wrong result from being reported `ok` is the rest of the machinery (the iterative
// methods' growth and residual checks, overflow tracking). The assertion: every `ok`
// result has a relative forward error (infinity norm) below 1, i.e. it is not garbage;
// a result with no correct digit must carry a flag. Inputs: the keys that make products
// and merges grow (equal, correlated, beta up to 2).
#include <gtest/gtest.h>

#include <cmath>

#include "triscan/trinv.hpp"
#include "validation/experiment.hpp"

namespace triscan {
namespace {

TEST(TrinvCheck, OkInNarrowFormatsIsNeverGarbage) {
  int ok_runs = 0, flagged_runs = 0;
  for (const char* format : {"e4m3", "bf16", "fp16"}) {
    TrinvOptions options;
    options.precision = validation::make_precision({format, "fp32", "", "", "rn", "", 1});
    for (const auto& method : trinv_methods()) {
      for (const char* generator : {"deltanet-equal", "deltanet-correlated", "deltanet-beta2"}) {
        for (index_t n : {32, 64}) {
          for (std::uint64_t seed : {1u}) {
            validation::GeneratorParams g;
            g.name = generator;
            g.n = n;
            g.seed = seed;
            const auto rec = validation::run_inversion(MethodSpec::parse(method.name), options, g);
            if (rec.result.status != Status::ok) {
              ++flagged_runs;
              continue;
            }
            ++ok_runs;
            ASSERT_TRUE(rec.has_metrics);
            EXPECT_LT(rec.metrics.forward_error_inf, 1.0)
                << method.name << " " << format << "/fp32acc " << generator << " n=" << n << " seed=" << seed
                << ": reported ok with relative forward error " << rec.metrics.forward_error_inf;
          }
        }
      }
    }
  }
  // The sweep must exercise both outcomes, or it proves nothing.
  EXPECT_GT(ok_runs, 0);
  EXPECT_GT(flagged_runs, 0);
}

}  // namespace
}  // namespace triscan
