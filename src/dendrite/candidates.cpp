// The dendrite phase of Perforated Backpropagation: candidate dendrites trained by gradient ascent
// on the cascade-correlation score (Fahlman & Lebiere, 1990), per neuron c:
//
//   S_c = | sum_p (d_pc - mean d_c)(e_pc - mean e_c) |
//   dS_c/dw = sign(cov_c) sum_p (e_pc - mean e_c) sigma'(a_pc) da_pc/dw
//
// p runs over batch x positions, d is the candidate's output, e = dL/dy of the wrapped layer, and
// the means are running means over the phase (held constant in the derivative, as in the paper).
#include <cmath>

#include <fmt/core.h>

#include "dendrite/dendrite_layer.hpp"

namespace dkws::dendrite {

using nn::Param;
using nn::Tensor;

void DendriteLayer::begin_candidates(int k, Rng& rng) {
  candidates_.clear();
  for (int i = 0; i < k; ++i) {
    Candidate c;
    c.g = base_->clone_shape(rng);
    for (size_t j = 0; j < dendrites_.size(); ++j) c.u.emplace_back(fmt::format("cu{}", j), nn::Shape{channels_});
    c.sum_d.assign(size_t(channels_), 0.0);
    c.epoch_cov.assign(size_t(channels_), 0.0);
    candidates_.push_back(std::move(c));
  }
  sum_e_.assign(size_t(channels_), 0.0);
  count_ = 0;
  epoch_count_ = 0;
}

std::vector<Param*> DendriteLayer::candidate_params() {
  std::vector<Param*> out;
  for (Candidate& c : candidates_) {
    for (Param* p : c.g->params()) out.push_back(p);
    for (Param& u : c.u) out.push_back(&u);
  }
  return out;
}

void DendriteLayer::train_candidates(const Tensor& x, const Tensor& e) {
  const int C = channels_;
  const size_t positions = e.size() / size_t(C);
  for (size_t p = 0; p < positions; ++p)
    for (int c = 0; c < C; ++c) sum_e_[size_t(c)] += e[p * C + c];
  count_ += double(positions);
  epoch_count_ += double(positions);
  const nn::ForwardContext eval{false, nullptr};
  for (Candidate& cand : candidates_) {
    cand.g->forward(x, cand.g_out, eval);
    cand.a = cand.g_out;
    add_cascade(cand.u, cand.a);
    cand.d.resize(cand.a.shape);
    activate_all(act_, cand.a.ptr(), cand.d.ptr(), cand.a.size());
    for (size_t p = 0; p < positions; ++p)
      for (int c = 0; c < C; ++c) cand.sum_d[size_t(c)] += cand.d[p * C + c];

    // This batch's covariance with the running means, added to the epoch's.
    std::vector<double>& cov = batch_cov_;
    cov.assign(size_t(C), 0.0);
    for (size_t p = 0; p < positions; ++p)
      for (int c = 0; c < C; ++c) {
        const double md = cand.sum_d[size_t(c)] / count_, me = sum_e_[size_t(c)] / count_;
        cov[size_t(c)] += (cand.d[p * C + c] - md) * (e[p * C + c] - me);
      }
    for (int c = 0; c < C; ++c) cand.epoch_cov[size_t(c)] += cov[size_t(c)];

    // Ascent on S: hand g the gradient of -S (per position, averaged) so a minimiser climbs S.
    cand.dA.resize(cand.a.shape);
    const float scale = 1.f / float(positions);
    for (size_t p = 0; p < positions; ++p)
      for (int c = 0; c < C; ++c) {
        const size_t i = p * C + c;
        const double sign = cand.epoch_cov[size_t(c)] >= 0 ? 1.0 : -1.0;
        const double me = sum_e_[size_t(c)] / count_;
        cand.dA[i] = float(-sign * (e[i] - me)) * activation_slope(act_, cand.a[i], cand.d[i]) * scale;
      }
    cand.g->backward(x, cand.g_out, cand.dA, nullptr);
    for (size_t j = 0; j < cand.u.size(); ++j) {
      float* grad = cand.u[j].grad.ptr();
      const Tensor& h = dendrites_[j].h;
      for (size_t p = 0; p < positions; ++p)
        for (int c = 0; c < C; ++c) grad[c] += cand.dA[p * C + c] * h[p * C + c];
    }
  }
}

std::vector<std::vector<double>> DendriteLayer::epoch_scores() const {
  std::vector<std::vector<double>> out;
  for (const Candidate& cand : candidates_) {
    std::vector<double> s(size_t(channels_), 0.0);
    if (epoch_count_ > 0)
      for (int c = 0; c < channels_; ++c) s[size_t(c)] = std::abs(cand.epoch_cov[size_t(c)]) / epoch_count_;
    out.push_back(std::move(s));
  }
  return out;
}

double DendriteLayer::epoch_score() const {
  const auto scores = epoch_scores();
  if (scores.empty()) return 0;
  double total = 0;
  for (int c = 0; c < channels_; ++c) {
    double best = 0;
    for (const auto& s : scores) best = std::max(best, s[size_t(c)]);
    total += best;
  }
  return total / channels_;
}

void DendriteLayer::reset_epoch_scores() {
  for (Candidate& cand : candidates_) std::fill(cand.epoch_cov.begin(), cand.epoch_cov.end(), 0.0);
  epoch_count_ = 0;
}

void DendriteLayer::install_best_candidates() {
  if (candidates_.empty()) return;
  const auto scores = epoch_scores();
  std::vector<size_t> best(size_t(channels_), 0);
  for (int c = 0; c < channels_; ++c)
    for (size_t k = 1; k < scores.size(); ++k)
      if (scores[k][size_t(c)] > scores[best[size_t(c)]][size_t(c)]) best[size_t(c)] = k;

  // The new dendrite takes, channel by channel, the winning candidate's weight row and cascade.
  Candidate& first = candidates_[0];
  Rng unused(0);
  std::unique_ptr<nn::Layer> g = first.g->clone_shape(unused);
  auto dst = g->params();
  for (size_t pi = 0; pi < dst.size(); ++pi) {
    const size_t row = dst[pi]->value.size() / size_t(channels_);
    for (int c = 0; c < channels_; ++c) {
      const Param* src = candidates_[best[size_t(c)]].g->params()[pi];
      std::copy_n(src->value.ptr() + size_t(c) * row, row, dst[pi]->value.ptr() + size_t(c) * row);
    }
  }
  const size_t k = dendrites_.size();
  add_dendrite(std::move(g));
  Dendrite& d = dendrites_.back();
  for (size_t j = 0; j < k; ++j)
    for (int c = 0; c < channels_; ++c)
      d.u[j].value[size_t(c)] = candidates_[best[size_t(c)]].u[j].value[size_t(c)];
  candidates_.clear();
}

}  // namespace dkws::dendrite
