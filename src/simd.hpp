// src/simd.hpp — the SIMD vocabulary of the native kernels (not installed): the batched
// Method 1 kernels (src/trinv/lanes.hpp, src/trinv/rows.hpp) and the scalar/diagonal
// scan strips (src/scan/strips.hpp): a vector of T as wide as the target allows, a
// broadcast, a lane-index vector, an unaligned load and a (streaming) vector store.
//
// Portable C++: GCC/Clang vector extensions, whose width follows the target (64 bytes
// with AVX-512, 32 with AVX, else 16); without SIMD hardware the compiler lowers them to
// scalar code.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "triscan/matrix.hpp"

#if defined(__AVX512F__) || defined(__AVX__)
#include <immintrin.h>
#endif

namespace triscan::simd {
// Internal linkage: the vector width follows each translation unit's target flags
// (direct.cpp and the scan driver are built with -march=native), so two TUs' instantiations must
// never be merged or interposed (tests/trinv/test_trinv_lane_check.cpp includes lanes.hpp too).
namespace {

#if defined(__AVX512F__)
inline constexpr std::size_t vector_bytes = 64;
inline constexpr int vector_registers = 32;
#elif defined(__AVX__)
inline constexpr std::size_t vector_bytes = 32;
inline constexpr int vector_registers = 16;
#else
inline constexpr std::size_t vector_bytes = 16;
inline constexpr int vector_registers = 16;
#endif

template <class T>
struct Vec {
  typedef T type __attribute__((vector_size(vector_bytes)));
  using index_type = std::conditional_t<sizeof(T) == 4, std::int32_t, std::int64_t>;
  typedef index_type index __attribute__((vector_size(vector_bytes)));
  static constexpr index_t width = static_cast<index_t>(vector_bytes / sizeof(T));
};

// Every lane = s: s - 0 is s exactly, the sign of a zero included (V{} + s would turn
// -0 into +0), and compilers emit it as one broadcast.
template <class T>
inline typename Vec<T>::type splat(T s) {
  return s - typename Vec<T>::type{};
}

// Lane q = q.
template <class T>
inline typename Vec<T>::index iota() {
  typename Vec<T>::index v;
  for (index_t q = 0; q < Vec<T>::width; ++q) v[q] = static_cast<typename Vec<T>::index_type>(q);
  return v;
}

// Lanes of v whose value is not finite: all bits set there, 0 elsewhere (integer
// operations on the exponent field: one cycle each, no floating-point exception).
template <class T>
inline typename Vec<T>::index nonfinite(const typename Vec<T>::type& v) {
  using I = typename Vec<T>::index;
  using E = typename Vec<T>::index_type;
  constexpr E exponent = sizeof(T) == 4 ? E(0x7f800000) : E(0x7ff0000000000000);
  I b;
  std::memcpy(&b, &v, sizeof(I));
  return (b & exponent) == exponent;
}

// Loads W entries from p (unit stride, any alignment).
template <class T>
[[gnu::always_inline]] inline typename Vec<T>::type load(const T* p) {
  typename Vec<T>::type v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

// Whether store_stream streams (AVX / AVX-512 builds).
#if defined(__AVX512F__) || defined(__AVX__)
inline constexpr bool can_stream = true;
#else
inline constexpr bool can_stream = false;
#endif

// Stores one vector to o, aligned to the vector size, with a streaming store where
// can_stream (else an ordinary store); the caller ends with a store fence.
template <class T>
[[gnu::always_inline]] inline void store_stream(T* o, const typename Vec<T>::type& v) {
#if defined(__AVX512F__)
  if constexpr (std::is_same_v<T, float>)
    _mm512_stream_ps(o, reinterpret_cast<const __m512&>(v));
  else
    _mm512_stream_pd(o, reinterpret_cast<const __m512d&>(v));
#elif defined(__AVX__)
  if constexpr (std::is_same_v<T, float>)
    _mm256_stream_ps(o, reinterpret_cast<const __m256&>(v));
  else
    _mm256_stream_pd(o, reinterpret_cast<const __m256d&>(v));
#else
  std::memcpy(o, &v, sizeof(v));
#endif
}

// Stores one vector to o (W entries, unit stride). Streaming (non-temporal) when asked
// and o is aligned to the vector size on AVX / AVX-512 hardware; else an ordinary store.
// Returns whether it streamed (the caller then ends with a store fence).
template <class T>
[[gnu::always_inline]] inline bool store(T* o, const typename Vec<T>::type& v, bool stream) {
#if defined(__AVX512F__) || defined(__AVX__)
  if (stream && reinterpret_cast<std::uintptr_t>(o) % vector_bytes == 0) {
    store_stream<T>(o, v);
    return true;
  }
#endif
  (void)stream;
  std::memcpy(o, &v, sizeof(v));
  return false;
}

// Stores lanes [lo, hi) of v to o + lo .. o + hi - 1 (ordinary stores).
template <class T>
[[gnu::always_inline]] inline void store_lanes(T* o, const typename Vec<T>::type& v, int lo,
                                               int hi) {
#if defined(__AVX512F__)
  const auto mask = static_cast<std::uint16_t>(((1u << hi) - 1u) & ~((1u << lo) - 1u));
  if constexpr (std::is_same_v<T, float>)
    _mm512_mask_storeu_ps(o, static_cast<__mmask16>(mask), reinterpret_cast<const __m512&>(v));
  else
    _mm512_mask_storeu_pd(o, static_cast<__mmask8>(mask), reinterpret_cast<const __m512d&>(v));
#else
  for (int q = lo; q < hi; ++q) o[q] = v[q];
#endif
}

// Orders the streaming stores before whatever follows.
inline void store_fence() {
#if defined(__AVX512F__) || defined(__AVX__)
  _mm_sfence();
#endif
}

}  // namespace
}  // namespace triscan::simd
