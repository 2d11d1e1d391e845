// The keep-or-drop decision of inverted dropout, one random word per element.
#pragma once
#include <bit>
#include <cmath>
#include <cstdint>

namespace dkws::nn::detail {

// Inverted dropout's decision, shared by Dropout and the fused conv block so that both draw the
// same masks: random word w keeps its element when w >= ceil(rate * 2^32) (keep probability
// 1 - rate to within 2^-32; rate < 1 is a float, so rate * 2^32 is exact in double and its
// ceiling is below 2^32), and the mask holds the bits of the scale 1/(1 - rate), else 0.
struct DropoutBits {
  uint32_t threshold, scale;
  explicit DropoutBits(float rate)
      : threshold(uint32_t(std::ceil(double(rate) * 0x1.0p32))),
        scale(std::bit_cast<uint32_t>(1.f / (1.f - rate))) {}
  uint32_t operator()(uint32_t word) const { return word >= threshold ? scale : 0u; }
};

}  // namespace dkws::nn::detail
