// One dkws layer as standard ONNX operators (Conv, Gemm, MaxPool, ReduceMean, Relu, Transpose,
// Reshape, Tanh/Sigmoid, Mul, Add). Dendrite wrappers become f plus each g_k, the cascade and the
// output weights, written out op by op.
#pragma once
#include <string>

#include "deploy/onnx/onnx_graph.hpp"
#include "dkws/nn/layer.hpp"

namespace dkws::deploy::onnx_detail {

// Appends layer number `index` applied to `in`; `in.shape` is the layer's dkws input shape
// (batch 1). Tensors it adds are named "l<index>_<kind>...". Throws dkws::Error naming the layer
// for a kind ONNX export does not cover.
Value emit_layer(GraphBuilder& g, const nn::Layer& layer, const Value& in, size_t index);

// The kinds emit_layer covers, for error messages and docs.
const char* supported_layer_kinds();

}  // namespace dkws::deploy::onnx_detail
