// The dendrite nonlinearity sigma. A variant is a forward and a derivative written in terms of the
// pre-activation a and output h, so new variants stay one small piece.
#pragma once
#include <cmath>
#include <cstddef>
#include <string>

#include "dkws/error.hpp"

namespace dkws::dendrite {

enum class Activation { kTanh, kSigmoid, kRelu };

inline Activation parse_activation(const std::string& name) {
  if (name == "tanh") return Activation::kTanh;
  if (name == "sigmoid") return Activation::kSigmoid;
  if (name == "relu") return Activation::kRelu;
  throw Error("dendrite activation: unknown '" + name + "' (tanh, sigmoid, relu)");
}

inline const char* activation_name(Activation a) {
  switch (a) {
    case Activation::kTanh:
      return "tanh";
    case Activation::kSigmoid:
      return "sigmoid";
    case Activation::kRelu:
      return "relu";
  }
  return "?";
}

// tanh as a clamped odd/even rational function (the minimax fit Eigen uses for float, accurate to a
// few ulp). Plain arithmetic, so loops over it vectorise; libm's tanhf would cost more than the
// convolution feeding it. The generated C code uses the same formula, so exports match exactly.
// The clamp is written with comparisons, not std::fmin/fmax: those have NaN rules that keep GCC
// from vectorising them (it calls libm per element), which made this loop 10x slower.
inline float fast_tanh(float x_in) {
  constexpr float kClamp = 7.90531110763549805f;
  const float x = x_in > kClamp ? kClamp : (x_in < -kClamp ? -kClamp : x_in);
  const float x2 = x * x;
  float p = x2 * -2.76076847742355e-16f + 2.00018790482477e-13f;
  p = x2 * p + -8.60467152213735e-11f;
  p = x2 * p + 5.12229709037114e-08f;
  p = x2 * p + 1.48572235717979e-05f;
  p = x2 * p + 6.37261928875436e-04f;
  p = x2 * p + 4.89352455891786e-03f;
  p = x * p;
  float q = x2 * 1.19825839466702e-06f + 1.18534705686654e-04f;
  q = x2 * q + 2.26843463243900e-03f;
  q = x2 * q + 4.89352518554385e-03f;
  return std::fabs(x_in) < 0.0004f ? x_in : p / q;
}

inline float activate(Activation act, float a) {
  switch (act) {
    case Activation::kTanh:
      return fast_tanh(a);
    case Activation::kSigmoid:
      return 0.5f + 0.5f * fast_tanh(0.5f * a);
    case Activation::kRelu:
      return a > 0.f ? a : 0.f;
  }
  return a;
}

// d sigma / d a, from a and h = sigma(a).
inline float activation_slope(Activation act, float a, float h) {
  switch (act) {
    case Activation::kTanh:
      return 1.f - h * h;
    case Activation::kSigmoid:
      return h * (1.f - h);
    case Activation::kRelu:
      return a > 0.f ? 1.f : 0.f;
  }
  return 1.f;
}

// h[i] = sigma(a[i]) with the variant chosen once, outside the loop, so the loop vectorises.
inline void activate_all(Activation act, const float* __restrict a, float* __restrict h, size_t n) {
  switch (act) {
    case Activation::kTanh:
      for (size_t i = 0; i < n; ++i) h[i] = activate(Activation::kTanh, a[i]);
      break;
    case Activation::kSigmoid:
      for (size_t i = 0; i < n; ++i) h[i] = activate(Activation::kSigmoid, a[i]);
      break;
    case Activation::kRelu:
      for (size_t i = 0; i < n; ++i) h[i] = activate(Activation::kRelu, a[i]);
      break;
  }
}

// out[i] = g[i] * sigma'(a[i]) (given h = sigma(a)), the variant chosen outside the loop.
inline void scale_by_slope(Activation act, const float* __restrict a, const float* __restrict h,
                           const float* __restrict g, float* __restrict out, size_t n) {
  switch (act) {
    case Activation::kTanh:
      for (size_t i = 0; i < n; ++i) out[i] = g[i] * (1.f - h[i] * h[i]);
      break;
    case Activation::kSigmoid:
      for (size_t i = 0; i < n; ++i) out[i] = g[i] * (h[i] * (1.f - h[i]));
      break;
    case Activation::kRelu:
      for (size_t i = 0; i < n; ++i) out[i] = a[i] > 0.f ? g[i] : 0.f;
      break;
  }
}

// g[i] *= sigma'(a[i]) (given h = sigma(a)), the variant chosen outside the loop.
inline void scale_by_slope_inplace(Activation act, const float* __restrict a,
                                   const float* __restrict h, float* __restrict g, size_t n) {
  switch (act) {
    case Activation::kTanh:
      for (size_t i = 0; i < n; ++i) g[i] *= 1.f - h[i] * h[i];
      break;
    case Activation::kSigmoid:
      for (size_t i = 0; i < n; ++i) g[i] *= h[i] * (1.f - h[i]);
      break;
    case Activation::kRelu:
      for (size_t i = 0; i < n; ++i) g[i] = a[i] > 0.f ? g[i] : 0.f;
      break;
  }
}

}  // namespace dkws::dendrite
