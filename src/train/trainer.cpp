// The epoch loop. Mode-specific growth (dendrites, restarts) is delegated; this file owns batching,
// the optimiser and schedule, the best checkpoint and the switching decisions.
#include <chrono>
#include <numeric>

#include <fmt/core.h>

#include "dkws/error.hpp"
#include "dkws/model_file.hpp"
#include "dkws/nn/optim.hpp"
#include "dkws/train.hpp"
#include "dkws/util.hpp"
#include "train/tracker.hpp"

namespace dkws {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

struct EpochStats {
  double loss = 0, acc = 0;
};

// One pass over the training set in a seeded random order.
EpochStats train_epoch(nn::Sequential& net, nn::Adam& adam, const FeatureSet& train, int batch_size,
                       Rng& rng, std::vector<size_t>& order, nn::Tensor& x, nn::Tensor& dlogits,
                       std::vector<int>& labels, std::vector<int>& pred) {
  order.resize(train.size());
  std::iota(order.begin(), order.end(), size_t(0));
  for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);
  const std::vector<nn::Param*> params = net.params();
  const nn::ForwardContext ctx{true, &rng};
  double loss_sum = 0;
  size_t correct = 0;
  const size_t dim = size_t(train.dim());
  for (size_t start = 0; start < order.size(); start += size_t(batch_size)) {
    const int n = int(std::min(order.size() - start, size_t(batch_size)));
    x.resize({n, int(dim)});
    labels.resize(size_t(n));
    for (int i = 0; i < n; ++i) {
      const size_t row = order[start + size_t(i)];
      std::copy(train.row(row), train.row(row) + dim, x.ptr() + size_t(i) * dim);
      labels[size_t(i)] = train.y[row];
    }
    for (nn::Param* p : params) p->grad.zero();
    const nn::Tensor& logits = net.forward(x, ctx);
    loss_sum += double(nn::softmax_cross_entropy(logits, labels.data(), dlogits)) * n;
    nn::argmax_rows(logits, pred);
    for (int i = 0; i < n; ++i) correct += pred[size_t(i)] == labels[size_t(i)];
    net.backward(dlogits);
    adam.step();
    nn::apply_max_norm(params);
  }
  return {loss_sum / double(train.size()), double(correct) / double(train.size())};
}

}  // namespace

TrainResult train_model(nn::Sequential& net, const RunConfig& cfg, const TaskData& data,
                        const TrainOptions& opt) {
  if (data.train.size() == 0) throw Error("train: the training split is empty");
  if (data.val.size() == 0) throw Error("train: the validation split is empty");
  const TrainSpec& ts = cfg.train;
  Rng rng(ts.seed * 0x2545F4914F6CDD1Dull + 7);
  TrainResult result;
  SwitchTracker tracker(cfg.dendrites);
  auto adam = std::make_unique<nn::Adam>(net.params(), float(ts.lr));
  auto make_scheduler = [&] {
    return std::make_unique<nn::ReduceLROnPlateau>(true, float(ts.plateau_factor), ts.plateau_patience);
  };
  auto scheduler = make_scheduler();
  nn::Sequential best = clone_net(net);

  std::vector<size_t> order;
  nn::Tensor x, dlogits;
  std::vector<int> labels, pred;
  Progress bar("train", size_t(ts.epochs), opt.quiet);
  const auto t0 = Clock::now();
  for (int epoch = 1; epoch <= ts.epochs; ++epoch) {
    const auto te = Clock::now();
    EpochRecord rec;
    rec.epoch = epoch;
    rec.lr = adam->lr();
    rec.dendrites = tracker.growth_steps();
    rec.params = net.count_params();
    const EpochStats st = train_epoch(net, *adam, data.train, ts.batch_size, rng, order, x, dlogits,
                                      labels, pred);
    rec.train_loss = st.loss;
    rec.train_acc = st.acc;
    const EvalResult val = evaluate(net, data.val);
    rec.val_acc = val.accuracy;
    rec.val_loss = val.loss;
    if (ts.scheduler == "plateau") adam->set_lr(scheduler->step(float(val.accuracy), adam->lr()));

    const SwitchDecision d = tracker.observe(val.accuracy);
    rec.val_score = tracker.smoothed_score();
    if (d.new_best) {
      best = clone_net(net);
      result.best_epoch = epoch;
      result.best_val_acc = val.accuracy;
      result.val_loss = val.loss;
    }
    bool stop = false;
    if (d.action != SwitchAction::kContinue) {
      rec.event = d.reason;
      result.transitions.push_back({{"epoch", epoch},
                                    {"phase", rec.phase},
                                    {"action", d.action == SwitchAction::kComplete ? "complete" : "restructure"},
                                    {"reason", d.reason},
                                    {"dendrites", tracker.committed_steps()},
                                    {"params", best.count_params()},
                                    {"best_val", tracker.best_score()}});
      net = clone_net(best);  // every switch reverts to the best checkpoint
      if (d.action == SwitchAction::kComplete) {
        stop = true;
      } else {
        // Plain restart (control arm): no growth, fresh optimiser and schedule at the initial rate.
        tracker.restructured(1);
        adam = std::make_unique<nn::Adam>(net.params(), float(ts.lr));
        scheduler = make_scheduler();
      }
    }
    rec.seconds = seconds_since(te);
    result.history.push_back(rec);
    bar.update(size_t(epoch), fmt::format("loss {:.3f} val {:.3f} best {:.3f}@{}", st.loss,
                                          val.accuracy, result.best_val_acc, result.best_epoch));
    result.epochs_run = epoch;
    if (stop) break;
  }
  bar.finish();
  net = std::move(best);
  result.train_seconds = seconds_since(t0);
  const EvalResult test = evaluate(net, data.test);
  result.test_acc = test.accuracy;
  result.test_confusion = confusion_matrix(data.test.y, test.predictions, int(data.classes.size()));
  return result;
}

}  // namespace dkws
