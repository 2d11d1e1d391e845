#include "deploy/onnx/onnx_graph.hpp"

#include <cstring>

#include <fmt/format.h>

namespace dkws::deploy::onnx_detail {

nn::Shape to_channels_first(const nn::Shape& s) {
  nn::Shape out = {s[0], s.back()};
  out.insert(out.end(), s.begin() + 1, s.end() - 1);
  return out;
}

std::string GraphBuilder::unique(const std::string& prefix) {
  std::string name = prefix;
  for (int i = 1; used_.count(name); ++i) name = fmt::format("{}_{}", prefix, i);
  used_.insert(name);
  return name;
}

std::string GraphBuilder::add_float(const std::string& prefix, const std::vector<int64_t>& dims,
                                    const std::vector<float>& data) {
  onnx::TensorProto* t = graph_.add_initializer();
  t->set_name(unique(prefix));
  t->set_data_type(onnx::TensorProto::FLOAT);
  for (int64_t d : dims) t->add_dims(d);
  // raw_data is little-endian by the ONNX spec, as are the hosts dkws builds for.
  std::string raw(data.size() * sizeof(float), '\0');
  std::memcpy(raw.data(), data.data(), raw.size());
  t->set_raw_data(std::move(raw));
  return t->name();
}

std::string GraphBuilder::add_int64(const std::string& prefix, const std::vector<int64_t>& data) {
  onnx::TensorProto* t = graph_.add_initializer();
  t->set_name(unique(prefix));
  t->set_data_type(onnx::TensorProto::INT64);
  t->add_dims(int64_t(data.size()));
  for (int64_t v : data) t->add_int64_data(v);
  return t->name();
}

std::string GraphBuilder::add_node(const std::string& op, const std::vector<std::string>& inputs,
                                   const std::string& prefix) {
  onnx::NodeProto* node = graph_.add_node();
  node->set_op_type(op);
  const std::string out = unique(prefix);
  node->set_name(out);
  for (const std::string& in : inputs) node->add_input(in);
  node->add_output(out);
  last_ = node;
  return out;
}

void GraphBuilder::set_ints(onnx::NodeProto& node, const char* name,
                            const std::vector<int64_t>& v) {
  onnx::AttributeProto* a = node.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (int64_t x : v) a->add_ints(x);
}

void GraphBuilder::set_int(onnx::NodeProto& node, const char* name, int64_t v) {
  onnx::AttributeProto* a = node.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(v);
}

Value GraphBuilder::reshape(const Value& v, const nn::Shape& to, const std::string& prefix) {
  // A channels-last value already has dkws's element order, whatever its ONNX shape.
  const Value in = v.channels_first ? channels_last(v, prefix) : v;
  if (in.onnx_shape == to) return {in.name, to, false, to};
  // 0 copies the batch dimension from the input, so the graph keeps a symbolic batch size.
  std::vector<int64_t> target = {0};
  target.insert(target.end(), to.begin() + 1, to.end());
  const std::string shape = add_int64(prefix + "_shape", target);
  return {add_node("Reshape", {in.name, shape}, prefix + "_reshape"), to, false, to};
}

Value GraphBuilder::channels_last(const Value& v, const std::string& prefix) {
  Value out = v;
  if (v.channels_first) {
    // [N, C, s1..sk] -> [N, s1..sk, C]
    const int64_t rank = int64_t(v.onnx_shape.size());
    std::vector<int64_t> perm = {0};
    for (int64_t i = 2; i < rank; ++i) perm.push_back(i);
    perm.push_back(1);
    out.name = add_node("Transpose", {v.name}, prefix + "_to_nhwc");
    set_ints(last(), "perm", perm);
    out.channels_first = false;
    out.onnx_shape = {v.onnx_shape[0]};
    out.onnx_shape.insert(out.onnx_shape.end(), v.onnx_shape.begin() + 2, v.onnx_shape.end());
    out.onnx_shape.push_back(v.onnx_shape[1]);
  }
  if (out.onnx_shape != out.shape) {
    std::vector<int64_t> target = {0};
    target.insert(target.end(), out.shape.begin() + 1, out.shape.end());
    const std::string shape = add_int64(prefix + "_shape", target);
    out.name = add_node("Reshape", {out.name, shape}, prefix + "_view");
    out.onnx_shape = out.shape;
  }
  return out;
}

Value GraphBuilder::channels_first(const Value& v, const std::string& prefix) {
  const nn::Shape want = to_channels_first(v.shape);
  if (v.channels_first && v.onnx_shape == want) return v;
  const Value cl = channels_last(v, prefix);
  // [N, s1..sk, C] -> [N, C, s1..sk]
  const int64_t rank = int64_t(v.shape.size());
  std::vector<int64_t> perm = {0, rank - 1};
  for (int64_t i = 1; i < rank - 1; ++i) perm.push_back(i);
  Value out{add_node("Transpose", {cl.name}, prefix + "_to_nchw"), v.shape, true, want};
  set_ints(last(), "perm", perm);
  return out;
}

}  // namespace dkws::deploy::onnx_detail
