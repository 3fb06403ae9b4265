// validation/generators.hpp — seeded, machine-independent test-matrix generators
// (docs/generators.md has every construction in full).
//
// A generator turns (name, n, seed, options) into the matrix L (unit lower I + N, or
// non-unit lower for the lapack-* types) together with the token tensors it was built
// from (keys, values, queries, beta, log-decays, DPLR a/b), so one seed feeds
// inversion, WY, scans and GPU benchmarks alike. make_chunk_problem() draws the same
// per-token inputs for a whole [B, T, H] batch and forms every chunk matrix with the
// same formula, in the linear-attention layout [B, T, H, BT].
//
// Determinism: the random streams are xoshiro256** seeded through splitmix64, and the
// uniform/normal transforms and exp/log are this library's own (only +, -, *, /,
// sqrt, which IEEE 754 rounds correctly), so the output is bit-identical on every
// machine that does not contract a*b+c into an fma (generators.cpp disables that).
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "triscan/format.hpp"
#include "triscan/matrix.hpp"
#include "triscan/trinv.hpp"  // Diagonal
#include "validation/npy.hpp"

namespace triscan::validation {

// ---- Random numbers -------------------------------------------------------------

// splitmix64 (Steele, Lea & Flood 2014): the seeding PRNG (include/triscan/format.hpp).
using triscan::splitmix64_next;

// xoshiro256** 1.0 (Blackman & Vigna 2018). A stream is identified by a seed and a
// list of stream ids (e.g. tensor tag, batch entry, head), hashed through splitmix64;
// its state is the next four splitmix64 outputs.
class Rng {
 public:
  explicit Rng(std::uint64_t seed, std::initializer_list<std::uint64_t> stream = {});
  static Rng from_state(const std::array<std::uint64_t, 4>& s);  // for reference tests
  std::uint64_t next() { return bits_.next(); }
  double uniform() { return bits_.uniform(); }  // k * 2^-53, k uniform in [0, 2^53): [0, 1)
  double uniform_open();                   // (k + 1/2) * 2^-53: (0, 1), symmetric about 1/2
  double uniform(double lo, double hi);    // lo + (hi - lo) * uniform_open(): (lo, hi) before
                                           // rounding; the rounded result may equal hi
  double normal();                         // N(0, 1), Marsaglia's polar method

 private:
  explicit Rng(RandomBits bits) : bits_(bits) {}
  RandomBits bits_;  // the same xoshiro256** as stochastic rounding uses
};

// Deterministic elementary functions from +, -, *, /, sqrt only (no libm); relative
// error below 64u (bound in tests/validation/test_random.cpp): exp on [-708, 709] (0 or
// a subnormal below, inf above), log on positive normal and subnormal numbers.
double det_exp(double x);
double det_log(double x);

// ---- Generators -----------------------------------------------------------------

// Every option except `name`, `n` and `seed` is optional; setting one that the named
// generator does not use is an error (so a typo in a study never silently does
// nothing). Defaults: dk = dv = 128, gate = -0.1, beta ~ U(0, 1) (U(0, 2) for
// deltanet-beta2).
struct GeneratorParams {
  std::string name;
  index_t n = 64;
  std::uint64_t seed = 0;
  std::optional<index_t> dk, dv;
  std::optional<double> beta, beta_max;
  std::optional<double> gate;
  std::optional<double> scale;  // target ||N||_inf (infinity norm of the strictly lower part)
};

inline constexpr index_t default_head_dim = 128;
inline constexpr double default_gate = -0.1;

// A named dense array in C (row-major) order.
struct Tensor {
  std::vector<index_t> shape;
  std::vector<double> data;
  index_t size() const;
};
using Tensors = std::map<std::string, Tensor>;

struct Generated {
  Matrix<double> L;  // full n x n: unit lower (diagonal 1, upper 0) or non-unit lower
  Diagonal diagonal = Diagonal::unit;
  Tensors tensors;   // see docs/generators.md for each generator's tensor names
};

struct GeneratorInfo {
  std::string name;
  std::string description;
  std::vector<std::string> options;  // which of dk, dv, beta, beta_max, gate, scale apply
  Diagonal diagonal = Diagonal::unit;
  bool chunkable = true;  // accepted by make_chunk_problem
};

const std::vector<GeneratorInfo>& generators();
// Throws std::invalid_argument naming `name` and listing every generator.
const GeneratorInfo& generator_info(std::string_view name);

// Throws std::invalid_argument naming the offending key (name, n, dk, dv, beta,
// beta_max, gate, scale) and its allowed values.
void validate(const GeneratorParams& params);
// The n x n matrix and its tensors. For every unit-lower generator this is, bit for bit,
// make_chunk_problem with B = H = 1 and T = BT = n (one code path), with the tensors'
// [1, n, 1, w] shapes squeezed to [n, w] and [n].
Generated generate(const GeneratorParams& params);

// ---- Chunked inputs in the linear-attention layout ------------------------------

// Tensors of a [B, T, ...] problem (all C order):
//   "k", "q"      [B, T, Hk, dk]   unit-norm rows (q drawn like k, from its own stream)
//   "v"           [B, T, H, dv]    N(0, 1)
//   "beta"        [B, T, H]        (after `scale`, see docs)
//   "g_token"     [B, T, H] (gated) or [B, T, H, dk] (kda, dplr): per-token log-decays
//   "g"           same shape: the in-chunk inclusive cumulative sums of g_token
//   "a", "b"      [B, T, H, dk]    dplr only
//   "A"           [B, T, H, BT]    strictly lower chunk matrices N, 0 elsewhere
// Token-free generators (gaussian, ones, block-ones) give only "A".
struct ChunkProblem {
  ChunkLayout layout;
  index_t key_heads = 1;  // Hk; value head h uses key head h * Hk / H
  Tensors tensors;
};

// key_heads = 0 means Hk = H; otherwise Hk must divide H. params.n is not used (the
// layout gives the sizes); `scale` applies per chunk and head. The lapack-* types are
// non-unit and are rejected (the layout stores strictly lower parts only). Throws
// std::invalid_argument naming the bad option, layout field or key_heads.
ChunkProblem make_chunk_problem(const GeneratorParams& params, const ChunkLayout& layout,
                                index_t key_heads = 0);

// ---- Saving ------------------------------------------------------------------------

// Write every tensor as DIR/<name>.npy in C order, converted to `as` (f8 or f4); for a
// Generated also DIR/L.npy (n x n), for a ChunkProblem also DIR/cu_seqlens.npy ('<i8')
// when the layout has one. Creates DIR. Returns the paths written, in order.
// (`triscan generate --tensors --out DIR`.) Throws std::invalid_argument for an integer
// `as`, std::runtime_error when a file cannot be written.
std::vector<std::string> save_npy(const std::string& dir, const Generated& g, NpyType as = NpyType::f8);
std::vector<std::string> save_npy(const std::string& dir, const ChunkProblem& p, NpyType as = NpyType::f8);

}  // namespace triscan::validation
