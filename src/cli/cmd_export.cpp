// dkws export RUN --format FORMAT --out DIR: a trained run as deployable code. Each format is one
// entry in exporters(); `c` quantizes to int8 and writes the C99 library (src/deploy), `onnx`
// writes the float model as ONNX.
#include <filesystem>
#include <functional>
#include <map>

#include <fmt/core.h>

#include "cli/commands.hpp"
#include "dkws/deploy.hpp"
#include "dkws/error.hpp"
#include "dkws/model_file.hpp"
#include "dkws/onnx_export.hpp"

namespace dkws::cli {
namespace {

struct ExportArgs {
  std::string run;
  std::string format = "c";
  std::string out_dir;
  std::string data_dir;
  std::string cache_dir = ".cache/dkws";
  int rate = 0;               // input rate of the target; 0: the model's own
  size_t firmware_clips = 0;  // c: also write clips.h + clips_expected.txt for firmware/
  bool quiet = false;
  bool json = false;
};

void export_c_format(const ExportArgs& a) {
  deploy::QuantizeRunOptions opt;
  opt.data_dir = a.data_dir;
  opt.cache_dir = a.cache_dir;
  opt.quiet = a.quiet;
  if (a.rate > 0) {  // before the slow part: calibration and evaluation
    const auto run = std::filesystem::path(a.run);
    const SavedModel m = load_model(std::filesystem::is_directory(run) ? run / "model.json" : run);
    deploy::check_input_rate(m.config.front_end, a.rate, "export: --rate");
  }
  const deploy::QuantizeRunResult r = deploy::quantize_run(a.run, opt);
  const deploy::ExportSummary s = deploy::export_c(r.q, a.out_dir);
  const size_t clips =
      a.firmware_clips ? deploy::write_firmware_clips(r, a.firmware_clips, a.out_dir) : 0;
  if (a.json) {
    nlohmann::json j = {{"format", "c"},
                        {"out", a.out_dir},
                        {"arena_bytes", s.arena_bytes},
                        {"stream_state_bytes", s.stream_bytes},
                        {"int8_bytes", s.weight_bytes},
                        {"float_val_accuracy", r.float_val},
                        {"float_test_accuracy", r.float_test},
                        {"int8_val_accuracy", r.int8_val},
                        {"int8_test_accuracy", r.int8_test},
                        {"firmware_clips", clips}};
    fmt::print("{}\n", j.dump());
    return;
  }
  fmt::print("accuracy     float   int8\n  val       {:.4f}  {:.4f}\n  test      {:.4f}  {:.4f}\n",
             r.float_val, r.int8_val, r.float_test, r.int8_test);
  fmt::print(
      "arena {} bytes (static, kws_classify); stream state {} bytes (kws_feed); "
      "model data {} bytes\n",
      s.arena_bytes, s.stream_bytes, s.weight_bytes);
  fmt::print("wrote {} files to {} (metrics: {})\n", s.files.size(), a.out_dir,
             r.metrics_path.string());
  if (clips)
    fmt::print(
        "wrote {} test clips for the firmware: clips.h, clips_expected.txt "
        "(scripts/run_firmware.sh {})\n",
        clips, a.out_dir);
}

// `onnx`: the float model as OUT/model.onnx (dendrites in standard ops), checked by the ONNX
// checker.
void export_onnx_format(const ExportArgs& a) {
  const auto run = std::filesystem::path(a.run);
  const SavedModel m = load_model(std::filesystem::is_directory(run) ? run / "model.json" : run);
  if (a.rate > 0) deploy::check_input_rate(m.config.front_end, a.rate, "export: --rate");
  std::filesystem::create_directories(a.out_dir);
  const auto path = std::filesystem::path(a.out_dir) / "model.onnx";
  const deploy::OnnxExportInfo info = deploy::export_onnx(m, path);
  if (a.json) {
    fmt::print("{}\n", nlohmann::json{{"format", "onnx"},
                                      {"out", path.string()},
                                      {"input", {"features", {"batch", info.frames, info.coeffs}}},
                                      {"classes", info.classes},
                                      {"nodes", info.nodes},
                                      {"weights", info.weights},
                                      {"bytes", info.bytes}}
                           .dump());
    return;
  }
  fmt::print(
      "wrote {} ({} bytes, {} nodes, {} weights; input '{}' [batch, {}, {}], outputs '{}', '{}')\n",
      path.string(), info.bytes, info.nodes, info.weights, deploy::kOnnxInput, info.frames,
      info.coeffs, deploy::kOnnxLogits, deploy::kOnnxScores);
}

// One entry per --format.
const std::map<std::string, std::function<void(const ExportArgs&)>>& exporters() {
  static const std::map<std::string, std::function<void(const ExportArgs&)>> table = {
      {"c", export_c_format},
      {"onnx", export_onnx_format},
  };
  return table;
}

void run_export(const ExportArgs& a) {
  auto it = exporters().find(a.format);
  if (it == exporters().end()) {
    std::string known;
    for (const auto& [name, fn] : exporters()) known += (known.empty() ? "" : ", ") + name;
    throw Error(fmt::format("export: --format: unknown format '{}' ({})", a.format, known));
  }
  if (!std::filesystem::exists(a.run))
    throw Error(fmt::format("{}: no such run folder or model file", a.run));
  it->second(a);
}

}  // namespace

void register_export(CLI::App& app) {
  auto args = std::make_shared<ExportArgs>();
  auto* sub = app.add_subcommand(
      "export",
      "Export a trained run: --format c quantizes to int8 (calibrated on the training split, float "
      "and int8 accuracy written to metrics.json) and writes a C99 library with the MFCC or MFE "
      "front "
      "end; --format onnx writes the float model (dendrites included) as OUT/model.onnx");
  sub->add_option("run", args->run, "Run folder (holding model.json) or model file")->required();
  sub->add_option("--format", args->format, "Output format: c | onnx")->capture_default_str();
  sub->add_option("--out", args->out_dir, "Folder for the generated files")->required();
  sub->add_option("--data", args->data_dir, "Data folder (default: the model's, $DKWS_DATA)");
  sub->add_option("--cache", args->cache_dir, "Feature cache folder ('' disables)")
      ->capture_default_str();
  sub->add_option("--firmware-clips", args->firmware_clips,
                  "c: also write N real test clips (clips.h) and the host's int8 results "
                  "(clips_expected.txt) for the QEMU firmware check, scripts/run_firmware.sh");
  sub->add_option("--rate", args->rate,
                  "Sample rate of the target's audio input; must be the model's (default)");
  sub->add_flag("--quiet", args->quiet, "No progress or notes on stderr");
  sub->add_flag("--json", args->json, "Print a JSON summary instead of the table");
  sub->callback([args] { run_export(*args); });
}

}  // namespace dkws::cli
