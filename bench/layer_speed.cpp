// Forward + backward time per batch of 32 for the weighted layers of the KWS models, single thread,
// in thread CPU time (the machine is shared, so wall time would count other processes' slices).
// GFLOP/s counts 2 flops per multiply-accumulate: forward = macs, backward = macs for the weight
// gradient + macs for the input gradient.
// Usage: layer_speed [--reference] [seconds per layer] [name filter, e.g. conv2d]
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>

#include "bench_timing.hpp"
#include "dkws/nn/layers.hpp"
#include "nn/layer_util.hpp"

using namespace dkws;
using namespace dkws::nn;

namespace {

struct Case {
  const char* name;
  std::unique_ptr<Layer> layer;
  Shape in;
};

}  // namespace

int main(int argc, char** argv) {
  double budget = 1.0;
  std::string filter;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--reference"))
      detail::use_reference_kernels = true;
    else if (char* end; std::strtod(argv[i], &end) > 0 && *end == 0)
      budget = std::strtod(argv[i], nullptr);
    else
      filter = argv[i];
  }
  const int batch = 32;
  Case cases[] = {
      {"conv1d 13->8 k3 L50", make_conv1d(13, 8, 3), {batch, 50, 13}},
      {"conv1d 8->16 k3 L25", make_conv1d(8, 16, 3), {batch, 25, 8}},
      {"conv2d 1->8 3x3 50x13", make_conv2d(1, 8, 3, 3), {batch, 50, 13, 1}},
      {"conv2d 8->16 3x3 25x6", make_conv2d(8, 16, 3, 3), {batch, 25, 6, 8}},
      {"dense 208->3", make_dense(208, 3), {batch, 208}},
      // Dense shapes of the paper's search space (flattened conv outputs -> hidden, -> classes).
      {"dense 2400->169", make_dense(2400, 169), {batch, 2400}},
      {"dense 1152->117", make_dense(1152, 117), {batch, 1152}},
      {"dense 672->90", make_dense(672, 90), {batch, 672}},
      {"dense 208->12", make_dense(208, 12), {batch, 208}},
      {"dense 36->12", make_dense(36, 12), {batch, 36}},
      // Other shapes of the AudioClassifier family: narrow images and odd channel counts.
      {"conv2d 1->4 3x3 50x13", make_conv2d(1, 4, 3, 3), {batch, 50, 13, 1}},
      {"conv2d 4->4 3x3 25x6", make_conv2d(4, 4, 3, 3), {batch, 25, 6, 4}},
      {"conv2d 16->24 3x3 12x3", make_conv2d(16, 24, 3, 3), {batch, 12, 3, 16}},
      // Width 2 of the search space (the sweep's most expensive trials).
      {"conv2d 1->16 3x3 50x13", make_conv2d(1, 16, 3, 3), {batch, 50, 13, 1}},
      {"conv2d 16->32 3x3 25x6", make_conv2d(16, 32, 3, 3), {batch, 25, 6, 16}},
      {"conv2d 32->32 3x3 12x3", make_conv2d(32, 32, 3, 3), {batch, 12, 3, 32}},
      {"conv2d 16->32 3x3 6x1", make_conv2d(16, 32, 3, 3), {batch, 6, 1, 16}},
      // The cheap layers between them, at the AudioClassifier's largest activation.
      {"relu 50x13x8", make_relu(), {batch, 50, 13, 8}},
      {"maxpool2d valid 50x13x8", make_maxpool2d(2, false), {batch, 50, 13, 8}},
      {"maxpool2d valid 50x13x4", make_maxpool2d(2, false), {batch, 50, 13, 4}},
      {"maxpool2d valid 25x6x12", make_maxpool2d(2, false), {batch, 25, 6, 12}},
      {"maxpool1d same 25x16", make_maxpool1d(2, true), {batch, 25, 16}},
      {"dropout 0.25 25x6x8", make_dropout(0.25f), {batch, 25, 6, 8}},
      {"gaussian_noise 50x13", make_gaussian_noise(0.1f), {batch, 50, 13, 1}},
  };
  std::printf("%s kernels, batch %d, single thread\n",
              detail::use_reference_kernels ? "reference" : "fast", batch);
  std::printf("%-24s %9s %9s %9s %9s %9s %9s\n", "layer", "fwd us", "bwd us", "bwd-dx us",
              "total us", "fwd GF/s", "tot GF/s");
  Rng rng(1);
  for (auto& c : cases) {
    if (std::string(c.name).find(filter) == std::string::npos) continue;
    c.layer->init(rng);
    Tensor x(c.in), y, dy(c.layer->output_shape(c.in)), dx;
    for (float& v : x.data) v = float(rng.normal());
    for (float& v : dy.data) v = float(rng.normal());
    ForwardContext ctx{true, &rng};
    const double tf = bench::time_per_call([&] { c.layer->forward(x, y, ctx); }, budget);
    const double tb = bench::time_per_call([&] { c.layer->backward(x, y, dy, &dx); }, budget);
    // A model's first layer needs no input gradient, so that case is timed too.
    const double tw = bench::time_per_call([&] { c.layer->backward(x, y, dy, nullptr); }, budget);
    const double macs = c.layer->macs_per_item(c.in) * batch;
    if (macs > 0)
      std::printf("%-24s %9.2f %9.2f %9.2f %9.2f %9.2f %9.2f\n", c.name, tf * 1e6, tb * 1e6,
                  tw * 1e6, (tf + tb) * 1e6, 2 * macs / tf * 1e-9, 6 * macs / (tf + tb) * 1e-9);
    else
      std::printf("%-24s %9.2f %9.2f %9s %9.2f\n", c.name, tf * 1e6, tb * 1e6, "-",
                  (tf + tb) * 1e6);
  }
  return 0;
}
