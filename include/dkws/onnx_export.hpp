// Float ONNX export of a trained model, dendrites included, in standard operators only
// (docs/design.md section 8). The graph:
//   input  "features": float32 [batch, frames, coeffs], the frame-major feature matrix of one
//                      window exactly as dkws's front end computes it (the model's own input);
//   output "logits":   float32 [batch, classes], the network's output;
//   output "scores":   float32 [batch, classes], softmax of the logits.
// The model's doc_string and metadata_props record the front end (block, rate, window and every
// parameter, as JSON), the class names and the input/output layout, so a consumer can rebuild the
// features. Conv1D/Conv2D/Dense become Conv/Gemm, dendrites become f and each g_k plus
// Tanh/Sigmoid/Relu, Mul and Add; dkws's channels-last activations are transposed where ONNX needs
// channels-first, so Flatten and Dense see dkws's element order.
#pragma once
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

#include "dkws/model_file.hpp"

namespace dkws::deploy {

inline constexpr const char* kOnnxInput = "features";
inline constexpr const char* kOnnxLogits = "logits";
inline constexpr const char* kOnnxScores = "scores";
inline constexpr int64_t kOnnxOpset = 13;

struct OnnxExportInfo {
  int frames = 0, coeffs = 0, classes = 0;
  size_t nodes = 0;    // graph nodes
  size_t weights = 0;  // float values in initializers (the deployable parameter count)
  size_t bytes = 0;    // size of the .onnx file
};

// Builds the graph, runs the ONNX checker and strict shape inference on it, and writes `out`
// atomically. Throws dkws::Error (one line) for a layer kind ONNX export does not cover, a model
// whose output does not match its classes, a checker failure or a failed write.
OnnxExportInfo export_onnx(const SavedModel& model, const std::filesystem::path& out);

// Runs the ONNX checker and strict shape inference on a file; throws dkws::Error naming the file
// with the checker's first message line.
void check_onnx(const std::filesystem::path& file);

}  // namespace dkws::deploy
