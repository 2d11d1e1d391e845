#include "train/lr_schedule.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace dkws {
namespace {

// From `hi` down to `lo` over the steps 0..steps-1 on half a cosine; one step stays at `hi`.
double cosine_down(double hi, double lo, int step, int steps) {
  if (steps <= 1) return hi;
  const double progress = double(step) / double(steps - 1);
  return lo + (hi - lo) * 0.5 * (1 + std::cos(std::numbers::pi * progress));
}

}  // namespace

bool epoch_scheduled(const TrainSpec& t) {
  return t.scheduler == "cosine" || t.scheduler == "onecycle";
}

double scheduled_lr(const TrainSpec& t, int epoch) {
  const double lr_end = t.lr * t.final_lr_fraction;
  epoch = std::clamp(epoch, 0, std::max(0, t.epochs - 1));
  if (t.scheduler == "cosine") return cosine_down(t.lr, lr_end, epoch, t.epochs);
  if (t.scheduler != "onecycle") return t.lr;
  const int warmup = int(std::lround(t.warmup_fraction * t.epochs));
  if (epoch < warmup) return lr_end + (t.lr - lr_end) * double(epoch) / double(warmup);
  return cosine_down(t.lr, lr_end, epoch - warmup, t.epochs - warmup);
}

}  // namespace dkws
