// Flatten and Reshape: shape changes only. Row-major data is already in the target order, so
// forward and backward are plain copies (the layer interface gives each layer its own output).
#include "nn/layers_internal.hpp"

namespace dkws::nn {
namespace {

// Shared body: y is x's data under output_shape(); dx is dy's data under x's shape.
class ViewLayer : public Layer {
 public:
  void forward(const Tensor& x, Tensor& y, const ForwardContext&) override {
    y.resize(output_shape(x.shape));
    std::copy(x.data.begin(), x.data.end(), y.data.begin());
  }
  void backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor* dx) override {
    if (!dx) return;
    dx->resize(x.shape);
    std::copy(dy.data.begin(), dy.data.end(), dx->data.begin());
  }
};

class Flatten final : public ViewLayer {
 public:
  std::string kind() const override { return "flatten"; }
  Shape output_shape(const Shape& in) const override {
    if (in.empty()) throw Error("flatten: input has no batch dimension");
    int features = 1;
    for (size_t i = 1; i < in.size(); ++i) features *= in[i];
    return {in[0], features};
  }
  nlohmann::json config() const override { return {{"kind", "flatten"}}; }
};

class Reshape final : public ViewLayer {
 public:
  explicit Reshape(Shape item) : item_(std::move(item)) {}
  std::string kind() const override { return "reshape"; }
  Shape output_shape(const Shape& in) const override {
    Shape in_item(in.begin() + (in.empty() ? 0 : 1), in.end());
    if (in.empty() || shape_size(in_item) != shape_size(item_))
      throw Error(fmt::format("reshape: cannot view input {} as [N, {}]", detail::shape_str(in),
                              detail::shape_str(item_).substr(1)));
    Shape out{in[0]};
    out.insert(out.end(), item_.begin(), item_.end());
    return out;
  }
  nlohmann::json config() const override { return {{"kind", "reshape"}, {"shape", item_}}; }

 private:
  Shape item_;
};

}  // namespace

std::unique_ptr<Layer> make_flatten() { return std::make_unique<Flatten>(); }

std::unique_ptr<Layer> make_reshape(Shape item_shape) {
  if (item_shape.empty()) throw Error("reshape: shape must have at least one dimension");
  for (int d : item_shape)
    if (d <= 0)
      throw Error(fmt::format("reshape: dimensions must be positive (got {})",
                              detail::shape_str(item_shape)));
  return std::make_unique<Reshape>(std::move(item_shape));
}

}  // namespace dkws::nn
