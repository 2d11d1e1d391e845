#include "dkws/nn/sequential.hpp"

#include "dkws/error.hpp"

namespace dkws::nn {

void Sequential::add(std::unique_ptr<Layer> layer) {
  layers_.push_back(std::move(layer));
  first_weighted_ = kUnknown;
  acts_.resize(layers_.size() + 1);
}

void Sequential::replace(size_t i, std::unique_ptr<Layer> layer) {
  layers_.at(i) = std::move(layer);
  first_weighted_ = kUnknown;
}

std::unique_ptr<Layer> Sequential::release(size_t i) {
  first_weighted_ = kUnknown;
  return std::move(layers_.at(i));
}

const Tensor& Sequential::forward(const Tensor& x, const ForwardContext& ctx) {
  acts_.resize(layers_.size() + 1);
  // Copying the input keeps backward independent of the caller's buffer lifetime.
  acts_[0].resize(x.shape);
  std::copy(x.data.begin(), x.data.end(), acts_[0].data.begin());
  for (size_t i = 0; i < layers_.size(); ++i) layers_[i]->forward(acts_[i], acts_[i + 1], ctx);
  return acts_.back();
}

void Sequential::backward_impl(const Tensor& dout, Tensor* dinput) {
  grads_.resize(2);
  // Without a requested input gradient, layers before the first one with parameters (reshape,
  // input noise) need no error signal, and the first weighted layer need not compute dx.
  if (first_weighted_ == kUnknown) {
    first_weighted_ = 0;
    while (first_weighted_ < layers_.size() && layers_[first_weighted_]->params().empty())
      ++first_weighted_;
  }
  const size_t first = dinput ? 0 : first_weighted_;
  const Tensor* dy = &dout;
  for (size_t i = layers_.size(); i-- > first;) {
    Tensor* dx = nullptr;
    if (i > first) dx = &grads_[i % 2];
    else if (dinput) dx = dinput;
    layers_[i]->backward(acts_[i], acts_[i + 1], *dy, dx);
    dy = dx;
  }
}

void Sequential::backward(const Tensor& dout) { backward_impl(dout, nullptr); }
void Sequential::backward(const Tensor& dout, Tensor& dinput) { backward_impl(dout, &dinput); }

std::vector<Param*> Sequential::params() {
  std::vector<Param*> out;
  for (auto& l : layers_)
    for (Param* p : l->params()) out.push_back(p);
  return out;
}

std::vector<const Param*> Sequential::params() const {
  auto ps = const_cast<Sequential*>(this)->params();
  return {ps.begin(), ps.end()};
}

void Sequential::zero_grad() {
  for (Param* p : params()) p->grad.zero();
}

size_t Sequential::count_params(bool trainable_only) const {
  size_t n = 0;
  for (const Param* p : params())
    if (p->live && (!trainable_only || p->trainable)) n += p->value.size();
  return n;
}

Shape Sequential::output_shape(const Shape& in) const {
  Shape s = in;
  for (auto& l : layers_) s = l->output_shape(s);
  return s;
}

double Sequential::macs_per_item(const Shape& in) const {
  double macs = 0;
  Shape s = in;
  for (auto& l : layers_) {
    macs += l->macs_per_item(s);
    s = l->output_shape(s);
  }
  return macs;
}

nlohmann::json Sequential::config() const {
  auto arr = nlohmann::json::array();
  for (auto& l : layers_) arr.push_back(l->config());
  return arr;
}

Sequential Sequential::from_config(const nlohmann::json& cfg) {
  if (!cfg.is_array()) throw Error("model layers: expected a JSON array");
  Sequential s;
  for (const auto& c : cfg) s.add(make_layer(c));
  return s;
}

}  // namespace dkws::nn
