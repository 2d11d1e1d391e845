// The cost of dendrites: forward+backward time of a layer with D dendrites against the bare layer
// (target: at most about D+1 times), and a dendrite-phase step (candidate training included)
// against a neuron-phase step with the same D (target: at most about 2 times). Batch 32, 1 thread.
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>

#include "dendrite/dendrite_layer.hpp"
#include "dkws/nn/layers.hpp"

using namespace dkws;
using Clock = std::chrono::steady_clock;

namespace {

// This thread's CPU time: robust to other processes sharing the core.
double cpu_seconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

// Best of 5 rounds of the mean over >= 0.1 s.
double time_us(const std::function<void()>& step) {
  for (int i = 0; i < 20; ++i) step();  // warm buffers
  double best = 1e30;
  for (int round = 0; round < 5; ++round) {
    int reps = 0;
    const double t0 = cpu_seconds();
    double elapsed = 0;
    while (elapsed < 0.1) {
      step();
      ++reps;
      elapsed = cpu_seconds() - t0;
    }
    best = std::min(best, elapsed / reps * 1e6);
  }
  return best;
}

nn::Tensor random_tensor(nn::Shape s, Rng& rng) {
  nn::Tensor t(std::move(s));
  for (float& v : t.data) v = float(rng.normal());
  return t;
}

double step_time(nn::Layer& layer, const nn::Tensor& x, Rng& rng) {
  nn::Tensor y, dx;
  layer.forward(x, y, {});
  const nn::Tensor dy = random_tensor(y.shape, rng);
  return time_us([&] {
    layer.forward(x, y, {});
    layer.backward(x, y, dy, &dx);
  });
}

void row(const char* name, const std::function<std::unique_ptr<nn::Layer>()>& make, nn::Shape in) {
  Rng rng(1);
  const nn::Tensor x = random_tensor(in, rng);
  auto bare = make();
  bare->init(rng);
  const double t0 = step_time(*bare, x, rng);
  std::printf("%-28s bare %8.1f us", name, t0);
  for (int d = 1; d <= 3; ++d) {
    auto base = make();
    base->init(rng);
    dendrite::DendriteLayer layer(std::move(base), dendrite::Activation::kTanh, true);
    for (int k = 0; k < d; ++k) layer.add_dendrite(layer.base().clone_shape(rng));
    for (nn::Param* p : layer.params())
      for (float& v : p->value.data) v = float(0.1 * rng.normal());
    layer.set_neuron_phase(true);
    const double tn = step_time(layer, x, rng);
    layer.freeze_all();
    layer.begin_candidates(1, rng);
    const double tp = step_time(layer, x, rng);
    std::printf(" | D=%d N %6.2fx (target <= %d) P/N %4.2fx", d, tn / t0, d + 1, tp / tn);
  }
  std::printf("\n");
}

}  // namespace

int main() {
  std::printf("dendrite cost, batch 32, forward+backward per step, cc mode (perforated)\n");
  row("conv2d 1->8 3x3 on 50x13", [] { return nn::make_conv2d(1, 8, 3, 3); }, {32, 50, 13, 1});
  row("conv2d 8->16 3x3 on 25x6", [] { return nn::make_conv2d(8, 16, 3, 3); }, {32, 25, 6, 8});
  row("conv1d 13->8 k3 on 50", [] { return nn::make_conv1d(13, 8, 3); }, {32, 50, 13});
  row("dense 208->12", [] { return nn::make_dense(208, 12); }, {32, 208});
  return 0;
}
