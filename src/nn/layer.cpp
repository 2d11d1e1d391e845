#include "dkws/nn/layer.hpp"

namespace dkws::nn {

std::unique_ptr<Layer> Layer::clone_shape(Rng& rng) const {
  auto copy = make_layer(config());
  copy->init(rng);
  return copy;
}

std::vector<const Param*> Layer::params() const {
  auto ps = const_cast<Layer*>(this)->params();
  return {ps.begin(), ps.end()};
}

}  // namespace dkws::nn
