// Winograd's F(2x2, 3x3) for the forward 'same' 3x3 convolution of several input channels
// (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks", 2016).
//
// Each 2x2 block of outputs is computed from its 4x4 input patch d and the 3x3 kernel g as
//   Y = A^T [ (G g G^T) .* (B^T d B) ] A
// with 16 products per input and output channel instead of 36 for the direct sum: the
// transformed kernel U = G g G^T is made once per call, each patch's V = B^T d B once for all
// output channels, and the 16 elementwise products summed over input channels are 16 small
// matrix products (tiles of patches x output lanes), run by the direct convolution's register
// tile (conv_tile). The transforms are additions and halvings.
//
// The results differ from the direct sum in rounding (the sums are grouped differently), not in
// what is computed. Every 2x2 block is computed alone, in the same way wherever it lies, so the
// results do not depend on the batch or on which other blocks are computed with it: Conv2D (all
// outputs) and the fused conv block (the outputs its pool windows read) give the same bits.
#pragma once
#include <cstddef>
#include <type_traits>
#include <vector>

#include "nn/conv_geom.hpp"

namespace dkws::nn::detail {

class WinogradConv {
 public:
  // 3x3 kernels with one row and column of padding before (a 'same' 3x3); with fewer than 8
  // input channels the transforms cost more than the products they save.
  static bool applies(const ConvGeom& g) {
    return g.kh == 3 && g.kw == 3 && g.pbh == 1 && g.pbw == 1 && g.c >= 8;
  }
  // Receives the outputs a group of 2x2 blocks at a time: blocks first .. first + count - 1 in
  // flat (item, block row, block column) order, y4 [count][4][opad] with each block's outputs in
  // scan order (top left, top right, bottom left, bottom right). The fused conv block pools them
  // as they come (each block is one pool window); plain convolution stores them.
  // A non-owning reference to the receiving callable, which must outlive the call (a lambda
  // passed in place does): unlike std::function it never allocates.
  class BlockSink {
   public:
    template <class F>
    BlockSink(F&& f)  // NOLINT: implicit, so that a lambda can be passed as it is
        : obj_(const_cast<void*>(static_cast<const void*>(&f))),
          call_([](void* o, const float* y4, ptrdiff_t first, int count) {
            (*static_cast<std::remove_reference_t<F>*>(o))(y4, first, count);
          }) {}
    void operator()(const float* y4, ptrdiff_t first, int count) const {
      call_(obj_, y4, first, count);
    }

   private:
    void* obj_;
    void (*call_)(void*, const float*, ptrdiff_t, int);
  };
  // The convolution of the padded xp (geometry g, at least 8 readable floats past its end) with
  // w [out][3][3][c], plus bias [out], at the rows < oh and columns < ow that whole 2x2 blocks
  // cover (an odd last row or column is the caller's), to `sink`; lanes past `out` are zero.
  void forward(const float* xp, const ConvGeom& g, const float* w, const float* bias, int out,
               int opad, int oh, int ow, const BlockSink& sink);
  // The same, stored to y [n][oh][ow][opad].
  void forward(const float* xp, const ConvGeom& g, const float* w, const float* bias, int out,
               int opad, float* y, int oh, int ow);

 private:
  std::vector<float> u_;     // transformed kernel [16][c][opad]
  std::vector<float> v_;     // a group's transformed patches [16][tile][cpad]
  std::vector<float> m_;     // their products [16][tile][opad]
  std::vector<float> zero_;  // opad zeros: the products start from 0, the bias comes last
  std::vector<float> bias_;  // bias, padded to opad lanes
  std::vector<float> y4_;    // a group's outputs [tile][4][opad]
};

}  // namespace dkws::nn::detail
