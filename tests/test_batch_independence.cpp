// An item's forward output and input gradient do not depend on the batch around it, bit for bit,
// for every model the toolkit builds and every convolution path (PlanarConv's one-channel grid,
// the dot-product orientation, the flat and the row tiles, each with their remainders). Training
// runs batches of 32 with a short last one and evaluation batches of 256, so bit-exact evaluation
// and resume rely on this. It holds on every ISA because every multiply-add of a sum is one
// madd() (src/nn/madd.hpp), rounded alike on each path; CI runs it in a native (AVX-512) build
// and an AVX2 build tuned for AMD Zen, whose tuning leaves some multiply-adds unfused.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "dendrite/dendrite_layer.hpp"
#include "dkws/config.hpp"
#include "dkws/dendrite.hpp"
#include "dkws/nn/layers.hpp"
#include "dkws/models.hpp"
#include "dkws/nn/sequential.hpp"

namespace dkws::nn {
namespace {

void fill_normal(Tensor& t, Rng& rng) {
  for (float& v : t.data) v = float(rng.normal());
}

// Items [first, first + count) of a batch tensor.
Tensor slice(const Tensor& t, int first, int count) {
  Shape s = t.shape;
  s[0] = count;
  Tensor out(s);
  const size_t item = t.size() / size_t(t.dim(0));
  std::copy_n(t.ptr() + size_t(first) * item, size_t(count) * item, out.ptr());
  return out;
}

// Item `k` of `whole` equals item `k - first` of `part`, bit for bit.
void expect_items_equal(const Tensor& whole, const Tensor& part, int first,
                        const std::string& what) {
  const size_t item = whole.size() / size_t(whole.dim(0));
  for (int k = 0; k < part.dim(0); ++k) {
    const float* a = whole.ptr() + size_t(first + k) * item;
    const float* b = part.ptr() + size_t(k) * item;
    for (size_t i = 0; i < item; ++i)
      if (a[i] != b[i]) {
        ADD_FAILURE() << what << ": item " << first + k << " element " << i << " is " << a[i]
                      << " in the whole batch and " << b[i] << " in a batch of " << part.dim(0);
        return;
      }
  }
}

// The sub-batches compared with the whole: single items at the start, the middle and the end
// (the remainder tiles) and a short run that straddles tile boundaries.
struct Part {
  int first, count;
};
std::vector<Part> parts(int n) {
  return {{0, 1}, {1, 1}, {n / 2, 1}, {n - 2, 1}, {n - 1, 1}, {3, 5}, {n - 7, 7}};
}

// One layer: forward, and the input gradient for a given output gradient.
void check_layer(Layer& layer, const Shape& item, int n, const std::string& what) {
  SCOPED_TRACE(what);
  Rng rng(21);
  layer.init(rng);
  for (Param* p : layer.params())
    if (p->value.shape.size() == 1) fill_normal(p->value, rng);  // non-zero biases
  Shape shape = item;
  shape.insert(shape.begin(), n);
  Tensor x(shape);
  fill_normal(x, rng);
  Tensor y, dx;
  layer.forward(x, y, {false, nullptr});
  Tensor dy(y.shape);
  fill_normal(dy, rng);
  layer.backward(x, y, dy, &dx);
  for (const Part& p : parts(n)) {
    const Tensor xp = slice(x, p.first, p.count), dyp = slice(dy, p.first, p.count);
    Tensor yp, dxp;
    layer.forward(xp, yp, {false, nullptr});
    layer.backward(xp, yp, dyp, &dxp);
    expect_items_equal(y, yp, p.first, "forward");
    expect_items_equal(dx, dxp, p.first, "input gradient");
  }
}

TEST(BatchIndependence, ConvLayersOnEveryPath) {
  const int n = 19;
  // One input channel with 1, 2 or 4 outputs: PlanarConv (whose last few grid positions are
  // computed apart from the vectors, so which items they hold depends on the batch).
  for (int out : {1, 2, 4}) {
    auto conv = make_conv2d(1, out, 3, 3);
    check_layer(*conv, {7, 5, 1}, n, "planar conv2d 1->" + std::to_string(out));
  }
  // Narrow images (flat tiles across items), wide ones (row tiles plus a remainder), outputs
  // that are and are not a multiple of 8 and 16, and few outputs over long kernel rows (the
  // dot-product orientation, with a vector part and a scalar tail).
  struct Conv2 {
    int h, w, in, out;
  };
  for (const Conv2& c : std::vector<Conv2>{
           {5, 3, 3, 8}, {6, 13, 5, 24}, {4, 11, 16, 3}, {3, 17, 12, 1}, {7, 6, 1, 8}})
    check_layer(*make_conv2d(c.in, c.out, 3, 3), {c.h, c.w, c.in}, n,
                "conv2d " + std::to_string(c.h) + "x" + std::to_string(c.w) + " " +
                    std::to_string(c.in) + "->" + std::to_string(c.out));
  check_layer(*make_conv1d(13, 8, 3), {50, 13}, n, "conv1d 13->8");
  check_layer(*make_conv1d(8, 16, 3), {25, 8}, n, "conv1d 8->16");
  check_layer(*make_conv1d(16, 3, 5), {9, 16}, n, "conv1d 16->3");
}

// Whole models in evaluation (the fused conv blocks included), and with dendrites added.
void check_model(Sequential& net, int features, const std::string& what) {
  SCOPED_TRACE(what);
  const int n = 37;
  Tensor x({n, features});
  Rng data(4);
  fill_normal(x, data);
  const Tensor logits = net.forward(x, {false, nullptr});
  for (const Part& p : parts(n))
    expect_items_equal(logits, net.forward(slice(x, p.first, p.count), {false, nullptr}), p.first,
                       "logits");
}

TEST(BatchIndependence, EveryModelFamilyInEvaluation) {
  const int frames = 50, coeffs = 13, classes = 12;
  ModelSpec ei;
  Rng r0(1);
  Sequential conv1d = build_model(ei, frames, coeffs, classes, r0);
  check_model(conv1d, frames * coeffs, "ei_conv1d");
  ModelSpec ac;
  ac.family = "audio_classifier";
  for (int conv = 1; conv <= 3; ++conv)
    for (double width : {0.25, 0.5, 1.0, 2.0}) {
      ac.num_conv = conv, ac.width = width, ac.growth = conv + 1, ac.num_linear = 1 + conv % 2;
      Rng r(2);
      Sequential net = build_model(ac, frames, coeffs, classes, r);
      const std::string what =
          "audio_classifier conv " + std::to_string(conv) + " width " + std::to_string(width);
      check_model(net, frames * coeffs, what);
      DendriteSpec ds;
      ds.mode = "gd";
      dendrite::wrap_layers(net, ds);
      Rng g(3);
      dendrite::add_gd_dendrites(net, ds, g);
      for (auto* d : dendrite::wrapped_layers(net))  // added dendrites start with no effect
        d->output_weight(0).value.data.assign(d->output_weight(0).value.size(), 0.5f);
      check_model(net, frames * coeffs, what + " with dendrites");
    }
}

}  // namespace
}  // namespace dkws::nn
