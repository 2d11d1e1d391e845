// Comparing computed values with wanted ones (a PyTorch fixture, or a reference path) at float
// rounding. Each element's error is measured against its own size plus the wanted tensor's RMS, so
// sums that cancel to ~0 are not held to an impossible relative bound.
#pragma once
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dkws/nn/tensor.hpp"

namespace dkws::testing {

inline double rms(const std::vector<double>& v) {
  double s = 0;
  for (double w : v) s += w * w;
  return std::sqrt(s / double(std::max<size_t>(v.size(), 1)));
}

// max_i |got_i - want_i| / (|want_i| + rms(want)); infinite when the sizes differ or got has a NaN.
inline double scaled_error(const std::vector<float>& got, const std::vector<double>& want) {
  if (got.size() != want.size()) return INFINITY;
  const double r = rms(want);
  double worst = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    const double diff = std::abs(double(got[i]) - want[i]);
    const double e = diff == 0 ? 0 : diff / (std::abs(want[i]) + r);  // all-zero tensors match
    if (!(e <= worst)) worst = std::isnan(e) ? INFINITY : e;
  }
  return worst;
}

// Every element within tol * (|want| + rms(want)); the first five misses are reported by index.
inline void expect_close(const std::vector<float>& got, const std::vector<double>& want, double tol,
                         const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  const double r = rms(want);
  int bad = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    const double bound = tol * (std::abs(want[i]) + r);
    if (!(std::abs(double(got[i]) - want[i]) <= bound) && bad++ < 5)
      ADD_FAILURE() << what << "[" << i << "]: got " << got[i] << " want " << want[i];
  }
}

inline void expect_close(const std::vector<float>& got, const nlohmann::json& want, double tol,
                         const std::string& what) {
  expect_close(got, want.get<std::vector<double>>(), tol, what);
}

inline void expect_close(const std::vector<float>& got, const std::vector<float>& want, double tol,
                         const std::string& what) {
  expect_close(got, std::vector<double>(want.begin(), want.end()), tol, what);
}

// A committed fixture file under tests/fixtures/, parsed once per name.
inline nlohmann::json read_fixture(const std::string& name) {
  std::ifstream f(std::string(DKWS_SOURCE_DIR) + "/tests/fixtures/" + name);
  if (!f) ADD_FAILURE() << "cannot read tests/fixtures/" << name;
  return nlohmann::json::parse(f);
}

// A tensor of the given shape filled from a JSON array of its values.
inline nn::Tensor fixture_tensor(const nlohmann::json& shape, const nlohmann::json& values) {
  nn::Tensor t(shape.get<nn::Shape>());
  auto v = values.get<std::vector<float>>();
  EXPECT_EQ(v.size(), t.size());
  t.data = std::move(v);
  return t;
}

}  // namespace dkws::testing
