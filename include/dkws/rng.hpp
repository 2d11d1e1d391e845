// Deterministic random numbers (xoshiro256**). Hand-written distributions, so a seed gives the
// same stream on every standard library.
#pragma once
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace dkws {

class Rng {
 public:
  explicit Rng(uint64_t seed = 0) { reseed(seed); }

  void reseed(uint64_t seed) {
    uint64_t x = seed;
    for (auto& s : state_) s = splitmix64(x);
    has_spare_ = false;
  }

  uint64_t next_u64() {
    const uint64_t result = rotl(state_[1] * 5, 7) * 9;
    const uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotl(state_[3], 45);
    return result;
  }

  // Uniform in [0, 1).
  double uniform() { return double(next_u64() >> 11) * 0x1.0p-53; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  // Uniform integer in [0, n).
  uint64_t below(uint64_t n) { return n ? next_u64() % n : 0; }

  double normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u1 = uniform(), u2 = uniform();
    if (u1 < 1e-300) u1 = 1e-300;
    const double r = std::sqrt(-2.0 * std::log(u1));
    spare_ = r * std::sin(2.0 * M_PI * u2);
    has_spare_ = true;
    return r * std::cos(2.0 * M_PI * u2);
  }

  // Bulk draws for the training-time noise and dropout layers (src/util/rng_bulk.cpp). Each call
  // takes exactly one next_u64() from this stream to seed 8 independent xoshiro256** lanes that
  // are stepped together, so the compiler vectorises them, and fills `out` from those lanes. The
  // generator therefore advances by one draw per call whatever n is, state() stays these six
  // words, and a shorter fill from the same state is a prefix of a longer one.
  // Uniform 32-bit words.
  void fill_u32(uint32_t* out, size_t n);
  // N(0, 1) floats: float Box-Muller on 31-bit and 24-bit uniforms with polynomial log and
  // sin/cos (approx_math.hpp), within 1e-6 of libm's double Box-Muller on the same uniforms;
  // |z| <= 6.7. Same state and build, same bits.
  void fill_normal(float* out, size_t n);

  // The whole generator state, for saving a run and resuming it bit-exactly.
  std::array<uint64_t, 6> state() const {
    uint64_t spare_bits;
    std::memcpy(&spare_bits, &spare_, sizeof spare_bits);
    return {state_[0], state_[1], state_[2], state_[3], spare_bits, uint64_t(has_spare_)};
  }
  void set_state(const std::array<uint64_t, 6>& s) {
    for (int i = 0; i < 4; ++i) state_[i] = s[size_t(i)];
    std::memcpy(&spare_, &s[4], sizeof spare_);
    has_spare_ = s[5] != 0;
  }

  // A child generator whose stream does not overlap this one's in practice.
  Rng split() { return Rng(next_u64() ^ 0x9E3779B97F4A7C15ull); }

  // The seeding sequence: advances x and returns the next well-mixed word.
  static uint64_t splitmix64(uint64_t& x) {
    uint64_t z = (x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t state_[4];
  double spare_ = 0;
  bool has_spare_ = false;
};

}  // namespace dkws
