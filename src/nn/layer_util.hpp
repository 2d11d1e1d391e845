// Small helpers every layer implementation in src/nn uses: Glorot init, input shape checks,
// allocation-free resizing, and the switch that tests use to run the plain reference loops.
#pragma once
#include <cmath>
#include <initializer_list>
#include <string>

#include <fmt/format.h>

#include "dkws/error.hpp"
#include "dkws/nn/layer.hpp"

namespace dkws::nn::detail {

// Tests set this to run the reference loops of Dense/Conv1D/Conv2D instead of the fast kernels.
inline bool use_reference_kernels = false;

// Keras glorot_uniform: U(-l, l) with l = sqrt(6 / (fan_in + fan_out)), drawn in storage order.
inline void glorot_uniform(Rng& rng, Tensor& w, int fan_in, int fan_out) {
  const double limit = std::sqrt(6.0 / double(fan_in + fan_out));
  for (float& v : w.data) v = float(rng.uniform(-limit, limit));
}

inline std::string shape_str(const Shape& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

// Throws unless `in` is [N, dims...] with the given item dims (-1 matches any size).
inline void check_input(const char* kind, const Shape& in, std::initializer_list<int> dims) {
  bool ok = in.size() == dims.size() + 1 && !in.empty() && in[0] > 0;
  size_t i = 1;
  for (int d : dims) {
    if (!ok) break;
    ok = in[i] > 0 && (d < 0 || in[i] == d);
    ++i;
  }
  if (!ok) {
    std::string want = "[N";
    for (int d : dims) want += d < 0 ? ", *" : ", " + std::to_string(d);
    throw Error(fmt::format("{}: expected input {}, got {}", kind, want + "]", shape_str(in)));
  }
}

// t.resize(dims) without building a temporary Shape: after the first batch of a given rank and
// size nothing is allocated.
inline void resize_to(Tensor& t, std::initializer_list<int> dims) {
  t.shape.assign(dims);
  t.data.resize(shape_size(t.shape));
}

}  // namespace dkws::nn::detail
