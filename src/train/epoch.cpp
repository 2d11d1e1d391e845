#include "train/epoch.hpp"

#include <numeric>

#include "dkws/augment.hpp"

namespace dkws {

EpochStats train_epoch(nn::Sequential& net, nn::Adam& optimiser,
                       const std::vector<nn::Param*>& learning, const FeatureSet& train,
                       int batch_size, Rng& rng, EpochScratch& s, EpochAugment* aug,
                       SoftTargets* targets) {
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
    s.rows.resize(size_t(n));
    for (int i = 0; i < n; ++i) {
      const size_t row = s.order[start + size_t(i)];
      const float* src = train.row(row);
      float* dst = s.x.ptr() + size_t(i) * dim;
      if (aug && aug->n_variants > 0) {
        const uint64_t v = aug->rng.below(uint64_t(aug->n_variants) + 1);  // 0: the clean clip
        if (v > 0) src = aug->variants->row((v - 1) * train.size() + row);
      }
      std::copy(src, src + dim, dst);
      if (aug) spec_augment(dst, train.frames, train.coeffs, aug->spec, aug->rng);
      s.labels[size_t(i)] = train.y[row];
      s.rows[size_t(i)] = row;
    }
    if (targets) targets->mix(s.x, s.labels, s.rows);
    for (nn::Param* p : learning) p->grad.zero();
    const nn::Tensor& logits = net.forward(s.x, ctx);
    const float loss = targets ? targets->loss(logits, s.rows, s.dlogits)
                               : nn::softmax_cross_entropy(logits, s.labels.data(), s.dlogits);
    loss_sum += double(loss) * n;
    nn::argmax_rows(logits, s.pred);
    for (int i = 0; i < n; ++i) correct += s.pred[size_t(i)] == s.labels[size_t(i)];
    net.backward(s.dlogits);
    optimiser.step();
    nn::apply_max_norm(learning);
  }
  return {loss_sum / double(train.size()), double(correct) / double(train.size())};
}

}  // namespace dkws
