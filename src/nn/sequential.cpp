#include "dkws/nn/sequential.hpp"

#include "dkws/error.hpp"
#include "nn/conv_block.hpp"
#include "nn/layer_util.hpp"

namespace dkws::nn {

Sequential::Sequential() = default;
Sequential::Sequential(Sequential&&) = default;
Sequential& Sequential::operator=(Sequential&&) = default;
Sequential::~Sequential() = default;

void Sequential::add(std::unique_ptr<Layer> layer) {
  layers_.push_back(std::move(layer));
  first_weighted_ = kUnknown;
  steps_.clear();
  acts_.resize(layers_.size() + 1);
}

void Sequential::replace(size_t i, std::unique_ptr<Layer> layer) {
  layers_.at(i) = std::move(layer);
  first_weighted_ = kUnknown;
  steps_.clear();
}

std::unique_ptr<Layer> Sequential::release(size_t i) {
  first_weighted_ = kUnknown;
  steps_.clear();
  return std::move(layers_.at(i));
}

const Tensor& Sequential::forward(const Tensor& x, const ForwardContext& ctx) {
  acts_.resize(layers_.size() + 1);
  // Backward must not depend on the caller's buffer lifetime, so the input is copied. A leading
  // reshape or flatten makes that copy itself (its output is the input's data), and its backward
  // reads only the input's shape, so acts_[0] then keeps the shape alone.
  const bool leading_view =
      !layers_.empty() && (layers_[0]->kind() == "reshape" || layers_[0]->kind() == "flatten");
  if (leading_view) {
    acts_[0].shape = x.shape;
    acts_[0].data.clear();
  } else {
    acts_[0].resize(x.shape);
    std::copy(x.data.begin(), x.data.end(), acts_[0].data.begin());
  }
  const Tensor& in0 = leading_view ? x : acts_[0];  // what layer 0 reads
  last_forward_fused_ = fuse_blocks_ && !detail::use_reference_kernels;
  if (!last_forward_fused_) {
    for (size_t i = 0; i < layers_.size(); ++i)
      layers_[i]->forward(i == 0 ? in0 : acts_[i], acts_[i + 1], ctx);
    return acts_.back();
  }
  run_as_.resize(layers_.size());
  for (size_t i = 0; i < layers_.size(); ++i) {
    Layer* base = layers_[i]->transparent_base();
    run_as_[i] = base ? base : layers_[i].get();
  }
  if (steps_.empty() || run_as_ != planned_as_) plan_steps();
  size_t k = 0;
  if (leading_view && steps_.size() > 1 && steps_[1].block) {
    // A block pads its own copy of its input and its backward reads only the input's shape, so
    // it reads the caller's data in the reshaped shape and the reshape's copy is not made (
    // 2.6 % of an AudioClassifier's training step, on kws12's input).
    acts_[1].shape = layers_[0]->output_shape(x.shape);
    acts_[1].data.clear();
    steps_[1].block->forward(x.ptr(), acts_[1].shape, acts_[1 + steps_[1].count], ctx);
    k = 2;
  }
  for (; k < steps_.size(); ++k) {
    Step& s = steps_[k];
    const Tensor& in = s.first == 0 ? in0 : acts_[s.first];
    if (s.block)
      s.block->forward(in.ptr(), in.shape, acts_[s.first + s.count], ctx);
    else
      layers_[s.first]->forward(in, acts_[s.first + 1], ctx);
  }
  return acts_.back();
}

void Sequential::plan_steps() {
  steps_.clear();
  planned_as_ = run_as_;
  for (size_t i = 0; i < layers_.size();) {
    const int n = detail::ConvBlock2x2::match(run_as_, i);
    if (n == 0) {
      steps_.push_back({i++, 1, nullptr});
      continue;
    }
    const float rate = n == 4 ? run_as_[i + 3]->config().at("rate").get<float>() : 0.f;
    steps_.push_back({i, size_t(n), std::make_unique<detail::ConvBlock2x2>(*run_as_[i], rate)});
    i += size_t(n);
  }
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
  if (last_forward_fused_) {
    // A block starts with its conv, so `first` (a weighted layer, or 0) never falls inside one.
    for (size_t k = steps_.size(); k-- > 0 && steps_[k].first >= first;) {
      const Step& s = steps_[k];
      Tensor* dx = nullptr;
      if (s.first > first)
        dx = &grads_[k % 2];
      else if (dinput)
        dx = dinput;
      if (s.block)
        s.block->backward(acts_[s.first], *dy, dx);
      else
        layers_[s.first]->backward(acts_[s.first], acts_[s.first + 1], *dy, dx);
      dy = dx;
    }
    return;
  }
  for (size_t i = layers_.size(); i-- > first;) {
    Tensor* dx = nullptr;
    if (i > first)
      dx = &grads_[i % 2];
    else if (dinput)
      dx = dinput;
    layers_[i]->backward(acts_[i], acts_[i + 1], *dy, dx);
    dy = dx;
  }
}

void Sequential::backward(const Tensor& dout) {
  backward_impl(dout, nullptr);
}
void Sequential::backward(const Tensor& dout, Tensor& dinput) {
  backward_impl(dout, &dinput);
}

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

}  // namespace dkws::nn
