// Building networks: the model families (ei_conv1d, audio_classifier of docs/design.md section 4,
// ds_cnn) from a ModelSpec, and any network back from the layer list a model file saves. This stage
// sits above nn and dendrite because it is the one place that knows every layer kind, dendrite
// wrappers included.
#pragma once
#include <memory>

#include <nlohmann/json_fwd.hpp>

#include "dkws/config.hpp"
#include "dkws/nn/sequential.hpp"

namespace dkws {

// Input items are frame-major feature matrices [frames * coeffs]; the first layer reshapes them.
nn::Sequential build_model(const ModelSpec& spec, int frames, int coeffs, int classes, Rng& rng);

// Channel count of conv block i for the audio_classifier family.
int audio_classifier_channels(int growth, double width, int block);
// Filters of conv block i for the ei_conv1d family: 8 * 2^i * width (Edge Impulse: 8, 16).
int ei_conv1d_channels(double width, int block);
// Channels of every layer of the ds_cnn family: 16 * width.
int ds_cnn_channels(double width);
// Hidden dense width for a flattened size F: max(3, int(exp((ln F + ln classes) / 2))).
int audio_classifier_hidden(int flat, int classes);

// A layer from its config(): nn's own kinds through nn::make_layer, "dendrite" wrappers through
// the dendrite stage. Throws dkws::Error naming the kind and key at fault.
std::unique_ptr<nn::Layer> layer_from_config(const nlohmann::json& cfg);
// A network from Sequential::config() output, weights freshly allocated (not initialised).
nn::Sequential net_from_config(const nlohmann::json& layers);

}  // namespace dkws
