#include "dendrite/dendrite_layer.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/core.h>

#include "dendrite/channel_ops.hpp"
#include "dkws/error.hpp"
#include "dkws/nn/layers.hpp"

namespace dkws::dendrite {

using nn::Param;
using nn::Tensor;

namespace {

bool wrappable(const std::string& kind) {
  return kind == "dense" || kind == "conv1d" || kind == "conv2d";
}

Param channel_vector(const std::string& name, int channels) {
  return Param(name, {channels});
}

}  // namespace

DendriteLayer::DendriteLayer(std::unique_ptr<nn::Layer> base, Activation act, bool perforated)
    : base_(std::move(base)), act_(act), perforated_(perforated) {
  if (!wrappable(base_->kind()))
    throw Error(fmt::format("dendrites: layer kind '{}' cannot be wrapped (conv1d, conv2d, dense)",
                            base_->kind()));
  channels_ = base_->config().at("out").get<int>();
}

void DendriteLayer::add_cascade(const std::vector<Param>& u, Tensor& a) const {
  for (size_t j = 0; j < u.size(); ++j)
    add_scaled_rows(u[j].value.ptr(), dendrites_[j].h.ptr(), a.ptr(), a.size() / size_t(channels_),
                    size_t(channels_));
}

// The elementwise work of a wrapped layer (cascade, activation, v_k-weighted sums and their
// backward) is done block by block over positions, every dendrite inside one block, so the block's
// rows stay in L1. Whole-tensor passes, one per term, made these small layers memory-bound.
namespace {
constexpr size_t kBlockFloats = 1000;

size_t block_positions(int channels) {
  return std::max<size_t>(1, kBlockFloats / size_t(channels));
}
}  // namespace

// Reference: DendriteLayer::forward_reference (dendrite_reference.cpp).
void DendriteLayer::forward(const Tensor& x, Tensor& y, const nn::ForwardContext& ctx) {
  // f's and g_k's backward need only x, never their outputs, so g_k writes straight into a_k and
  // the cascade is added in place.
  base_->forward(x, y, ctx);
  if (dendrites_.empty()) return;
  for (Dendrite& d : dendrites_) {
    d.g->forward(x, d.a, ctx);
    d.h.resize(d.a.shape);
  }
  const size_t c_n = size_t(channels_), positions = y.size() / c_n,
               step = block_positions(channels_);
  for (size_t p0 = 0; p0 < positions; p0 += step) {
    const size_t rows = std::min(step, positions - p0), off = p0 * c_n, n = rows * c_n;
    float* y_blk = y.ptr() + off;
    for (Dendrite& d : dendrites_) {
      float* a = d.a.ptr() + off;
      float* h = d.h.ptr() + off;
      for (size_t j = 0; j < d.u.size(); ++j)
        add_scaled_rows(d.u[j].value.ptr(), dendrites_[j].h.ptr() + off, a, rows, c_n);
      activate_all(act_, a, h, n);
      add_scaled_rows(d.v.value.ptr(), h, y_blk, rows, c_n);
    }
  }
}

// Reference: DendriteLayer::backward_reference (dendrite_reference.cpp).
void DendriteLayer::backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx) {
  base_->backward(x, y, dy, dx);
  if (pb_.track_error) update_error_mean(dy);
  // Every dendrite is in the same phase; when none learns (dendrite phase) and the input error
  // goes through f alone, the dendrite errors are not needed at all.
  const bool through_g = !perforated_ && dx;
  const bool needed = !dendrites_.empty() && (dendrites_[0].learns() || through_g);
  if (!needed) {
    if (!candidates_.empty()) pb_.active ? train_pb_candidates(x, dy) : train_candidates(x, dy);
    return;
  }
  // da_k is needed to train u_k* and, through the cascade, for a lower dendrite's da: both inside
  // one block of positions, so a block-sized scratch does. Only training g_k or passing the error
  // through g_k needs all of it. With one perforated dendrite only v learns and da is skipped.
  bool full_da = through_g, need_da = through_g;
  for (const Dendrite& d : dendrites_) {
    full_da = full_da || d.g_weight->trainable;
    for (const Param& u : d.u) need_da = need_da || u.trainable;
  }
  need_da = need_da || full_da;
  const size_t c_n = size_t(channels_), positions = dy.size() / c_n,
               step = std::min(block_positions(channels_), positions), block = step * c_n;
  // Flat scratch sized through data, not resize({n}): a Shape temporary would allocate per batch.
  dh_.data.resize(block);
  if (full_da)
    for (Dendrite& d : dendrites_) d.da.resize(dy.shape);
  else if (need_da)
    da_block_.data.resize(block * dendrites_.size());
  for (size_t p0 = 0; p0 < positions; p0 += step) {
    const size_t rows = std::min(step, positions - p0), off = p0 * c_n, n = rows * c_n;
    const float* dy_blk = dy.ptr() + off;
    auto da_of = [&](size_t k) {
      return full_da ? dendrites_[k].da.ptr() + off : da_block_.ptr() + k * block;
    };
    // Last dendrite first, so the cascade terms of higher dendrites are ready:
    // dh_k = v_k (.) dy + sum_{m>k} u_mk (.) da_m,   da_k = dh_k (.) sigma'(a_k).
    for (size_t k = dendrites_.size(); k-- > 0;) {
      Dendrite& d = dendrites_[k];
      const float* h = d.h.ptr() + off;
      if (d.v.trainable) accumulate_channel_dot(dy_blk, h, d.v.grad.ptr(), rows, c_n);
      if (!need_da) continue;
      float* dh = dh_.ptr();
      scale_rows<false>(d.v.value.ptr(), dy_blk, dh, rows, c_n);
      for (size_t m = k + 1; m < dendrites_.size(); ++m)
        add_scaled_rows(dendrites_[m].u[k].value.ptr(), da_of(m), dh, rows, c_n);
      float* da = da_of(k);
      scale_by_slope(act_, d.a.ptr() + off, h, dh, da, n);
      for (size_t j = 0; j < d.u.size(); ++j) {
        if (d.u[j].trainable)
          accumulate_channel_dot(da, dendrites_[j].h.ptr() + off, d.u[j].grad.ptr(), rows, c_n);
      }
    }
  }
  for (Dendrite& d : dendrites_) {
    if (!d.g_weight->trainable && !through_g) continue;
    // Perforated backprop: the input error flows through f alone, never through a dendrite.
    Tensor* through = through_g ? &dx_scratch_ : nullptr;
    d.g->backward(x, d.a, d.da, through);
    if (through)
      for (size_t i = 0; i < dx->size(); ++i) (*dx)[i] += dx_scratch_[i];
  }
  if (!candidates_.empty()) pb_.active ? train_pb_candidates(x, dy) : train_candidates(x, dy);
}

