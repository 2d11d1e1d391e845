// The vector vocabulary of the nn kernels: GCC/Clang vector types rather than intrinsics, so the
// same code builds for AVX-512, AVX2 and plain SSE2 (-DDKWS_NATIVE=OFF), and the fixed-size
// accumulator arrays of the register tiles stay in registers, which auto-vectorisation of nested
// fixed-size loops does not reliably achieve. On targets narrower than a type the compiler splits
// each operation. Loads and stores go through memcpy: no alignment is assumed.
//
// Two families:
// - fixed widths (v4f, v8f, v16f and their integer twins): kernels whose tiles are laid out for
//   that many lanes (the conv engine, pools and the fused block use 8; the planar conv 16);
// - vf, the target's widest float vector (kLanes lanes), for kernels whose tiles follow the
//   hardware (dense_kernels.cpp).
// Everything here is inline and internal to the library, so the ABI note GCC gives for wide
// vectors passed by value on narrower targets does not apply (hence -Wno-psabi).
#pragma once
#include <cstdint>
#include <cstring>
#if defined(__AVX2__)
#include <immintrin.h>
#endif

namespace dkws::nn::detail {

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpsabi"

typedef float v4f __attribute__((vector_size(16)));
typedef int32_t v4i __attribute__((vector_size(16)));
typedef float v8f __attribute__((vector_size(32)));
typedef int32_t v8i __attribute__((vector_size(32)));
typedef uint32_t v8u __attribute__((vector_size(32)));
typedef uint8_t v8u8 __attribute__((vector_size(8)));
typedef float v16f __attribute__((vector_size(64)));
typedef int32_t v16i __attribute__((vector_size(64)));

// Every lane a, for any of the float vector types. Not V{} + a: adding +0.0 is not an identity
// (-0.0 + 0.0 is +0.0), so the compiler must keep that add, one more instruction per multiply-add
// in the inner loops, and the broadcast can no longer fold into the FMA's memory operand
// (ei_conv1d trained 15 % slower with it). Subtracting +0.0 is exact for every a and compiles to
// a plain broadcast.
template <class V>
inline V splat(float a) {
  return a - V{};
}

inline v8f load8(const float* p) {
  v8f v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void store8(float* p, v8f v) {
  std::memcpy(p, &v, sizeof v);
}
inline void store8(int32_t* p, v8i v) {
  std::memcpy(p, &v, sizeof v);
}

// The low byte of each lane, for lanes holding 0-255. AVX-512 narrows in one instruction
// (vpmovdb); for AVX2 GCC builds the generic conversion from a lane-by-lane extract, shift and or
// (the fused conv block's forward took twice as long as with AVX-512), so it packs there instead.
inline v8u8 narrow_u8(v8i v) {
#if defined(__AVX2__) && !defined(__AVX512VL__)
  const __m256i x = reinterpret_cast<__m256i>(v);
  const __m128i w16 = _mm_packs_epi32(_mm256_castsi256_si128(x), _mm256_extracti128_si256(x, 1));
  const __m128i w8 = _mm_packus_epi16(w16, w16);
  v8u8 out;
  std::memcpy(&out, &w8, sizeof out);
  return out;
#else
  return __builtin_convertvector(v, v8u8);
#endif
}

// The inverse: 8 bytes to 8 lanes, zero-extended. AVX2 has it in one instruction (vpmovzxbd);
// GCC's generic conversion went byte by byte there (extract, insert: a third of the winner
// backward's entry lists).
inline v8i widen_u8(v8u8 v) {
#if defined(__AVX2__) && !defined(__AVX512VL__)
  const __m128i x = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(&v));
  return reinterpret_cast<v8i>(_mm256_cvtepu8_epi32(x));
#else
  return __builtin_convertvector(v, v8i);
#endif
}

// Lane i of the result is v[idx[i] & 7]: one vpermps with AVX2.
inline v8f permute8(v8f v, v8i idx) {
#if defined(__AVX2__)
  return reinterpret_cast<v8f>(
      _mm256_permutevar8x32_ps(reinterpret_cast<__m256>(v), reinterpret_cast<__m256i>(idx)));
#else
  v8f out;
  for (int i = 0; i < 8; ++i) out[i] = v[idx[i] & 7];
  return out;
#endif
}

// Rows of `v` floats padded to whole 8-lane vectors.
inline int round_up8(int v) {
  return (v + 7) / 8 * 8;
}

// Sum of 8 lanes as ((0+4) + (1+5)) + ((2+6) + (3+7)). The conv engine's dot-product tiles sum
// in this order; hsum_halving below is another order, and each kernel keeps its own so that its
// results stay what they were.
inline float hsum8(v8f v) {
  float t[8];
  std::memcpy(t, &v, sizeof t);
  return ((t[0] + t[4]) + (t[1] + t[5])) + ((t[2] + t[6]) + (t[3] + t[7]));
}

// The target's widest float vector: 16 lanes with AVX-512, 8 with AVX, else 4 (SSE2).
#if defined(__AVX512F__)
#define DKWS_SIMD_LANES 16
#elif defined(__AVX__)
#define DKWS_SIMD_LANES 8
#else
#define DKWS_SIMD_LANES 4
#endif
constexpr int kLanes = DKWS_SIMD_LANES;
typedef float vf __attribute__((vector_size(DKWS_SIMD_LANES * sizeof(float))));

inline vf loadv(const float* p) {
  vf v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void storev(float* p, vf v) {
  std::memcpy(p, &v, sizeof v);
}

// Makes the compiler keep v in a register: GCC otherwise folds a load that feeds several
// multiply-adds into each of them, which turns 4-8 loads per 16 multiply-adds into 20, and the
// tiles run at half speed, bound by the loads.
inline void in_register([[maybe_unused]] vf& v) {
#if defined(__x86_64__) && defined(__GNUC__)
  __asm__("" : "+v"(v));
#endif
}

// Sum of the lanes as a fixed pairwise tree (lane i + lane i + half, halving).
inline float hsum_halving(vf v) {
  float t[kLanes];
  std::memcpy(t, &v, sizeof t);
  for (int half = kLanes / 2; half > 0; half /= 2)
    for (int i = 0; i < half; ++i) t[i] += t[i + half];
  return t[0];
}

#if DKWS_SIMD_LANES == 16
// The lane sums of 16 vectors at once, lane j of the result = hsum_halving(v[j]), by the same
// pairwise tree: each level adds the two halves of every group (as hsum_halving does) for two
// vectors at a time, packing both results into one vector, so the levels take 8, 4, 2 and 1
// vector additions instead of 16 x 15 scalar ones.
inline vf hsum16(const vf* v) {
  vf a[8], b[4], c[2];
  for (int k = 0; k < 8; ++k)  // groups of 16 -> 8: lane i + lane i + 8
    a[k] = __builtin_shufflevector(v[2 * k], v[2 * k + 1], 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19,
                                   20, 21, 22, 23) +
           __builtin_shufflevector(v[2 * k], v[2 * k + 1], 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26,
                                   27, 28, 29, 30, 31);
  for (int k = 0; k < 4; ++k)  // 8 -> 4
    b[k] = __builtin_shufflevector(a[2 * k], a[2 * k + 1], 0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19,
                                   24, 25, 26, 27) +
           __builtin_shufflevector(a[2 * k], a[2 * k + 1], 4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22,
                                   23, 28, 29, 30, 31);
  for (int k = 0; k < 2; ++k)  // 4 -> 2
    c[k] = __builtin_shufflevector(b[2 * k], b[2 * k + 1], 0, 1, 4, 5, 8, 9, 12, 13, 16, 17, 20, 21,
                                   24, 25, 28, 29) +
           __builtin_shufflevector(b[2 * k], b[2 * k + 1], 2, 3, 6, 7, 10, 11, 14, 15, 18, 19, 22,
                                   23, 26, 27, 30, 31);
  return __builtin_shufflevector(c[0], c[1], 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28,
                                 30) +
         __builtin_shufflevector(c[0], c[1], 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29,
                                 31);  // 2 -> 1
}
#endif

#if DKWS_SIMD_LANES == 8
// The same for 8 vectors of 8 lanes (AVX2): lane j of the result = hsum_halving(v[j]), the tree's
// levels as 4, 2 and 1 vector additions instead of 8 x 7 scalar ones through memory.
inline vf hsum8x8(const vf* v) {
  vf a[4], b[2];
  for (int k = 0; k < 4; ++k)  // groups of 8 -> 4: lane i + lane i + 4
    a[k] = __builtin_shufflevector(v[2 * k], v[2 * k + 1], 0, 1, 2, 3, 8, 9, 10, 11) +
           __builtin_shufflevector(v[2 * k], v[2 * k + 1], 4, 5, 6, 7, 12, 13, 14, 15);
  for (int k = 0; k < 2; ++k)  // 4 -> 2
    b[k] = __builtin_shufflevector(a[2 * k], a[2 * k + 1], 0, 1, 4, 5, 8, 9, 12, 13) +
           __builtin_shufflevector(a[2 * k], a[2 * k + 1], 2, 3, 6, 7, 10, 11, 14, 15);
  return __builtin_shufflevector(b[0], b[1], 0, 2, 4, 6, 8, 10, 12, 14) +
         __builtin_shufflevector(b[0], b[1], 1, 3, 5, 7, 9, 11, 13, 15);  // 2 -> 1
}
#endif

#pragma GCC diagnostic pop

}  // namespace dkws::nn::detail
