// Branch-free float approximations of log and sin/cos for the bulk normal generator
// (Rng::fill_normal). They are plain inline code, so loops that call them auto-vectorise and give
// the same bits on every libm; the coefficients are Cephes' single-precision minimax fits
// (logf, sinf, cosf), accurate to a few float ulps on the ranges used.
#pragma once
#include <bit>
#include <cstdint>

namespace dkws {

// ln(x) for positive normal floats (not 0, subnormals, inf or NaN).
inline float approx_log(float x) {
  const uint32_t bits = std::bit_cast<uint32_t>(x);
  // x = m * 2^e with m in [0.5, 1); m below sqrt(1/2) is doubled so f = m - 1 stays in
  // [-0.293, 0.414], where the polynomial is fitted.
  // The adjustment is arithmetic on a 0/1 integer rather than a ?: so that loops vectorise even
  // without blend instructions (plain SSE2); m * 2 is exact.
  const float m = std::bit_cast<float>((bits & 0x007fffffu) | 0x3f000000u);
  const int32_t low = int32_t(m < 0.70710678118654752f);
  const float e = float(int32_t(bits >> 23) - 126 - low);
  const float f = m * float(1 + low) - 1.f;
  const float z = f * f;
  float p = 7.0376836292e-2f;
  p = p * f - 1.1514610310e-1f;
  p = p * f + 1.1676998740e-1f;
  p = p * f - 1.2420140846e-1f;
  p = p * f + 1.4249322787e-1f;
  p = p * f - 1.6668057665e-1f;
  p = p * f + 2.0000714765e-1f;
  p = p * f - 2.4999993993e-1f;
  p = p * f + 3.3333331174e-1f;
  float y = p * f * z;
  // ln 2 split in two parts (0.693359375 is exact in a few bits) keeps e * ln2 accurate.
  y += -2.12194440e-4f * e;
  y += -0.5f * z;
  return f + y + 0.693359375f * e;
}

// sin(2 pi t) and cos(2 pi t) for t in [0, 1] (any t >= 0 with 4t < 2^22 works). The reduction to
// the nearest quarter turn is exact in float, so the error is that of the polynomials on
// [-pi/4, pi/4].
inline void approx_sincos_turns(float t, float& sin_out, float& cos_out) {
  const float t4 = 4.f * t;
  const int32_t q = int32_t(t4 + 0.5f);                    // nearest quarter turn (t >= 0)
  const float x = (t4 - float(q)) * 1.57079632679489662f;  // in [-pi/4, pi/4]
  const float z = x * x;
  float s = -1.9515295891e-4f;
  s = s * z + 8.3321608736e-3f;
  s = s * z - 1.6666654611e-1f;
  s = s * z * x + x;
  float c = 2.443315711809948e-5f;
  c = c * z - 1.388731625493765e-3f;
  c = c * z + 4.166664568298827e-2f;
  c = c * z * z - 0.5f * z + 1.f;
  // Rotate by q quarter turns: (sin, cos) -> (cos, -sin) per quarter. Done on the bits (swap
  // under a mask, flip sign bits), which vectorises on every ISA; ?: on floats became branches
  // without AVX and mispredicted on random angles.
  const uint32_t sb = std::bit_cast<uint32_t>(s), cb = std::bit_cast<uint32_t>(c);
  const uint32_t odd = 0u - uint32_t(q & 1);
  const uint32_t sr = (cb & odd) | (sb & ~odd), cr = (sb & odd) | (cb & ~odd);
  sin_out = std::bit_cast<float>(sr ^ (uint32_t(q & 2) << 30));
  cos_out = std::bit_cast<float>(cr ^ (uint32_t((q + 1) & 2) << 30));
}

}  // namespace dkws
