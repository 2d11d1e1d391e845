// Multiply-add with one fixed rounding per build: fused (a single rounding) wherever the target
// has FMA, else a multiply and an add.
//
// Why the kernels spell it out instead of writing acc += a * b: several of their claims need an
// element to come out bit for bit the same whichever tile or remainder path computes it (an
// item's result does not depend on its batch; a fused conv block equals the layers run one by
// one). Left to itself the compiler decides per expression whether to contract a * b + c into an
// FMA. Generic and Intel tuning contract all of them, but GCC's tuning for AMD Zen 2/3
// (-march=native there, or -mtune=znver2/3) keeps loop-carried chains unfused while contracting
// the rest, so one path rounded twice where another rounded once and the same item gave another
// last bit in another batch. Where every multiply-add of a sum is written with madd(), each
// path rounds exactly as the others do on any target. (Without FMA the compiler cannot contract
// at all, so the plain expression is as fixed.)
#pragma once

#if defined(__FMA__)
#include <immintrin.h>
#endif

#include "nn/simd.hpp"

namespace dkws::nn::detail {

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpsabi"

inline float madd(float a, float b, float c) {
#if defined(__FMA__)
  return __builtin_fmaf(a, b, c);  // one vfmadd instruction, no libm call
#else
  return a * b + c;
#endif
}

// The same lane by lane, for GCC/Clang vectors of 4, 8 or 16 floats.
template <class V>
inline V madd(V a, V b, V c) {
  static_assert(sizeof(V) == 16 || sizeof(V) == 32 || sizeof(V) == 64, "4, 8 or 16 floats");
#if defined(__FMA__)
  if constexpr (sizeof(V) == 16) {
    return V(_mm_fmadd_ps(__m128(a), __m128(b), __m128(c)));
  } else if constexpr (sizeof(V) == 32) {
    return V(_mm256_fmadd_ps(__m256(a), __m256(b), __m256(c)));
  } else {
#if defined(__AVX512F__)
    return V(_mm512_fmadd_ps(__m512(a), __m512(b), __m512(c)));
#else
    // Two 8-lane halves, as the compiler splits any 16-lane operation without AVX-512.
    typedef float half __attribute__((vector_size(32)));
    const half lo = madd(half(__builtin_shufflevector(a, a, 0, 1, 2, 3, 4, 5, 6, 7)),
                         half(__builtin_shufflevector(b, b, 0, 1, 2, 3, 4, 5, 6, 7)),
                         half(__builtin_shufflevector(c, c, 0, 1, 2, 3, 4, 5, 6, 7)));
    const half hi = madd(half(__builtin_shufflevector(a, a, 8, 9, 10, 11, 12, 13, 14, 15)),
                         half(__builtin_shufflevector(b, b, 8, 9, 10, 11, 12, 13, 14, 15)),
                         half(__builtin_shufflevector(c, c, 8, 9, 10, 11, 12, 13, 14, 15)));
    return __builtin_shufflevector(lo, hi, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
#endif
  }
#else
  return a * b + c;
#endif
}

// madd with a scalar broadcast to every lane of b and c.
template <class V>
inline V madd(float a, V b, V c) {
  return madd(splat<V>(a), b, c);
}

#pragma GCC diagnostic pop

}  // namespace dkws::nn::detail
