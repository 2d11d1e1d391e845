#include "dkws/nn/sequential.hpp"
#include "dkws/train.hpp"

namespace dkws {

EvalResult evaluate(nn::Sequential& net, const FeatureSet& set, int batch_size) {
  EvalResult r;
  r.predictions.resize(set.size());
  nn::Tensor x, dlogits;
  std::vector<int> pred;
  const nn::ForwardContext ctx{false, nullptr};
  size_t correct = 0;
  double loss_sum = 0;
  for (size_t start = 0; start < set.size(); start += size_t(batch_size)) {
    const int n = int(std::min(set.size() - start, size_t(batch_size)));
    x.resize({n, set.dim()});
    std::copy(set.row(start), set.row(start) + size_t(n) * set.dim(), x.ptr());
    const nn::Tensor& logits = net.forward(x, ctx);
    loss_sum += double(nn::softmax_cross_entropy(logits, set.y.data() + start, dlogits)) * n;
    nn::argmax_rows(logits, pred);
    for (int i = 0; i < n; ++i) {
      r.predictions[start + size_t(i)] = pred[size_t(i)];
      correct += pred[size_t(i)] == set.y[start + size_t(i)];
    }
  }
  if (!set.y.empty()) {
    r.accuracy = double(correct) / double(set.size());
    r.loss = loss_sum / double(set.size());
  }
  return r;
}

std::vector<std::vector<int>> confusion_matrix(const std::vector<int>& truth,
                                               const std::vector<int>& pred, int classes) {
  std::vector<std::vector<int>> m(size_t(classes), std::vector<int>(size_t(classes), 0));
  for (size_t i = 0; i < truth.size(); ++i) ++m[size_t(truth[i])][size_t(pred[i])];
  return m;
}

}  // namespace dkws
