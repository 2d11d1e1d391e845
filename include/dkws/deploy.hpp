// Deployment: int8 post-training quantization with dendrites folded, the C++ int8 reference
// engine, and the C99 code generator (docs/design.md section 8).
//
// Quantization scheme (TFLite-Micro style): per-channel symmetric int8 weights, asymmetric int8
// activations (min/max over the calibration set), int32 bias at scale s_in * s_w[c], and
// requantization by fixed-point multipliers m * 2^-shift (m in [2^30, 2^31)). A dendrite layer is
// one wider convolution ([f | g_0 | ... | g_{D-1}] channels) followed by a per-channel combine:
//   a_k = z_a + M_g(acc_gk) + sum_j M_u(h_j - z_hj);  h_k = LUT_k[a_k];  y = z_y + M_f(acc_f) +
//   sum_k M_v(h_k - z_hk)   (then ReLU as a clamp at z_y)
// so inference uses integers only; sigma is a 256-entry table per dendrite.
#pragma once
#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "dkws/dataset.hpp"
#include "dkws/dsp.hpp"
#include "dkws/model_file.hpp"

namespace dkws::deploy {

struct QMul {  // real multiplier = m * 2^-shift
  int32_t m = 0;
  int32_t shift = 31;
};
QMul quantize_multiplier(double real);               // throws dkws::Error when |real| >= 2^30
int32_t apply_multiplier(int32_t x, const QMul& q);  // round half up, int64 product

struct QLayer {
  // kConv: convolution or dense, dendrites folded in. kPool: max pool. kDepthwise: one kh x kw
  // kernel per channel (cin == cout, weight [cout][kh][kw], no dendrites). kAvgPool: the mean over
  // all h x w positions, rounded half away from zero, at the input's scale (oh = ow = 1).
  enum Kind { kConv, kPool, kDepthwise, kAvgPool } kind = kConv;
  bool weighted() const { return kind == kConv || kind == kDepthwise; }
  std::string name;              // "layer 3 (conv2d, 2 dendrites)" for comments and errors
  int h = 1, w = 1, cin = 1;     // input, channels-last
  int oh = 1, ow = 1, cout = 1;  // output
  int kh = 1, kw = 1;            // kernel or pool window
  int pad_h = 0, pad_w = 0;      // rows/cols before the input (conv: zero padding)
  bool relu = false;
  int dendrites = 0;
  int in_zp = 0, out_zp = 0;
  std::vector<int8_t> weight;                // [(D+1) * cout][kh][kw][cin]: f, then g_0 ...
                                             // (kDepthwise: [cout][kh][kw])
  std::vector<int32_t> bias;                 // [(D+1) * cout]
  std::vector<QMul> acc_mul;                 // [(D+1) * cout]: f -> y scale, g_k -> a_k scale
  std::vector<QMul> cascade_mul;             // [k][j<k][cout], flattened in that order
  std::vector<QMul> out_mul;                 // [D][cout]: v_k * s_h / s_y
  std::vector<int8_t> a_zp, h_zp;            // [D]: zero points of a_k and h_k
  std::vector<std::array<int8_t, 256>> lut;  // [D]: h = lut[a + 128]
};

struct QModel {
  FrontEndConfig front_end;
  std::vector<std::string> classes;
  float in_scale = 1;
  int in_zp = 0;
  float out_scale = 1;
  int out_zp = 0;
  std::vector<QLayer> layers;
  size_t weight_bytes() const;  // int8 weights + int32 biases + multipliers + tables
};

// Folds dendrites and quantizes; activation ranges come from the float model on `calibration`
// (eval mode). Throws dkws::Error for a layer the int8 path does not support or a front end that
// does not produce the model's input size.
QModel quantize(SavedModel& model, const FeatureSet& calibration);

// int8 input from float features, exactly as the generated C code does it.
void quantize_input(const QModel& q, const float* features, int8_t* out);
// Integer-only inference: int8 input features -> int8 class scores (logits at out_scale/out_zp).
std::vector<int8_t> run_int8(const QModel& q, const int8_t* input);
int argmax_scores(const std::vector<int8_t>& scores);  // first maximum
// The deployed path on one window of 16-bit PCM: the C front end (the exported source) then int8.
std::vector<int8_t> classify_pcm(const QModel& q, const int16_t* pcm, size_t n);
// The C front end's features (frames x coeffs) for one window; for the MFCC block only.
std::vector<float> c_front_end(const FrontEndConfig& fe, const int16_t* pcm, size_t n);
// Throws a one-line dkws::Error unless `rate` is the front end's input rate.
void check_input_rate(const FrontEndConfig& fe, int rate, const std::string& what);

// A run quantized and evaluated: RUN is a run folder (holding model.json) or a model file.
struct QuantizeRunOptions {
  std::filesystem::path data_dir;                   // empty: the model's config, then default
  std::filesystem::path cache_dir = ".cache/dkws";  // feature cache ('' disables)
  bool quiet = false;
};
struct QuantizeRunResult {
  QModel q;
  double float_val = 0, float_test = 0, int8_val = 0, int8_test = 0;  // accuracies, fractions
  size_t calibration_clips = 0;
  std::filesystem::path metrics_path;  // metrics.json beside the model, rewritten atomically
  std::filesystem::path data_dir;      // the task's data, and its test split (paths under it)
  std::vector<std::string> test_paths;
  std::vector<int> test_labels;
};
// Loads the model and its task, calibrates on the training split, evaluates float and int8 on
// validation and test, and records them in metrics.json (keys float_*/int8_*_accuracy, int8_bytes).
QuantizeRunResult quantize_run(const std::filesystem::path& run, const QuantizeRunOptions& opt);

struct ExportSummary {
  std::vector<std::filesystem::path> files;
  size_t arena_bytes = 0;   // the one static buffer kws_classify uses
  size_t stream_bytes = 0;  // sizeof the kws_stream_t state for kws_feed
  size_t weight_bytes = 0;
};
// Writes the C99 library (kws.h, kws_model.c, runtime, kernels, front end) into dir.
ExportSummary export_c(const QModel& q, const std::filesystem::path& dir);

// For the firmware check (firmware/, scripts/run_firmware.sh): dir/clips.h with up to n real clips
// of the run's test split (16 kHz int16, spread over the split), and dir/clips_expected.txt with
// the C++ int8 model's result for each, in the firmware's own output format
// ("clip I label L scores S0 S1 ..."). Returns the number of clips written.
size_t write_firmware_clips(const QuantizeRunResult& r, size_t n, const std::filesystem::path& dir);
// The clips.h that firmware/main.c includes, for clips of equal length.
std::string firmware_clips_header(const std::vector<std::vector<int16_t>>& clips);

}  // namespace dkws::deploy
