// export_onnx: the model proto around the layer graph (input, outputs, metadata), the checker and
// the atomic write. Layers themselves are onnx_layers.cpp.
#include "dkws/onnx_export.hpp"

#include <onnx/checker.h>
#include <onnx/defs/schema.h>
#include <onnx/shape_inference/implementation.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "deploy/onnx/onnx_layers.hpp"
#include "dkws/error.hpp"
#include "dkws/util.hpp"

namespace dkws::deploy {
namespace {

using onnx_detail::GraphBuilder;
using onnx_detail::Value;

// A float32 tensor type with a symbolic batch dimension.
void set_type(onnx::ValueInfoProto& v, const std::string& name, std::initializer_list<int> dims,
              const std::string& doc) {
  v.set_name(name);
  v.set_doc_string(doc);
  onnx::TypeProto_Tensor* t = v.mutable_type()->mutable_tensor_type();
  t->set_elem_type(onnx::TensorProto::FLOAT);
  t->mutable_shape()->add_dim()->set_dim_param("batch");
  for (int d : dims) t->mutable_shape()->add_dim()->set_dim_value(d);
}

void add_meta(onnx::ModelProto& m, const std::string& key, const std::string& value) {
  onnx::StringStringEntryProto* e = m.add_metadata_props();
  e->set_key(key);
  e->set_value(value);
}

std::string first_line(const std::string& s) {
  return s.substr(0, s.find('\n'));
}

// Checker plus strict shape inference: type or shape conflicts anywhere, including against the
// declared output shapes, are errors. Returns an empty string when the model passes.
std::string validate(const onnx::ModelProto& model) {
  try {
    onnx::checker::check_model(model);
    onnx::ModelProto copy = model;
    onnx::shape_inference::InferShapes(copy, onnx::OpSchemaRegistry::Instance(),
                                       onnx::ShapeInferenceOptions(true, 1));
  } catch (const std::exception& e) {
    return first_line(e.what());
  }
  return {};
}

std::string describe(const SavedModel& model, int frames, int coeffs) {
  const FrontEndConfig& fe = model.config.front_end;
  std::string classes;
  for (const std::string& c : model.classes) classes += (classes.empty() ? "" : ", ") + c;
  return fmt::format(
      "dkws {} model (float). Input '{}': float32 [batch, {}, {}], the frame-major {} feature "
      "matrix (frames x coefficients) of a {} s window at {} Hz, computed as dkws's front end does "
      "(parameters in metadata 'dkws.front_end'). Outputs '{}': float32 [batch, {}], and '{}': "
      "softmax of the logits. Classes in output order: {}.",
      model.config.model.family, kOnnxInput, frames, coeffs, fe.block, fe.window_seconds,
      fe.sample_rate, kOnnxLogits, model.classes.size(), kOnnxScores, classes);
}

}  // namespace

OnnxExportInfo export_onnx(const SavedModel& model, const std::filesystem::path& out) {
  OnnxExportInfo info;
  info.frames = model.config.front_end.frames();
  info.coeffs = model.config.front_end.coeffs();
  info.classes = int(model.classes.size());
  const nn::Shape in_shape = {1, info.frames * info.coeffs};
  nn::Shape out_shape;
  try {
    out_shape = model.net.output_shape(in_shape);
  } catch (const Error& e) {
    throw Error(
        fmt::format("onnx export: the network does not take the front end's {}x{} "
                    "features: {}",
                    info.frames, info.coeffs, e.what()));
  }
  if (out_shape != nn::Shape{1, info.classes})
    throw Error(
        fmt::format("onnx export: the network's output has {} values per clip but the "
                    "model has {} classes",
                    nn::shape_size(out_shape), info.classes));

  onnx::ModelProto m;
  m.set_ir_version(onnx::IR_VERSION);
  m.set_producer_name("dkws");
  m.set_producer_version("0.1.0");
  m.set_doc_string(describe(model, info.frames, info.coeffs));
  onnx::OperatorSetIdProto* opset = m.add_opset_import();
  opset->set_domain("");
  opset->set_version(kOnnxOpset);
  add_meta(m, "dkws.front_end", model.config.front_end.to_json().dump());
  add_meta(m, "dkws.classes", nlohmann::json(model.classes).dump());
  add_meta(m, "dkws.input",
           fmt::format("{} [batch, {}, {}] float32, frame-major (frames x coeffs)", kOnnxInput,
                       info.frames, info.coeffs));
  add_meta(m, "dkws.outputs",
           fmt::format("{} [batch, {}]; {} = softmax({})", kOnnxLogits, info.classes, kOnnxScores,
                       kOnnxLogits));
  add_meta(m, "dkws.model", model.config.model.family);
  add_meta(m, "dkws.dendrite_mode", model.config.dendrites.mode);

  onnx::GraphProto& graph = *m.mutable_graph();
  graph.set_name("dkws");
  set_type(*graph.add_input(), kOnnxInput, {info.frames, info.coeffs},
           fmt::format("{} features, frame-major [batch, frames, coeffs]",
                       model.config.front_end.block));
  GraphBuilder g(graph);
  // The C++ net takes each clip as one row of frames*coeffs values in the same order.
  Value v{kOnnxInput, in_shape, false, {1, info.frames, info.coeffs}};
  for (size_t i = 0; i < model.net.size(); ++i) {
    v = onnx_detail::emit_layer(g, model.net.layer(i), v, i);
  }
  v = g.channels_last(v, "output");
  g.add_node("Identity", {v.name}, kOnnxLogits);
  g.add_node("Softmax", {kOnnxLogits}, kOnnxScores);
  GraphBuilder::set_int(g.last(), "axis", 1);
  set_type(*graph.add_output(), kOnnxLogits, {info.classes}, "logits, one per class");
  set_type(*graph.add_output(), kOnnxScores, {info.classes}, "softmax(logits)");

  if (const std::string problem = validate(m); !problem.empty())
    throw Error(fmt::format("onnx export: {}: the ONNX checker rejected the graph: {}",
                            out.string(), problem));
  std::string bytes;
  if (!m.SerializeToString(&bytes))
    throw Error(fmt::format("onnx export: {}: could not serialise the model", out.string()));
  write_file_atomic(out, bytes);

  info.nodes = size_t(graph.node_size());
  for (const onnx::TensorProto& t : graph.initializer())
    if (t.data_type() == onnx::TensorProto::FLOAT) info.weights += t.raw_data().size() / 4;
  info.bytes = bytes.size();
  return info;
}

void check_onnx(const std::filesystem::path& file) {
  const std::string bytes = read_file(file);
  onnx::ModelProto m;
  if (!m.ParseFromString(bytes)) throw Error(fmt::format("{}: not an ONNX model", file.string()));
  if (const std::string problem = validate(m); !problem.empty())
    throw Error(fmt::format("{}: ONNX checker: {}", file.string(), problem));
}

}  // namespace dkws::deploy
