// The dendrite math as plain loops: the definition that the fast, blocked code in
// dendrite_layer.cpp and dendrite_phase.cpp is tested against (tests/test_dendrite_reference.cpp),
// and the one every other copy of the math points back to (the list is in dendrite_layer.hpp).
//
// Tensors are channels-last, so element (p, c) is [p * C + c], with p running over batch x
// positions. f, g_k and the candidates' g run through their own Layer calls, whose plain loops are
// nn's reference kernels; what is written out here is the dendrite part. Sums over positions are
// taken in double, so the reference's own rounding stays well below the fast path's.
#include "dendrite/dendrite_layer.hpp"

namespace dkws::dendrite {

using nn::Tensor;

void DendriteLayer::forward_reference(const Tensor& x, Tensor& y, const nn::ForwardContext& ctx) {
  base_->forward(x, y, ctx);  // y = f(x)
  for (Dendrite& d : dendrites_) {
    d.g->forward(x, d.a, ctx);  // a_k = g_k(x), the cascade is added below
    d.h.resize(d.a.shape);
  }
  const size_t C = size_t(channels_), positions = y.size() / C;
  for (size_t p = 0; p < positions; ++p)
    for (size_t c = 0; c < C; ++c) {
      const size_t i = p * C + c;
      for (size_t k = 0; k < dendrites_.size(); ++k) {
        Dendrite& d = dendrites_[k];
        for (size_t j = 0; j < k; ++j) d.a[i] += d.u[j].value[c] * dendrites_[j].h[i];
        d.h[i] = activate(act_, d.a[i]);
        y[i] += d.v.value[c] * d.h[i];
      }
    }
}

void DendriteLayer::backward_reference(const Tensor& x, const Tensor& y, const Tensor& dy,
                                       Tensor* dx) {
  // f's weight gradients, and the input error through f.
  base_->backward(x, y, dy, dx);
  const size_t C = size_t(channels_), positions = dy.size() / C, D = dendrites_.size();
  // Highest dendrite first, because da_m of every m > k feeds dh_k through the cascade:
  //   dh_k = v_k (.) dy + sum_{m>k} u_mk (.) da_m,   da_k = dh_k (.) sigma'(a_k)
  //   dv_k = sum_p dy (.) h_k,                       du_kj = sum_p da_k (.) h_j
  for (size_t k = D; k-- > 0;) {
    Dendrite& d = dendrites_[k];
    d.da.resize(dy.shape);
    for (size_t p = 0; p < positions; ++p)
      for (size_t c = 0; c < C; ++c) {
        const size_t i = p * C + c;
        float dh = d.v.value[c] * dy[i];
        for (size_t m = k + 1; m < D; ++m) dh += dendrites_[m].u[k].value[c] * dendrites_[m].da[i];
        d.da[i] = dh * activation_slope(act_, d.a[i], d.h[i]);
      }
    for (size_t c = 0; c < C; ++c) {
      if (d.v.trainable) {
        double dv = 0;
        for (size_t p = 0; p < positions; ++p) dv += double(dy[p * C + c]) * d.h[p * C + c];
        d.v.grad[c] += float(dv);
      }
      for (size_t j = 0; j < k; ++j) {
        if (!d.u[j].trainable) continue;
        double du = 0;
        for (size_t p = 0; p < positions; ++p)
          du += double(d.da[p * C + c]) * dendrites_[j].h[p * C + c];
        d.u[j].grad[c] += float(du);
      }
    }
  }
  // g_k gets da_k when it learns. Perforated (cc), the input error stops at the dendrites; not
  // perforated (gd), it also flows back through every g_k, trainable or not.
  const bool through_g = !perforated_ && dx;
  Tensor dx_g;
  for (Dendrite& d : dendrites_) {
    if (!d.g_weight->trainable && !through_g) continue;
    d.g->backward(x, d.a, d.da, through_g ? &dx_g : nullptr);
    if (through_g)
      for (size_t i = 0; i < dx->size(); ++i) (*dx)[i] += dx_g[i];
  }
  if (!candidates_.empty()) train_candidates_reference(x, dy);
}

// The cascade-correlation step of each candidate, with the means running over the phase:
//   d = sigma(a),  a = g(x) + sum_j u_j (.) h_j
//   cov_c += sum_p (d_pc - md_c)(e_pc - me_c)        (this batch, added to the epoch's)
//   dA_pc = -sign(cov_c) (e_pc - me_c) sigma'(a_pc) / P
// dA is the gradient of -S / P with the means held fixed, so a minimiser climbs S.
void DendriteLayer::train_candidates_reference(const Tensor& x, const Tensor& e) {
  const size_t C = size_t(channels_), positions = e.size() / C;
  for (size_t c = 0; c < C; ++c)
    for (size_t p = 0; p < positions; ++p) sum_e_[c] += e[p * C + c];
  count_ += double(positions);
  epoch_count_ += double(positions);
  const nn::ForwardContext eval{false, nullptr};
  for (Candidate& cand : candidates_) {
    cand.g->forward(x, cand.a, eval);
    cand.d.resize(cand.a.shape);
    cand.dA.resize(cand.a.shape);
    for (size_t p = 0; p < positions; ++p)
      for (size_t c = 0; c < C; ++c) {
        const size_t i = p * C + c;
        for (size_t j = 0; j < cand.u.size(); ++j)
          cand.a[i] += cand.u[j].value[c] * dendrites_[j].h[i];
        cand.d[i] = activate(act_, cand.a[i]);
      }
    for (size_t c = 0; c < C; ++c) {
      for (size_t p = 0; p < positions; ++p) cand.sum_d[c] += cand.d[p * C + c];
      const double md = cand.sum_d[c] / count_, me = sum_e_[c] / count_;
      double cov = 0;
      for (size_t p = 0; p < positions; ++p) cov += (cand.d[p * C + c] - md) * (e[p * C + c] - me);
      cand.epoch_cov[c] += cov;
      const double sign = cand.epoch_cov[c] >= 0 ? 1.0 : -1.0;
      for (size_t p = 0; p < positions; ++p) {
        const size_t i = p * C + c;
        const double slope = activation_slope(act_, cand.a[i], cand.d[i]);
        cand.dA[i] = float(-sign * (e[i] - me) * slope / double(positions));
      }
    }
    cand.g->backward(x, cand.a, cand.dA, nullptr);
    for (size_t j = 0; j < cand.u.size(); ++j)
      for (size_t c = 0; c < C; ++c) {
        double du = 0;
        for (size_t p = 0; p < positions; ++p)
          du += double(cand.dA[p * C + c]) * dendrites_[j].h[p * C + c];
        cand.u[j].grad[c] += float(du);
      }
  }
}

}  // namespace dkws::dendrite
