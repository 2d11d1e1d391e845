#include "dendrite/dendrite_layer.hpp"

#include <cmath>

#include <fmt/core.h>

#include "dkws/error.hpp"

namespace dkws::dendrite {

using nn::Param;
using nn::Tensor;

namespace {

bool wrappable(const std::string& kind) {
  return kind == "dense" || kind == "conv1d" || kind == "conv2d";
}

Param channel_vector(const std::string& name, int channels) { return Param(name, {channels}); }

// out[p][c] += s[c] * in[p][c] for every position p.
void add_scaled_channels(const float* s, const Tensor& in, Tensor& out, int channels) {
  const size_t positions = in.size() / size_t(channels);
  for (size_t p = 0; p < positions; ++p) {
    const float* src = in.ptr() + p * channels;
    float* dst = out.ptr() + p * channels;
    for (int c = 0; c < channels; ++c) dst[c] += s[c] * src[c];
  }
}

// grad[c] += sum_p a[p][c] * b[p][c].
void accumulate_channel_dot(const Tensor& a, const Tensor& b, float* grad, int channels) {
  const size_t positions = a.size() / size_t(channels);
  for (size_t p = 0; p < positions; ++p) {
    const float* pa = a.ptr() + p * channels;
    const float* pb = b.ptr() + p * channels;
    for (int c = 0; c < channels; ++c) grad[c] += pa[c] * pb[c];
  }
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
    add_scaled_channels(u[j].value.ptr(), dendrites_[j].h, a, channels_);
}

void DendriteLayer::forward(const Tensor& x, Tensor& y, const nn::ForwardContext& ctx) {
  // f's output goes straight into y; f's backward needs only x, never y.
  base_->forward(x, y, ctx);
  for (size_t k = 0; k < dendrites_.size(); ++k) {
    Dendrite& d = dendrites_[k];
    d.g->forward(x, d.g_out, ctx);
    d.a = d.g_out;
    add_cascade(d.u, d.a);
    d.h.resize(d.a.shape);
    activate_all(act_, d.a.ptr(), d.h.ptr(), d.a.size());
    add_scaled_channels(d.v.value.ptr(), d.h, y, channels_);
  }
}

void DendriteLayer::backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx) {
  base_->backward(x, y, dy, dx);
  // Every dendrite is in the same phase; when none learns (dendrite phase) and the input error
  // goes through f alone, the dendrite errors are not needed at all.
  const bool needed = !dendrites_.empty() && (dendrites_[0].learns() || (!perforated_ && dx));
  if (!needed) {
    if (!candidates_.empty()) train_candidates(x, dy);
    return;
  }
  // Errors of the dendrite activations, last dendrite first so cascade terms are ready:
  // dh_k = v_k (.) dy + sum_{m>k} u_mk (.) da_m,   da_k = dh_k (.) sigma'(a_k).
  for (size_t k = dendrites_.size(); k-- > 0;) {
    Dendrite& d = dendrites_[k];
    if (d.v.trainable) accumulate_channel_dot(dy, d.h, d.v.grad.ptr(), channels_);
    dh_.resize(dy.shape);
    dh_.zero();
    add_scaled_channels(d.v.value.ptr(), dy, dh_, channels_);
    for (size_t m = k + 1; m < dendrites_.size(); ++m)
      add_scaled_channels(dendrites_[m].u[k].value.ptr(), dendrites_[m].da, dh_, channels_);
    d.da.resize(dy.shape);
    scale_by_slope(act_, d.a.ptr(), d.h.ptr(), dh_.ptr(), d.da.ptr(), dh_.size());
    for (size_t j = 0; j < d.u.size(); ++j)
      if (d.u[j].trainable) accumulate_channel_dot(d.da, dendrites_[j].h, d.u[j].grad.ptr(), channels_);
    const bool g_trainable = d.g_weight->trainable;
    if (g_trainable || (!perforated_ && dx)) {
      // Perforated backprop: the input error flows through f alone, never through a dendrite.
      Tensor* through = (!perforated_ && dx) ? &dx_scratch_ : nullptr;
      d.g->backward(x, d.g_out, d.da, through);
      if (through)
        for (size_t i = 0; i < dx->size(); ++i) (*dx)[i] += dx_scratch_[i];
    }
  }
  if (!candidates_.empty()) train_candidates(x, dy);
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
  for (size_t j = 0; j < k; ++j) d.u.push_back(channel_vector(fmt::format("u{}_{}", k, j), channels_));
  // Distinct names keep model files readable: "g0.weight", "g0.bias", ...
  for (Param* p : d.g->params()) p->name = fmt::format("g{}.{}", k, p->name);
  dendrites_.push_back(std::move(d));
}

void DendriteLayer::set_neuron_phase(bool train_cascade) {
  for (Param* p : base_->params()) p->trainable = true;
  for (Dendrite& d : dendrites_) {
    for (Param* p : d.g->params()) p->trainable = !perforated_;
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
  for (int k = 0; k < d; ++k) layer->add_dendrite(layer->base().clone_shape(unused));
  return layer;
}

size_t dendrite_param_count(size_t base_params, int channels, int dendrites) {
  const size_t c = size_t(channels), d = size_t(dendrites);
  return base_params * (d + 1) + c * d + c * d * (d ? d - 1 : 0) / 2;
}

}  // namespace dkws::dendrite