std::vector<Param*> DendriteLayer::params() {
  std::vector<Param*> out = base_->params();
  for (Dendrite& d : dendrites_) {
    for (Param* p : d.g->params()) out.push_back(p);
    out.push_back(&d.v);
    for (Param& u : d.u) out.push_back(&u);
  }
  return out;
}

nlohmann::json DendriteLayer::config() const {
  return {{"kind", "dendrite"},
          {"base", base_->config()},
          {"dendrites", dendrites_.size()},
          {"activation", activation_name(act_)},
          {"perforated", perforated_}};
}

double DendriteLayer::macs_per_item(const nn::Shape& in) const {
  const double base = base_->macs_per_item(in);
  const double positions = double(nn::shape_size(base_->output_shape(in))) / double(in[0]);
  const double d = double(dendrites_.size());
  return base * (d + 1) + positions * (d + d * (d - 1) / 2);
}

void DendriteLayer::add_dendrite(std::unique_ptr<nn::Layer> g) {
  if (g->config().at("kind") != base_->kind() || g->config().at("out") != channels_)
    throw Error("dendrites: a dendrite must have its layer's shape");
  Dendrite d;
  d.g = std::move(g);
  d.g_weight = d.g->params()[0];
  const size_t k = dendrites_.size();
  d.v = channel_vector(fmt::format("v{}", k), channels_);
  for (size_t j = 0; j < k; ++j)
    d.u.push_back(channel_vector(fmt::format("u{}_{}", k, j), channels_));
  // Distinct names keep model files readable: "g0.weight", "g0.bias", ...
  for (Param* p : d.g->params()) p->name = fmt::format("g{}.{}", k, p->name);
  dendrites_.push_back(std::move(d));
}

void DendriteLayer::set_neuron_phase(bool train_cascade, bool train_dendrites) {
  for (Param* p : base_->params()) p->trainable = true;
  for (Dendrite& d : dendrites_) {
    for (Param* p : d.g->params()) p->trainable = !perforated_ || train_dendrites;
    d.v.trainable = true;
    for (Param& u : d.u) u.trainable = train_cascade;
  }
}

void DendriteLayer::freeze_all() {
  for (Param* p : params()) p->trainable = false;
}

std::unique_ptr<nn::Layer> make_dendrite_layer(const nlohmann::json& cfg) {
  auto layer = std::make_unique<DendriteLayer>(nn::make_layer(cfg.at("base")),
                                               parse_activation(cfg.at("activation")),
                                               cfg.at("perforated").get<bool>());
  Rng unused(0);
  const int d = cfg.at("dendrites").get<int>();
  if (d < 0 || d > 64) throw Error("layer 'dendrite': key 'dendrites' out of range");
  double base_weights = 0;
  for (nn::Param* p : layer->base().params()) base_weights += double(p->value.size());
  if (base_weights * (d + 1) > nn::kMaxConfigWeights)
    throw Error(
        fmt::format("layer 'dendrite': {} copies of a {}-weight base is over the limit of {}", d,
                    base_weights, nn::kMaxConfigWeights));
  for (int k = 0; k < d; ++k) layer->add_dendrite(layer->base().clone_shape(unused));
  return layer;
}

size_t dendrite_param_count(size_t base_params, int channels, int dendrites) {
  const size_t c = size_t(channels), d = size_t(dendrites);
  return base_params * (d + 1) + c * d + c * d * (d ? d - 1 : 0) / 2;
}

}  // namespace dkws::dendrite
