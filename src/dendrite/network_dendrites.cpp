// Dendrite Nodes on a whole network (include/dkws/dendrite.hpp): wrapping its layers, adding gd
// dendrites, the neuron-phase flags and parameter counts across every wrapped layer.
#include <fmt/core.h>

#include "dendrite/dendrite_layer.hpp"
#include "dkws/dendrite.hpp"
#include "dkws/error.hpp"

namespace dkws::dendrite {

void wrap_layers(nn::Sequential& net, const DendriteSpec& spec) {
  const Activation act = parse_activation(spec.activation);
  const bool perforated = spec.mode == "cc";
  for (size_t i = 0; i < net.size(); ++i) {
    const std::string kind = net.layer(i).kind();
    const bool conv = kind == "conv1d" || kind == "conv2d";
    const bool wanted = spec.layers == "all"     ? conv || kind == "dense"
                        : spec.layers == "dense" ? kind == "dense"
                                                 : conv;
    if (!wanted) continue;
    net.replace(i, std::make_unique<DendriteLayer>(net.release(i), act, perforated));
  }
}

std::vector<DendriteLayer*> wrapped_layers(nn::Sequential& net) {
  std::vector<DendriteLayer*> out;
  for (size_t i = 0; i < net.size(); ++i)
    if (auto* d = dynamic_cast<DendriteLayer*>(&net.layer(i))) out.push_back(d);
  return out;
}

int dendrite_count(nn::Sequential& net) {
  auto layers = wrapped_layers(net);
  return layers.empty() ? 0 : layers.front()->dendrites();
}

void add_gd_dendrites(nn::Sequential& net, const DendriteSpec& spec, Rng& rng) {
  const double stddev = 0.01 * spec.init_multiplier;
  for (DendriteLayer* layer : wrapped_layers(net)) {
    auto g = layer->base().clone_shape(rng);
    for (nn::Param* p : g->params())
      for (float& w : p->value.data) w = float(stddev * rng.normal());
    layer->add_dendrite(std::move(g));
  }
}

void set_neuron_phase(nn::Sequential& net, const DendriteSpec& spec) {
  // pb with cc (Perforated Backpropagation): cascade weights stay frozen, and installed dendrites
  // learn when train_dendrites says so. gd follows PerforatedAI's open GD dendrites under either
  // rule set: its dendrite-to-dendrite weights are ordinary trainable parameters.
  const bool pb = spec.rules == "pb";
  const bool frozen_cascade = pb && spec.mode == "cc";
  for (DendriteLayer* layer : wrapped_layers(net))
    layer->set_neuron_phase(frozen_cascade ? false : spec.train_cascade,
                            pb && spec.train_dendrites);
}

size_t base_param_count(nn::Sequential& net) {
  size_t n = 0;
  for (size_t i = 0; i < net.size(); ++i) {
    nn::Layer& l = net.layer(i);
    auto* d = dynamic_cast<DendriteLayer*>(&l);
    for (const nn::Param* p : (d ? d->base() : l).params())
      if (p->live) n += p->value.size();
  }
  return n;
}

}  // namespace dkws::dendrite
