// Nanoseconds per element of the training-time random layers at the sweep's shapes, measured in
// thread CPU time (so other processes on a busy machine do not count): GaussianNoise on the
// [32, 650] input and Dropout on [32, 650] and [32, 650*16] activations, plus the scalar
// Rng::normal() loop for comparison.
// Usage: rng_speed [seconds per case]
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>

#include "bench_timing.hpp"
#include "dkws/nn/layers.hpp"

using namespace dkws;
using namespace dkws::nn;

int main(int argc, char** argv) {
  const double budget = argc > 1 ? std::atof(argv[1]) : 0.5;
  std::printf("%-34s %10s %10s\n", "case (thread CPU time)", "us/call", "ns/elem");
  auto report = [](const std::string& name, double t, size_t n) {
    std::printf("%-34s %10.2f %10.3f\n", name.c_str(), t * 1e6, t * 1e9 / double(n));
  };

  Rng rng(1);
  {
    std::vector<float> out(32 * 650);
    const double t = bench::time_per_call(
        [&] {
          for (float& v : out) v = float(rng.normal());
        },
        budget);
    report("Rng::normal() loop 32x650", t, out.size());
  }
  struct Case {
    std::string name;
    std::unique_ptr<Layer> layer;
    Shape in;
  };
  Case cases[] = {
      {"gaussian_noise 0.1 32x650", make_gaussian_noise(0.1f), {32, 650}},
      {"dropout 0.3 32x650", make_dropout(0.3f), {32, 650}},
      {"dropout 0.3 32x10400", make_dropout(0.3f), {32, 650 * 16}},
  };
  for (auto& c : cases) {
    Tensor x(c.in), y, dy(c.in), dx;
    for (float& v : x.data) v = float(rng.normal());
    for (float& v : dy.data) v = float(rng.normal());
    const ForwardContext ctx{true, &rng};
    const double tf = bench::time_per_call([&] { c.layer->forward(x, y, ctx); }, budget);
    report(c.name + " forward", tf, x.size());
    const double tb = bench::time_per_call([&] { c.layer->backward(x, y, dy, &dx); }, budget);
    report(c.name + " backward", tb, x.size());
  }
  return 0;
}
