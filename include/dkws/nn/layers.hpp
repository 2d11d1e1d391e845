// The concrete layers. One file each under src/nn/.
#pragma once
#include <memory>

#include "dkws/nn/layer.hpp"

namespace dkws::nn {

// The most weights (floats) one layer rebuilt from a config (make_layer, a model file) may hold,
// dendrite copies included: 64 MB. The largest layer of any model here holds about 400 thousand;
// the bound turns a damaged or hostile file's sizes into an error instead of an allocation
// failure or an overflow of the layers' int index arithmetic.
constexpr double kMaxConfigWeights = double(1 << 24);

// x [N, F] -> y [N, out]; weight [out][F], bias [out].
std::unique_ptr<Layer> make_dense(int in_features, int out_features);
// x [N, L, in_ch] -> y [N, L, out_ch], 'same' zero padding, stride 1; weight [out][k][in], bias
// [out].
std::unique_ptr<Layer> make_conv1d(int in_ch, int out_ch, int kernel);
// x [N, H, W, in_ch] -> y [N, H, W, out_ch], 'same' zero padding, stride 1;
// weight [out][kh][kw][in], bias [out].
std::unique_ptr<Layer> make_conv2d(int in_ch, int out_ch, int kernel_h, int kernel_w);
// x [N, L, C] -> y [N, L, C], one kernel per channel (torch groups = C), 'same' zero padding,
// stride 1; weight [C][k], bias [C].
std::unique_ptr<Layer> make_depthwise_conv1d(int channels, int kernel);
// Pool size = stride = `pool`. same=true: Keras 'same' (ceil(L/pool), windows cut at the edge);
// same=false: 'valid' as torch's MaxPool (floor).
std::unique_ptr<Layer> make_maxpool1d(int pool, bool same);
std::unique_ptr<Layer> make_maxpool2d(int pool, bool same);
// [N, positions..., C] -> [N, C]: the mean of each channel over all positions.
std::unique_ptr<Layer> make_global_avgpool();
std::unique_ptr<Layer> make_relu();
// Inverted dropout: scales kept units by 1/(1-rate) in training, identity at inference.
std::unique_ptr<Layer> make_dropout(float rate);
// Adds N(0, stddev^2) in training only.
std::unique_ptr<Layer> make_gaussian_noise(float stddev);
// [N, ...] -> [N, prod(...)], no data movement.
std::unique_ptr<Layer> make_flatten();
// [N, F] -> [N, dims...]: a view change only (e.g. 650 -> 50x13 or 50x13x1).
std::unique_ptr<Layer> make_reshape(Shape item_shape);

}  // namespace dkws::nn
