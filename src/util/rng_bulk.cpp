// Rng's bulk draws (fill_u32, fill_normal). One xoshiro256** stream is a serial dependency chain
// (~1 ns a word); 8 independent lanes stepped in lock-step are plain loops over 8 words that GCC
// turns into vector code, and the float Box-Muller on top of them uses only polynomials and sqrt,
// so a normal costs a fraction of a nanosecond instead of ~16 ns for double log/sincos.
#include <cstring>

#include "dkws/approx_math.hpp"
#include "dkws/rng.hpp"

namespace dkws {
namespace {

constexpr int kLanes = 8;
constexpr int kStepWords = 2 * kLanes;  // each lane's 64-bit output gives two 32-bit words
constexpr int kPairs = 64;              // normals come in blocks of 2 * kPairs
constexpr int kBlockSteps = 2 * kPairs / kStepWords;

class Lanes {
 public:
  // The lanes' states are consecutive splitmix64 outputs of one seed, as Rng(seed) seeds one.
  explicit Lanes(uint64_t seed) {
    for (int l = 0; l < kLanes; ++l) {
      s0_[l] = Rng::splitmix64(seed);
      s1_[l] = Rng::splitmix64(seed);
      s2_[l] = Rng::splitmix64(seed);
      s3_[l] = Rng::splitmix64(seed);
    }
  }

  // Writes steps * kStepWords words: per step the low halves of lanes 0..7, then the high halves.
  void run(uint32_t* __restrict out, size_t steps) {
    uint64_t s0[kLanes], s1[kLanes], s2[kLanes], s3[kLanes];  // locals stay in registers
    std::memcpy(s0, s0_, sizeof s0);
    std::memcpy(s1, s1_, sizeof s1);
    std::memcpy(s2, s2_, sizeof s2);
    std::memcpy(s3, s3_, sizeof s3);
    for (size_t k = 0; k < steps; ++k, out += kStepWords) {
      // Kept a loop: GCC 12 vectorises it as one, but fully unrolled it judges the 8 lanes not
      // worth vectorising and runs them scalar (2.3x slower).
#pragma GCC unroll 1
      for (int l = 0; l < kLanes; ++l) {
        // xoshiro256**, as Rng::next_u64; * 5 and * 9 written as shift-adds, which every vector
        // ISA has (64-bit vector multiplies need AVX-512DQ).
        const uint64_t a = s1[l] + (s1[l] << 2);
        const uint64_t b = (a << 7) | (a >> 57);
        const uint64_t r = b + (b << 3);
        const uint64_t t = s1[l] << 17;
        s2[l] ^= s0[l];
        s3[l] ^= s1[l];
        s1[l] ^= s2[l];
        s0[l] ^= s3[l];
        s2[l] ^= t;
        s3[l] = (s3[l] << 45) | (s3[l] >> 19);
        out[l] = uint32_t(r);
        out[kLanes + l] = uint32_t(r >> 32);
      }
    }
    std::memcpy(s0_, s0, sizeof s0);
    std::memcpy(s1_, s1, sizeof s1);
    std::memcpy(s2_, s2, sizeof s2);
    std::memcpy(s3_, s3, sizeof s3);
  }

 private:
  uint64_t s0_[kLanes], s1_[kLanes], s2_[kLanes], s3_[kLanes];
};

// 2 * kPairs normals from as many words: out[i] = r cos(2 pi u2), out[kPairs + i] = r sin(...),
// with r = sqrt(-2 ln u1). u1 = (31 bits + 1/2) / 2^31 lies in [2^-32, 1], so ln never sees 0
// and |z| <= sqrt(2 * 32 ln 2) = 6.66; u2 takes 24 bits, exact in float. Not inlined, so every
// block, the last partial one included, runs this one compiled body and gets the same bits.
[[gnu::noinline]] void normal_block(const uint32_t* __restrict w, float* __restrict out) {
  for (int i = 0; i < kPairs; ++i) {
    const float u1 = (float(int32_t(w[i] >> 1)) + 0.5f) * 0x1.0p-31f;
    const float u2 = float(int32_t(w[kPairs + i] >> 8)) * 0x1.0p-24f;
    const float r = std::sqrt(-2.f * approx_log(u1));
    float s, c;
    approx_sincos_turns(u2, s, c);
    out[i] = r * c;
    out[kPairs + i] = r * s;
  }
}

}  // namespace

void Rng::fill_u32(uint32_t* out, size_t n) {
  Lanes lanes(next_u64());
  const size_t full = n / kStepWords;
  lanes.run(out, full);
  if (const size_t rest = n - full * kStepWords) {
    uint32_t tail[kStepWords];
    lanes.run(tail, 1);
    std::memcpy(out + full * kStepWords, tail, rest * sizeof *out);
  }
}

void Rng::fill_normal(float* out, size_t n) {
  Lanes lanes(next_u64());
  uint32_t w[2 * kPairs];
  for (size_t i = 0; i < n; i += 2 * kPairs) {
    lanes.run(w, kBlockSteps);
    if (n - i >= 2 * kPairs) {
      normal_block(w, out + i);
    } else {
      float tail[2 * kPairs];
      normal_block(w, tail);
      std::memcpy(out + i, tail, (n - i) * sizeof *out);
    }
  }
}

}  // namespace dkws
