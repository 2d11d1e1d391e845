// The two model families of DESIGN.md section 2, built as Sequential stacks.
#pragma once
#include "dkws/config.hpp"
#include "dkws/nn/sequential.hpp"

namespace dkws::nn {

// Input items are frame-major feature matrices [frames * coeffs]; the first layer reshapes them.
Sequential build_model(const ModelSpec& spec, int frames, int coeffs, int classes, Rng& rng);

// Channel count of conv block i for the audio_classifier family.
int audio_classifier_channels(int growth, double width, int block);
// Hidden dense width for a flattened size F: max(3, int(exp((ln F + ln classes) / 2))).
int audio_classifier_hidden(int flat, int classes);

}  // namespace dkws::nn
