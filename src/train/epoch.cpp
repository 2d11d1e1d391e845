#include "train/epoch.hpp"

#include <numeric>

namespace dkws {

EpochStats train_epoch(nn::Sequential& net, nn::Adam& optimiser, const std::vector<nn::Param*>& learning,
                       const FeatureSet& train, int batch_size, Rng& rng, EpochScratch& s) {
  s.order.resize(train.size());
  std::iota(s.order.begin(), s.order.end(), size_t(0));
  for (size_t i = s.order.size(); i > 1; --i) std::swap(s.order[i - 1], s.order[rng.below(i)]);
  const nn::ForwardContext ctx{true, &rng};
  double loss_sum = 0;
  size_t correct = 0;
  const size_t dim = size_t(train.dim());
  for (size_t start = 0; start < s.order.size(); start += size_t(batch_size)) {
    const int n = int(std::min(s.order.size() - start, size_t(batch_size)));
    s.x.resize({n, int(dim)});
    s.labels.resize(size_t(n));
    for (int i = 0; i < n; ++i) {
      const size_t row = s.order[start + size_t(i)];
      std::copy(train.row(row), train.row(row) + dim, s.x.ptr() + size_t(i) * dim);
      s.labels[size_t(i)] = train.y[row];
    }
    for (nn::Param* p : learning) p->grad.zero();
    const nn::Tensor& logits = net.forward(s.x, ctx);
    loss_sum += double(nn::softmax_cross_entropy(logits, s.labels.data(), s.dlogits)) * n;
    nn::argmax_rows(logits, s.pred);
    for (int i = 0; i < n; ++i) correct += s.pred[size_t(i)] == s.labels[size_t(i)];
    net.backward(s.dlogits);
    optimiser.step();
    nn::apply_max_norm(learning);
  }
  return {loss_sum / double(train.size()), double(correct) / double(train.size())};
}

}  // namespace dkws
