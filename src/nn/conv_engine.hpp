// The channels-last 'same' stride-1 convolution that Conv1D (as a one-row image), Conv2D and the
// fused conv block (conv_block.hpp) all run on.
//
// How the fast convolution works.
// - The input is copied into a zero-padded buffer, so every output position reads a full window and
//   no inner loop has a border branch. Channels-last makes the window's part in one kernel row a
//   contiguous run of kw*in floats.
// - Weights are repacked to [kernel tap][out], out rounded up to a multiple of 8, so the innermost
//   loop is a broadcast-multiply-add over 8 or 16 output lanes, with a tile of up to 8 output
//   positions' accumulators in registers (conv_tile). Tiles run along image rows when rows are at
//   least 8 wide, else over positions in flat order so narrow images still fill them.
// - Layers with few outputs and long kernel rows (e.g. the input gradient of a one-channel layer)
//   use the other orientation instead: one dot product per output, vectorised along the kernel row
//   (conv_dot_tile). prefer_dot() picks the cheaper one.
// - The weight gradient is the same product with the sum running over positions (wgrad_tile). The
//   input gradient is a 'same' convolution of the padded upstream gradient with the kernel flipped
//   and in/out swapped, so it reuses the forward code.
// - One input channel with 1, 2 or 4 outputs takes the planar kernels instead (conv_planar.hpp).
// - The forward pass of a 3x3 kernel over 8 or more input channels runs Winograd's F(2x2, 3x3)
//   (conv_winograd.hpp): 16 products per 2x2 outputs and channel pair instead of 36, on the same
//   register tile; an odd last row or column is taken directly (conv_forward_edges).
// The tiles are in conv_tiles.hpp. The reference loops live next to each layer (conv1d.cpp,
// conv2d.cpp); the tests run both paths.
#pragma once
#include <cstddef>
#include <utility>
#include <vector>

#include "nn/conv_geom.hpp"
#include "nn/conv_planar.hpp"
#include "nn/conv_winograd.hpp"

namespace dkws::nn::detail {

// Scratch and the three passes of one channels-last 'same' convolution with weights
// [out][kh][kw][in] and bias [out]. Owned by Conv1D/Conv2D; nothing allocates after the first
// batch of a given size.
class ConvEngine {
 public:
  void forward(const float* x, const ConvGeom& g, const float* w, const float* bias, int out,
               float* y);

  // A conv output or gradient laid out as n images of h x w positions of `out` floats, rows
  // `row` floats apart and images `item` apart.
  struct View {
    float* data;
    int h, w;
    size_t row, item;
  };

  // For a fused block: at least the outputs in rows < oh and columns < ow (a following 'valid'
  // pool reads no others). The one-channel planar kernel's padded grid is returned as it is;
  // otherwise the cropped outputs are written to y as [n][oh][ow][out].
  View forward_view(const float* x, const ConvGeom& g, const float* w, const float* bias, int out,
                    int oh, int ow, float* y);

  // For a fused block: where Winograd applies (conv_winograd.hpp) and out is a multiple of 8,
  // the outputs of the 2x2 blocks in rows < oh, columns < ow (both even) go to `sink`, a group at
  // a time, and true is returned; else nothing is done. The padded input is kept for backward.
  bool forward_blocks(const float* x, const ConvGeom& g, const float* w, const float* bias, int out,
                      int oh, int ow, const WinogradConv::BlockSink& sink);
  // For a fused block over one input channel, 3x3, rows at least 8 wide and out a multiple of 8
  // (not the planar kernels' 1, 2 or 4): the outputs in rows < oh, columns < ow (both even) go to
  // sink(pair, k, 1) two rows at a time, pair [2][ow][out], k = item * oh / 2 + row / 2, and true
  // is returned; else nothing is done. The padded input is kept for backward.
  bool forward_row_pairs(const float* x, const ConvGeom& g, const float* w, const float* bias,
                         int out, int oh, int ow, const WinogradConv::BlockSink& sink);
  // Where backward_view() takes the output gradient from: the planar grid (padding kept zero), or
  // `dense` [n][h][w][out].
  View grad_view(const ConvGeom& g, int out, float* dense);

  // backward() with dy written through grad_view(), for the input of the last forward: its
  // padded copy from then is reused.
  void backward_view(const ConvGeom& g, const float* w, int out, const View& dy, float* dw,
                     float* db, float* dx);

  // The last forward's zero-padded input, kSlack zero floats past its end.
  const float* padded_input() const { return xpad_.data.data(); }
  static constexpr size_t kSlack = 8;

  // Accumulates dw, db; writes dx when not null.
  void backward(const float* x, const ConvGeom& g, const float* w, int out, const float* dy,
                float* dw, float* db, float* dx) {
    backward_padded(xpad_.fill(x, g, kSlack), g, w, out, dy, dw, db, dx);
  }

 private:
  void backward_padded(const float* xp, const ConvGeom& g, const float* w, int out, const float* dy,
                       float* dw, float* db, float* dx);
  static View planar_view(float* grid, const ConvGeom& g, int out) {
    return {grid, g.h, g.w, size_t(g.wp()) * out, size_t(g.hp()) * g.wp() * out};
  }
  void input_grad(const ConvGeom& g, const float* w, int out, const float* dy, float* dx);
  // The forward pass's conv: Winograd's F(2x2, 3x3) where it applies (conv_winograd.hpp), else
  // conv().
  std::pair<int, int> forward_conv(const float* xp, const ConvGeom& g, const float* w,
                                   const float* bias, int out, float* y, int oh, int ow);
  // wt_ [kh*kw*c][opad] and bias_ [opad] from w [out][kh][kw][c] and bias [out].
  void pack_weights(const ConvGeom& g, const float* w, const float* bias, int out);
  // y [n][oh][ow][out] = 'same' conv of the padded xp with w [out][kh][kw][g.c] plus bias, rows
  // < oh and columns < ow (or the whole image, as the returned extent says).
  std::pair<int, int> conv(const float* xp, const ConvGeom& g, const float* w, const float* bias,
                           int out, float* y, int oh, int ow);
  // dwt[kh][kw*c][opad] += sum over positions of window (x) dy (dy rows opad wide).
  static void wgrad(const float* xp, const ConvGeom& g, const float* dy, int opad, float* dwt);

  PaddedBuffer xpad_, dypad_;
  PlanarConv planar_;
  WinogradConv winograd_;
  std::vector<float> wt_, bias_, dyw_, dwt_, wf_, zero_, ywide_, dyd_, edge_;
};

}  // namespace dkws::nn::detail
