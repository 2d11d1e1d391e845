// A dense float tensor: a shape and contiguous row-major data. Activations are channels-last:
// Dense [N, F], Conv1D [N, L, C], Conv2D [N, H, W, C]. Buffers are reused between batches; resize()
// only allocates when a larger size than ever before is asked for.
#pragma once
#include <cassert>
#include <cstddef>
#include <vector>

namespace dkws::nn {

using Shape = std::vector<int>;

inline size_t shape_size(const Shape& s) {
  size_t n = 1;
  for (int d : s) n *= size_t(d);
  return n;
}

struct Tensor {
  Shape shape;
  std::vector<float> data;

  Tensor() = default;
  explicit Tensor(Shape s, float fill = 0.f) : shape(std::move(s)), data(shape_size(shape), fill) {}

  void resize(const Shape& s) {
    shape = s;
    data.resize(shape_size(s));
  }
  void zero() { std::fill(data.begin(), data.end(), 0.f); }
  size_t size() const { return data.size(); }
  int dim(int i) const { return shape[size_t(i)]; }
  int rank() const { return int(shape.size()); }
  float* ptr() { return data.data(); }
  const float* ptr() const { return data.data(); }
  float& operator[](size_t i) { return data[i]; }
  float operator[](size_t i) const { return data[i]; }
  // Elements per batch item.
  size_t per_item() const { return shape.empty() ? 0 : data.size() / size_t(shape[0]); }
};

}  // namespace dkws::nn
