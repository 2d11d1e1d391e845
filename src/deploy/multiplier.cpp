// Fixed-point requantization multipliers: a real factor r becomes m * 2^-shift with m in
// [2^30, 2^31), so every rescale in the int8 path is one 64-bit multiply and a rounding shift. The
// generated C code (kws_ops.c) does the same operation with the same rounding.
#include <cmath>

#include <fmt/core.h>

#include "dkws/deploy.hpp"
#include "dkws/error.hpp"

namespace dkws::deploy {

QMul quantize_multiplier(double real) {
  if (!std::isfinite(real)) throw Error("quantize: a requantization factor is not finite");
  if (real == 0.0) return {0, 31};
  int exp = 0;
  const double frac = std::frexp(std::fabs(real), &exp);  // |real| = frac * 2^exp, frac in [0.5, 1)
  auto m = static_cast<long long>(std::llround(frac * 2147483648.0));
  if (m == 2147483648LL) {
    m /= 2;
    ++exp;
  }
  int shift = 31 - exp;
  if (shift < 1)
    throw Error(fmt::format("quantize: requantization factor {:g} is too large for int8", real));
  // Factors below 2^-32 contribute nothing to an int32 accumulator: drop them to keep shift small.
  if (shift > 62) return {0, 31};
  return {static_cast<int32_t>(real < 0 ? -m : m), shift};
}

int32_t apply_multiplier(int32_t x, const QMul& q) {
  const int64_t p = static_cast<int64_t>(x) * q.m;
  return static_cast<int32_t>((p + (int64_t(1) << (q.shift - 1))) >> q.shift);
}

}  // namespace dkws::deploy
