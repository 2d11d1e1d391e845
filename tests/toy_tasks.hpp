// Small synthetic tasks shared by the dendrite tests.
#pragma once
#include <cmath>

#include "dkws/dataset.hpp"
#include "dkws/nn/tensor.hpp"
#include "dkws/rng.hpp"

namespace dkws::testing {

// XOR on [-1, 1]^2 (label: same sign), with a 0.1 margin around the axes so the task is clean.
inline FeatureSet xor_set(int n, uint64_t seed) {
  FeatureSet s;
  s.frames = 1;
  s.coeffs = 2;
  Rng rng(seed);
  while (int(s.size()) < n) {
    const double a = rng.uniform(-1, 1), b = rng.uniform(-1, 1);
    if (std::abs(a) < 0.1 || std::abs(b) < 0.1) continue;
    s.x.push_back(float(a));
    s.x.push_back(float(b));
    s.y.push_back(a * b > 0);
  }
  return s;
}

// Train 400, val 200, test 400 rows of xor_set.
inline TaskData xor_task() {
  TaskData t;
  t.name = "xor";
  t.classes = {"different", "same"};
  t.train = xor_set(400, 1);
  t.val = xor_set(200, 2);
  t.test = xor_set(400, 3);
  return t;
}

// Three classes whose feature matrices differ by a class-specific pattern under noise.
inline FeatureSet pattern_set(int n, uint64_t seed, int frames = 8, int coeffs = 3) {
  FeatureSet s;
  s.frames = frames;
  s.coeffs = coeffs;
  Rng rng(seed);
  for (int i = 0; i < n; ++i) {
    const int label = i % 3;
    s.y.push_back(label);
    for (int f = 0; f < frames; ++f)
      for (int c = 0; c < coeffs; ++c)
        s.x.push_back(float(0.8 * ((f + label) % 3 == c) + 0.5 * rng.normal()));
  }
  return s;
}

// N(0, scale^2) entries.
inline nn::Tensor random_tensor(nn::Shape shape, Rng& rng, double scale = 1.0) {
  nn::Tensor t(std::move(shape));
  for (float& v : t.data) v = float(scale * rng.normal());
  return t;
}

}  // namespace dkws::testing
