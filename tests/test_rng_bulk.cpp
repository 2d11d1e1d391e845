// Rng's bulk draws (fill_u32, fill_normal) and the float approximations behind them: the stream
// definition against a scalar xoshiro reference, the normals against libm and the N(0, 1)
// distribution, determinism and the generator bookkeeping that kill-and-resume relies on.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "dkws/approx_math.hpp"
#include "dkws/rng.hpp"

using namespace dkws;

namespace {

double normal_cdf(double x) {
  return 0.5 * std::erfc(-x / std::sqrt(2.0));
}

std::vector<float> normals(uint64_t seed, size_t n) {
  Rng rng(seed);
  std::vector<float> z(n);
  rng.fill_normal(z.data(), n);
  return z;
}

}  // namespace

TEST(ApproxMath, LogMatchesLibm) {
  // Box-Muller takes ln of u1 in [2^-32, 1]; the function is checked over a wider range too.
  double worst = 0;
  for (double x = 0x1.0p-40; x <= 0x1.0p20; x *= 1.0001) {
    const float xf = float(x);
    const double ref = std::log(double(xf));
    const double err = std::abs(double(approx_log(xf)) - ref) / std::max(1.0, std::abs(ref));
    worst = std::max(worst, err);
  }
  // Near x = 1, ln x is small and the error must be relative to it, not to 1.
  for (int k = -20000; k <= 20000; ++k) {
    const float xf = 1.f + float(k) * 0x1.0p-16f;
    const double ref = std::log(double(xf));
    if (ref == 0) {
      EXPECT_EQ(approx_log(xf), 0.f);
      continue;
    }
    worst = std::max(worst, std::abs(double(approx_log(xf)) - ref) / std::abs(ref));
  }
  EXPECT_LT(worst, 3e-7);
}

TEST(ApproxMath, SinCosTurnsMatchLibm) {
  double worst = 0;
  for (int k = 0; k <= (1 << 20); ++k) {
    const float t = float(k) * 0x1.0p-20f;
    float s, c;
    approx_sincos_turns(t, s, c);
    const double a = 2 * M_PI * double(t);
    worst = std::max({worst, std::abs(double(s) - std::sin(a)), std::abs(double(c) - std::cos(a))});
  }
  EXPECT_LT(worst, 3e-7);
  // The quarter-turn rotation: exact values at the multiples of 1/8 turn.
  float s, c;
  approx_sincos_turns(0.375f, s, c);
  EXPECT_NEAR(s, std::sqrt(0.5), 1e-7);
  EXPECT_NEAR(c, -std::sqrt(0.5), 1e-7);
  approx_sincos_turns(0.875f, s, c);
  EXPECT_NEAR(s, -std::sqrt(0.5), 1e-7);
  EXPECT_NEAR(c, std::sqrt(0.5), 1e-7);
}

// The words are those of 8 scalar xoshiro256** generators whose states are consecutive
// splitmix64 outputs of one next_u64() of the parent: per step, the low halves of lanes 0..7,
// then their high halves.
TEST(RngBulk, FillU32IsEightXoshiroLanes) {
  for (size_t n : {size_t(0), size_t(5), size_t(16), size_t(1000)}) {
    SCOPED_TRACE(n);
    Rng rng(77), parent(77);
    std::vector<uint32_t> w(n);
    rng.fill_u32(w.data(), n);
    uint64_t seed = parent.next_u64();
    std::vector<Rng> lanes;
    for (int l = 0; l < 8; ++l) {
      Rng lane;
      std::array<uint64_t, 6> st{};
      for (int i = 0; i < 4; ++i) st[size_t(i)] = Rng::splitmix64(seed);
      lane.set_state(st);
      lanes.push_back(lane);
    }
    for (size_t step = 0; step * 16 < n; ++step)
      for (size_t l = 0; l < 8; ++l) {
        const uint64_t x = lanes[l].next_u64();
        if (step * 16 + l < n) {
          ASSERT_EQ(w[step * 16 + l], uint32_t(x)) << step << " " << l;
        }
        if (step * 16 + 8 + l < n) {
          ASSERT_EQ(w[step * 16 + 8 + l], uint32_t(x >> 32)) << step << " " << l;
        }
      }
    // One parent draw per call, whatever n.
    EXPECT_EQ(rng.next_u64(), parent.next_u64());
  }
}

TEST(RngBulk, FillU32BitsAreBalanced) {
  Rng rng(3);
  const size_t n = 1 << 20;
  std::vector<uint32_t> w(n);
  rng.fill_u32(w.data(), n);
  const double sd = std::sqrt(n * 0.25);
  for (int b = 0; b < 32; ++b) {
    size_t ones = 0;
    for (uint32_t v : w) ones += (v >> b) & 1u;
    EXPECT_LT(std::abs(double(ones) - 0.5 * n), 5 * sd) << "bit " << b;
  }
}

// Each normal against the same Box-Muller computed in double with libm from the same words.
TEST(RngBulk, FillNormalIsBoxMullerOfTheWords) {
  const size_t n = 128 * 40 + 37;  // a partial last block too
  Rng a(42), b(42);
  std::vector<float> z(n);
  a.fill_normal(z.data(), n);
  std::vector<uint32_t> w((n + 127) / 128 * 128);
  b.fill_u32(w.data(), w.size());
  double worst = 0;
  for (size_t i = 0; i < n; ++i) {
    const size_t block = i / 128 * 128, j = i % 128, pair = j % 64;
    const double u1 = (double(w[block + pair] >> 1) + 0.5) * 0x1.0p-31;
    const double u2 = double(w[block + 64 + pair] >> 8) * 0x1.0p-24;
    const double r = std::sqrt(-2 * std::log(u1));
    const double ref = r * (j < 64 ? std::cos(2 * M_PI * u2) : std::sin(2 * M_PI * u2));
    worst = std::max(worst, std::abs(double(z[i]) - ref) / std::max(1.0, std::abs(ref)));
  }
  // Measured 2.8e-7: float rounding of u1 (31 bits into 24) and of the polynomials.
  EXPECT_LT(worst, 1e-6);
}

