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

#include "dendrite/channel_ops.hpp"
#include "dendrite/dendrite_layer.hpp"

namespace dkws::dendrite {

using nn::Param;
using nn::Tensor;

void DendriteLayer::begin_candidates(int k, Rng& rng) {
  candidates_.clear();
  for (int i = 0; i < k; ++i) {
    Candidate c;
    c.g = base_->clone_shape(rng);
    for (size_t j = 0; j < dendrites_.size(); ++j)
      c.u.emplace_back(fmt::format("cu{}", j), nn::Shape{channels_});
    c.sum_d.assign(size_t(channels_), 0.0);
    c.epoch_cov.assign(size_t(channels_), 0.0);
    candidates_.push_back(std::move(c));
  }
  sum_e_.assign(size_t(channels_), 0.0);
  for (nn::Tensor* t : {&neg_mean_e_, &signed_scale_}) t->resize({channels_});
  count_ = 0;
  epoch_count_ = 0;
  pb_.active = false;
}

std::vector<Param*> DendriteLayer::candidate_params() {
  std::vector<Param*> out;
  for (Candidate& c : candidates_) {
    for (Param* p : c.g->params()) out.push_back(p);
    for (Param& u : c.u) out.push_back(&u);
  }
  return out;
}

// Reference: DendriteLayer::train_candidates_reference (dendrite_reference.cpp).
void DendriteLayer::train_candidates(const Tensor& x, const Tensor& e) {
  const size_t C = size_t(channels_), positions = e.size() / C;
  // Batch sums per channel in float (vectorised), carried over the phase in double.
  std::vector<float>& batch_e = batch_sum_e_;
  batch_e.assign(C, 0.f);
  accumulate_channel_sum(e.ptr(), batch_e.data(), positions, C);
  for (size_t c = 0; c < C; ++c) sum_e_[c] += batch_e[c];
  count_ += double(positions);
  epoch_count_ += double(positions);
  for (Candidate& cand : candidates_) {
    candidate_forward(cand, x, e);
    const std::vector<float>& batch_d = batch_sum_d_;
    const std::vector<float>& de = batch_de_;

    // This batch's covariance with the running means, added to the epoch's:
    // sum_p (d - md)(e - me) = sum de - md sum e - me sum d + P md me.
    const double n = double(positions);
    for (size_t c = 0; c < C; ++c) {
      cand.sum_d[c] += batch_d[c];
      const double md = cand.sum_d[c] / count_, me = sum_e_[c] / count_;
      cand.epoch_cov[c] += double(de[c]) - md * batch_e[c] - me * batch_d[c] + n * md * me;
    }

    // Ascent on S: hand g the gradient of -S (per position, averaged) so a minimiser climbs S:
    // dA = -sign(cov_c) (e - me_c) sigma'(a) / P.
    for (size_t c = 0; c < C; ++c) {
      const double sign = cand.epoch_cov[c] >= 0 ? 1.0 : -1.0;
      neg_mean_e_[c] = float(-sum_e_[c] / count_);
      signed_scale_[c] = float(-sign / n);
    }
    candidate_backward(cand, x, e, neg_mean_e_, signed_scale_);
  }
}

void DendriteLayer::candidate_forward(Candidate& cand, const Tensor& x, const Tensor& e) {
  const nn::ForwardContext eval{false, nullptr};
  cand.g->forward(x, cand.a, eval);
  add_cascade(cand.u, cand.a);
  cand.d.resize(cand.a.shape);
  activate_all(act_, cand.a.ptr(), cand.d.ptr(), cand.a.size());
  // Batch sums per channel in float (vectorised): sum_p d and sum_p d e.
  const size_t C = size_t(channels_), positions = e.size() / C;
  batch_sum_d_.assign(C, 0.f);
  accumulate_channel_sum(cand.d.ptr(), batch_sum_d_.data(), positions, C);
  batch_de_.assign(C, 0.f);
  accumulate_channel_dot(cand.d.ptr(), e.ptr(), batch_de_.data(), positions, C);
}

void DendriteLayer::candidate_backward(Candidate& cand, const Tensor& x, const Tensor& e,
                                       const Tensor& shift, const Tensor& scale) {
  const size_t C = size_t(channels_), positions = e.size() / C;
  cand.dA.resize(cand.a.shape);
  shift_scale_rows(shift.ptr(), scale.ptr(), e.ptr(), cand.dA.ptr(), positions, C);
  scale_by_slope_inplace(act_, cand.a.ptr(), cand.d.ptr(), cand.dA.ptr(), cand.dA.size());
  cand.g->backward(x, cand.a, cand.dA, nullptr);
  for (size_t j = 0; j < cand.u.size(); ++j)
    accumulate_channel_dot(cand.dA.ptr(), dendrites_[j].h.ptr(), cand.u[j].grad.ptr(), positions,
                           C);
}

std::vector<std::vector<double>> DendriteLayer::epoch_scores() const {
  std::vector<std::vector<double>> out;
  for (const Candidate& cand : candidates_) {
    std::vector<double> s(size_t(channels_), 0.0);
    if (epoch_count_ > 0)
      for (int c = 0; c < channels_; ++c)
        s[size_t(c)] = std::abs(cand.epoch_cov[size_t(c)]) / epoch_count_;
    out.push_back(std::move(s));
  }
  return out;
}

double DendriteLayer::epoch_score() const {
  if (pb_.active) return pb_score();
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

namespace {
// Copies channel c's row of every tensor in `from` into `to` (same shapes, channel-major).
void copy_channel_rows(const std::vector<const std::vector<float>*>& from,
                       std::vector<std::vector<float>>& to, size_t c, size_t channels) {
  if (to.size() != from.size()) {
    to.clear();
    for (const auto* v : from) to.push_back(*v);  // every row is overwritten before it is read
    return;
  }
  for (size_t i = 0; i < from.size(); ++i) {
    const size_t row = from[i]->size() / channels;
    std::copy_n(from[i]->data() + c * row, row, to[i].data() + c * row);
  }
}
}  // namespace

void DendriteLayer::keep_best_candidate_rows() {
  const auto scores = epoch_scores();
  const size_t C = size_t(channels_);
  for (size_t k = 0; k < candidates_.size(); ++k) {
    Candidate& cand = candidates_[k];
    if (cand.best_score.size() != C) cand.best_score.assign(C, -1.0);
    std::vector<const std::vector<float>*> g_rows, u_rows;
    for (const Param* p : cand.g->params()) g_rows.push_back(&p->value.data);
    for (const Param& u : cand.u) u_rows.push_back(&u.value.data);
    for (size_t c = 0; c < C; ++c) {
      if (!(scores[k][c] > cand.best_score[c])) continue;
      cand.best_score[c] = scores[k][c];
      copy_channel_rows(g_rows, cand.best_g, c, C);
      copy_channel_rows(u_rows, cand.best_u, c, C);
    }
  }
}

void DendriteLayer::install_best_candidates() {
  if (candidates_.empty()) return;
  if (pb_.active) return install_pb_candidates();
  const bool kept = !candidates_[0].best_score.empty();
  const auto scores = epoch_scores();
  auto score = [&](size_t k, size_t c) {
    return kept ? candidates_[k].best_score[c] : scores[k][c];
  };
  std::vector<size_t> best(size_t(channels_), 0);
  for (size_t c = 0; c < size_t(channels_); ++c)
    for (size_t k = 1; k < candidates_.size(); ++k)
      if (score(k, c) > score(best[c], c)) best[c] = k;

  install_candidate_rows(best);
}

void DendriteLayer::install_candidate_rows(const std::vector<size_t>& pick) {
  // The new dendrite takes, channel by channel, the picked candidate's weight row (from its pb
  // snapshot or its classic best-epoch rows when it has them, else as it is now) and its cascade
  // weights (from the best-epoch rows when kept, else as they are now).
  Rng unused(0);
  std::unique_ptr<nn::Layer> g = candidates_[0].g->clone_shape(unused);
  auto dst = g->params();
  for (size_t pi = 0; pi < dst.size(); ++pi) {
    const size_t row = dst[pi]->value.size() / size_t(channels_);
    for (int c = 0; c < channels_; ++c) {
      const Candidate& src = candidates_[pick[size_t(c)]];
      const float* from = !src.pb.snapshot.empty() ? src.pb.snapshot[pi].data()
                          : !src.best_g.empty()    ? src.best_g[pi].data()
                                                   : src.g->params()[pi]->value.ptr();
      std::copy_n(from + size_t(c) * row, row, dst[pi]->value.ptr() + size_t(c) * row);
    }
  }
  const size_t k = dendrites_.size();
  add_dendrite(std::move(g));
  Dendrite& d = dendrites_.back();
  for (size_t j = 0; j < k; ++j)
    for (int c = 0; c < channels_; ++c) {
      const Candidate& src = candidates_[pick[size_t(c)]];
      d.u[j].value[size_t(c)] =
          src.best_u.empty() ? src.u[j].value[size_t(c)] : src.best_u[j][size_t(c)];
    }
  candidates_.clear();
  pb_.active = false;
}

}  // namespace dkws::dendrite
