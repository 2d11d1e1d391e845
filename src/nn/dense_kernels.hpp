// The fast kernels of the Dense layer (dense.cpp keeps the plain reference loops beside them).
// x is [n][in], w [out][in], dy and y [n][out]; all row-major and tightly packed.
//
// How they work (dense_kernels.cpp):
// - forward is a dot product per (item, output), 4 items x 4 outputs at a time: each step loads 4
//   x and 4 w vectors and does 16 vector multiply-adds into 16 vector accumulators; the lanes are
//   summed once at the end. Output tiles run outermost, so their 4 weight rows stay in L1 while
//   every item of a cache-sized block of items goes past them.
// - the weight gradient dW = dy^T x and the input gradient dx = dy W are the same product with the
//   sum over rows of the second operand: a tile of 4 rows x 64 columns (16 vector accumulators)
//   takes one broadcast scalar of dy per row and 4 column vectors per step. dW adds each tile into
//   dW once per call instead of once per item.
// Every element is summed in the same order whatever tile or remainder path computes it, each
// multiply-add rounded alike (madd.hpp), so an item's results do not depend on its batch or its
// position in it on any ISA, and runs are deterministic.
#pragma once

namespace dkws::nn::detail {

// y[k][o] = b[o] + sum_i x[k][i] w[o][i]
void dense_forward(const float* x, const float* w, const float* b, int n, int in, int out,
                   float* y);

// dw[o][i] += sum_k dy[k][o] x[k][i];  db[o] += sum_k dy[k][o]
void dense_weight_grad(const float* x, const float* dy, int n, int in, int out, float* dw,
                       float* db);

// dx[k][i] = sum_o dy[k][o] w[o][i]
void dense_input_grad(const float* dy, const float* w, int n, int in, int out, float* dx);

}  // namespace dkws::nn::detail
