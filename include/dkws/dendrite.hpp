// Dendrite Nodes on a network: which layers get them, and how a restructure adds them.
// The layer itself (forward, perforated backward, candidates) is src/dendrite/dendrite_layer.hpp;
// this header is implemented by src/dendrite/network_dendrites.cpp.
#pragma once
#include <vector>

#include "dkws/config.hpp"
#include "dkws/nn/sequential.hpp"

namespace dkws::dendrite {

class DendriteLayer;

// Wraps every Conv1D/Conv2D/Dense (spec.layers "all"), Dense only ("dense") or Conv1D/Conv2D only
// ("conv") in a dendrite layer with no dendrites yet: outputs and gradients are unchanged. Layers
// already wrapped are left alone.
void wrap_layers(nn::Sequential& net, const DendriteSpec& spec);
std::vector<DendriteLayer*> wrapped_layers(nn::Sequential& net);
int dendrite_count(nn::Sequential& net);  // dendrites per neuron (the same on every layer)

// gd: one new dendrite per neuron on every wrapped layer, weights ~ N(0, (0.01 m)^2).
void add_gd_dendrites(nn::Sequential& net, const DendriteSpec& spec, Rng& rng);
// Trainable flags for the neuron phase (see DendriteLayer::set_neuron_phase).
void set_neuron_phase(nn::Sequential& net, const DendriteSpec& spec);

// Live parameter counts: all, the base network's (dendrites excluded).
size_t base_param_count(nn::Sequential& net);

}  // namespace dkws::dendrite
