// Flatten and Reshape: shape changes only. Row-major data is already in the target order, so
// forward and backward are plain copies (the layer interface gives each layer its own output).
#include "nn/layer_util.hpp"

namespace dkws::nn {
namespace {

// Shared body: y is x's data under the view's shape; dx is dy's data under x's shape.
class ViewLayer : public Layer {
 public:
  Shape output_shape(const Shape& in) const override {
    Shape out;
    view_shape(in, out);
    return out;
  }
  void forward(const Tensor& x, Tensor& y, const ForwardContext&) override {
    view_shape(x.shape, y.shape);  // into y's own vector: no allocation after the first batch
    y.data.resize(shape_size(y.shape));
    std::copy(x.data.begin(), x.data.end(), y.data.begin());
  }
  void backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor* dx) override {
    if (!dx) return;
    dx->resize(x.shape);
    std::copy(dy.data.begin(), dy.data.end(), dx->data.begin());
  }

 protected:
  // Validates `in` and writes the output shape to `out`.
  virtual void view_shape(const Shape& in, Shape& out) const = 0;
};

class Flatten final : public ViewLayer {
 public:
  std::string kind() const override { return "flatten"; }
  nlohmann::json config() const override { return {{"kind", "flatten"}}; }

 private:
  void view_shape(const Shape& in, Shape& out) const override {
    if (in.empty()) throw Error("flatten: input has no batch dimension");
    int features = 1;
    for (size_t i = 1; i < in.size(); ++i) features *= in[i];
    out.assign({in[0], features});
  }
};

class Reshape final : public ViewLayer {
 public:
  explicit Reshape(Shape item) : item_(std::move(item)) {}
  std::string kind() const override { return "reshape"; }
  nlohmann::json config() const override { return {{"kind", "reshape"}, {"shape", item_}}; }

 private:
  void view_shape(const Shape& in, Shape& out) const override {
    size_t in_item = 1;
    for (size_t i = 1; i < in.size(); ++i) in_item *= size_t(in[i]);
    if (in.empty() || in_item != shape_size(item_))
      throw Error(fmt::format("reshape: cannot view input {} as [N, {}]", detail::shape_str(in),
                              detail::shape_str(item_).substr(1)));
    out.resize(item_.size() + 1);
    out[0] = in[0];
    std::copy(item_.begin(), item_.end(), out.begin() + 1);
  }

  Shape item_;
};

}  // namespace

std::unique_ptr<Layer> make_flatten() {
  return std::make_unique<Flatten>();
}

std::unique_ptr<Layer> make_reshape(Shape item_shape) {
  if (item_shape.empty()) throw Error("reshape: shape must have at least one dimension");
  for (int d : item_shape)
    if (d <= 0)
      throw Error(fmt::format("reshape: dimensions must be positive (got {})",
                              detail::shape_str(item_shape)));
  return std::make_unique<Reshape>(std::move(item_shape));
}

}  // namespace dkws::nn
