// Finite-difference gradient checks of single layers, shared by the layer test files: inputs with
// well-separated values (so a step never flips a max or a ReLU gate), a loss sum(y * r) with a
// random r, and central differences compared with each layer's backward.
#pragma once
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <numeric>
#include <string>

#include "dkws/nn/layer.hpp"
#include "nn/layer_util.hpp"

namespace dkws::nn::gradtest {

// Runs the enclosing scope with the reference kernels on or off.
struct KernelMode {
  explicit KernelMode(bool reference) { detail::use_reference_kernels = reference; }
  ~KernelMode() { detail::use_reference_kernels = false; }
};

// Distinct values, well apart (>= 0.02) and away from 0, in random order, so that a finite
// difference step never flips a max-pool argmax or a ReLU gate.
inline void fill_distinct(Tensor& t, Rng& rng) {
  std::vector<size_t> idx(t.size());
  std::iota(idx.begin(), idx.end(), 0);
  for (size_t i = idx.size(); i > 1; --i) std::swap(idx[i - 1], idx[rng.below(i)]);
  for (size_t i = 0; i < idx.size(); ++i) {
    const float mag = 0.05f + 0.02f * float(i);
    t[idx[i]] = (i % 2 ? mag : -mag) * (1.f / (1.f + 0.01f * float(idx.size())));
  }
}

inline void fill_normal(Tensor& t, Rng& rng) {
  for (float& v : t.data) v = float(rng.normal());
}

// loss = sum(y * r) in double, so dL/dy = r.
inline double loss_of(Layer& layer, const Tensor& x, const Tensor& r,
                      const std::function<void()>& reseed, ForwardContext ctx) {
  Tensor y;
  reseed();
  layer.forward(x, y, ctx);
  double s = 0;
  for (size_t i = 0; i < y.size(); ++i) s += double(y[i]) * double(r[i]);
  return s;
}

// Compares analytic gradients of `layer` at x with central differences (step eps). Stochastic
// layers see the same random draws in every forward because `reseed` runs before each.
inline void gradcheck(
    Layer& layer, Tensor x, const std::string& what, bool training = false,
    std::function<void()> reseed = [] {}, Rng* rng = nullptr) {
  SCOPED_TRACE(what);
  const double eps = 1e-3, atol = 1e-3, rtol = 1e-2;
  ForwardContext ctx{training, rng};
  Rng rr(99);
  Tensor y, r(layer.output_shape(x.shape));
  fill_normal(r, rr);

  for (Param* p : layer.params()) p->grad.zero();
  reseed();
  layer.forward(x, y, ctx);
  ASSERT_EQ(y.shape, layer.output_shape(x.shape));
  Tensor dx(x.shape, std::nanf(""));  // dx must be overwritten, whatever it held
  layer.backward(x, y, r, &dx);
  ASSERT_EQ(dx.shape, x.shape);

  auto check = [&](Tensor& var, const Tensor& analytic, const std::string& name) {
    int bad = 0;
    for (size_t i = 0; i < var.size(); ++i) {
      const float keep = var[i];
      var[i] = float(keep + eps);
      const double up = loss_of(layer, x, r, reseed, ctx);
      var[i] = float(keep - eps);
      const double down = loss_of(layer, x, r, reseed, ctx);
      var[i] = keep;
      const double num = (up - down) / (2 * eps), ana = analytic[i];
      if (!(std::abs(num - ana) <= atol + rtol * std::max(std::abs(num), std::abs(ana))) &&
          bad++ < 5)
        ADD_FAILURE() << name << "[" << i << "]: analytic " << ana << " numeric " << num;
    }
  };
  check(x, dx, "dx");
  for (Param* p : layer.params()) {
    const Tensor analytic = p->grad;
    check(p->value, analytic, p->name);
  }
}

inline std::unique_ptr<Layer> initialised(std::unique_ptr<Layer> l, uint64_t seed) {
  Rng rng(seed);
  l->init(rng);
  // Non-zero biases, so a bias that is dropped or misplaced shows up in the outputs.
  for (Param* p : l->params())
    if (p->name == "bias")
      for (float& v : p->value.data) v = float(rng.uniform(-0.5, 0.5));
  return l;
}

inline Tensor random_input(const Shape& s, uint64_t seed, bool distinct = false) {
  Rng rng(seed);
  Tensor x(s);
  if (distinct)
    fill_distinct(x, rng);
  else
    fill_normal(x, rng);
  return x;
}

}  // namespace dkws::nn::gradtest
