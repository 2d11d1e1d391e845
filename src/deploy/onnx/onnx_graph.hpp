// A thin builder over onnx::GraphProto for the ONNX exporter: float and int64 initializers, nodes
// with unique output names, and the layout bookkeeping between dkws (channels-last) and ONNX
// (channels-first for Conv and MaxPool).
//
// Layout. dkws activations are channels-last ([N, L, C], [N, H, W, C]); ONNX Conv and MaxPool
// want channels-first ([N, C, L], [N, C, H, W]). A Value remembers which one it holds, so a run
// of conv/pool/relu layers stays channels-first and only Flatten, Reshape and Dense, whose element
// order must be dkws's, get a Transpose back.
#pragma once
#include <cstdint>
#include <initializer_list>
#include <string>
#include <unordered_set>
#include <vector>

#include <onnx/onnx_pb.h>

#include "dkws/nn/tensor.hpp"

namespace dkws::deploy::onnx_detail {

// A tensor in the graph. `shape` is the dkws (channels-last) shape with the batch dimension
// first; the ONNX tensor holds it channels-first when `channels_first`, and as `onnx_shape`.
struct Value {
  std::string name;
  nn::Shape shape;
  bool channels_first = false;
  nn::Shape onnx_shape;  // the shape the ONNX tensor actually has (batch included)
};

class GraphBuilder {
 public:
  explicit GraphBuilder(onnx::GraphProto& graph) : graph_(graph) {}

  // A float initializer named `prefix` (made unique) with the given dims and row-major data.
  std::string add_float(const std::string& prefix, const std::vector<int64_t>& dims,
                        const std::vector<float>& data);
  std::string add_int64(const std::string& prefix, const std::vector<int64_t>& data);
  // A node with one output; returns the output's (unique) name.
  std::string add_node(const std::string& op, const std::vector<std::string>& inputs,
                       const std::string& prefix);
  // The node most recently added, to set attributes on.
  onnx::NodeProto& last() { return *last_; }

  // The value with dkws's own element order (a Transpose back if channels-first, then a Reshape
  // if the ONNX tensor has another shape).
  Value channels_last(const Value& v, const std::string& prefix);
  // The value as ONNX's channels-first layout of its dkws shape (rank 3 or 4).
  Value channels_first(const Value& v, const std::string& prefix);
  // A Reshape of the channels-last value to the dkws shape `to` (batch kept).
  Value reshape(const Value& v, const nn::Shape& to, const std::string& prefix);

  static void set_ints(onnx::NodeProto& node, const char* name, const std::vector<int64_t>& v);
  static void set_int(onnx::NodeProto& node, const char* name, int64_t v);

 private:
  std::string unique(const std::string& prefix);
  onnx::GraphProto& graph_;
  onnx::NodeProto* last_ = nullptr;
  std::unordered_set<std::string> used_;
};

// dkws shape [N, spatial..., C] -> ONNX channels-first [N, C, spatial...].
nn::Shape to_channels_first(const nn::Shape& s);

}  // namespace dkws::deploy::onnx_detail
