// The dendrite nonlinearity sigma. A variant is a forward and a derivative written in terms of the
// pre-activation a and output h, so new variants stay one small piece.
#pragma once
#include <cmath>
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
    case Activation::kTanh: return "tanh";
    case Activation::kSigmoid: return "sigmoid";
    case Activation::kRelu: return "relu";
  }
  return "?";
}

inline float activate(Activation act, float a) {
  switch (act) {
    case Activation::kTanh: return std::tanh(a);
    case Activation::kSigmoid: return 1.f / (1.f + std::exp(-a));
    case Activation::kRelu: return a > 0.f ? a : 0.f;
  }
  return a;
}

// d sigma / d a, from a and h = sigma(a).
inline float activation_slope(Activation act, float a, float h) {
  switch (act) {
    case Activation::kTanh: return 1.f - h * h;
    case Activation::kSigmoid: return h * (1.f - h);
    case Activation::kRelu: return a > 0.f ? 1.f : 0.f;
  }
  return 1.f;
}

}  // namespace dkws::dendrite