TEST(RngBulk, FillNormalMomentsTailsAndHistogram) {
  const size_t n = 1000000;
  std::vector<float> z = normals(2024, n);
  double sum = 0, sum2 = 0, sum4 = 0;
  size_t beyond2 = 0, beyond3 = 0;
  for (float v : z) {
    ASSERT_TRUE(std::isfinite(v));
    sum += v;
    sum2 += double(v) * v;
    sum4 += double(v) * v * v * v;
    beyond2 += std::abs(v) > 2;
    beyond3 += std::abs(v) > 3;
  }
  const double mean = sum / n, var = sum2 / n - mean * mean;
  EXPECT_LT(std::abs(mean), 3e-3);
  EXPECT_LT(std::abs(var - 1), 5e-3);
  EXPECT_LT(std::abs(sum4 / n - 3), 0.05);  // kurtosis of a normal; sd ~0.01 at this n
  // Tail counts within 5 binomial standard deviations.
  for (auto [count, x] : {std::pair{beyond2, 2.0}, std::pair{beyond3, 3.0}}) {
    const double p = 2 * normal_cdf(-x);
    EXPECT_LT(std::abs(double(count) - n * p), 5 * std::sqrt(n * p * (1 - p))) << "|z| > " << x;
  }
  // 20 bins (edges -2.7, -2.4, ..., 2.7 and the two tails) against the normal CDF: chi-square
  // with 19 degrees of freedom has mean 19, sd 6.2; 50 is p ~ 1e-4.
  std::vector<double> edges;
  for (int k = -9; k <= 9; ++k) edges.push_back(0.3 * k);
  std::vector<size_t> counts(20, 0);
  for (float v : z)
    counts[size_t(std::upper_bound(edges.begin(), edges.end(), v) - edges.begin())]++;
  double chi2 = 0;
  for (size_t b = 0; b < 20; ++b) {
    const double lo = b == 0 ? 0 : normal_cdf(edges[b - 1]);
    const double hi = b == 19 ? 1 : normal_cdf(edges[b]);
    const double expected = n * (hi - lo);
    chi2 += (counts[b] - expected) * (counts[b] - expected) / expected;
  }
  EXPECT_LT(chi2, 50.0);
  // Kolmogorov-Smirnov: D * sqrt(n) < 1.95 is the 0.1% critical value.
  std::sort(z.begin(), z.end());
  double d = 0;
  for (size_t i = 0; i < n; ++i) {
    const double f = normal_cdf(z[i]);
    d = std::max({d, std::abs(f - double(i) / n), std::abs(f - double(i + 1) / n)});
  }
  EXPECT_LT(d * std::sqrt(double(n)), 1.95);
}

// Neighbours in the output come from different lanes, and out[i], out[i + 64] share a (u1, u2)
// pair (cos and sin): both must be uncorrelated, as must consecutive calls.
TEST(RngBulk, FillNormalHasNoCorrelations) {
  const size_t n = 1 << 20;
  Rng rng(9);
  std::vector<float> z(n), next(n);
  rng.fill_normal(z.data(), n);
  rng.fill_normal(next.data(), n);
  auto corr = [&](const std::vector<float>& a, const std::vector<float>& b, size_t lag) {
    double s = 0;
    for (size_t i = 0; i + lag < n; ++i) s += double(a[i]) * b[i + lag];
    return s / double(n - lag);
  };
  const double bound = 5 / std::sqrt(double(n));
  for (size_t lag : {1, 2, 8, 16, 64, 128}) EXPECT_LT(std::abs(corr(z, z, lag)), bound) << lag;
  EXPECT_LT(std::abs(corr(z, next, 0)), bound);
  // Squares too: the cos/sin partners share r, but z_c^2 and z_s^2 are independent only if the
  // pair is a proper Box-Muller pair (r^2 cos^2 and r^2 sin^2 of an exponential r^2/2 are).
  double s = 0;
  for (size_t b = 0; b + 128 <= n; b += 128)
    for (size_t i = 0; i < 64; ++i)
      s += (double(z[b + i]) * z[b + i] - 1) * (double(z[b + 64 + i]) * z[b + 64 + i] - 1);
  EXPECT_LT(std::abs(s / (n / 2)), 5 * 2 / std::sqrt(n / 2.0));
}

TEST(RngBulk, DeterministicPrefixAndResumable) {
  EXPECT_EQ(normals(5, 3000), normals(5, 3000));
  EXPECT_NE(normals(5, 3000), normals(6, 3000));
  // A shorter fill from the same state is a prefix of a longer one.
  const std::vector<float> longer = normals(5, 3000), shorter = normals(5, 1001);
  EXPECT_TRUE(std::equal(shorter.begin(), shorter.end(), longer.begin()));
  // Saving the state between fills and restoring it into a fresh generator replays the stream,
  // and a pending rng.normal() spare survives the bulk calls.
  Rng rng(8);
  rng.normal();  // leaves a spare
  std::vector<float> a(500), b(500);
  rng.fill_normal(a.data(), a.size());
  const auto saved = rng.state();
  rng.fill_normal(a.data(), a.size());
  const double spare = rng.normal();
  Rng resumed;
  resumed.set_state(saved);
  resumed.fill_normal(b.data(), b.size());
  EXPECT_EQ(a, b);
  EXPECT_EQ(resumed.normal(), spare);
  EXPECT_EQ(resumed.next_u64(), rng.next_u64());
}
