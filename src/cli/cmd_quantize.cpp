// dkws quantize RUN: int8 post-training quantization of a trained run, without generating code.
// Prints and records (metrics.json) float against int8 accuracy on validation and test.
#include <filesystem>

#include <fmt/core.h>

#include "cli/commands.hpp"
#include "dkws/deploy.hpp"
#include "dkws/error.hpp"

namespace dkws::cli {

void register_quantize(CLI::App& app) {
  struct Args {
    std::string run, data_dir, cache_dir = ".cache/dkws";
    bool quiet = false, json = false;
  };
  auto args = std::make_shared<Args>();
  auto* sub = app.add_subcommand(
      "quantize",
      "int8 post-training quantization (per-channel weights, min/max activation ranges from the "
      "training split, dendrites folded); writes float and int8 accuracy to metrics.json");
  sub->add_option("run", args->run, "Run folder (holding model.json) or model file")->required();
  sub->add_option("--data", args->data_dir, "Data folder (default: the model's, $DKWS_DATA)");
  sub->add_option("--cache", args->cache_dir, "Feature cache folder ('' disables)")
      ->capture_default_str();
  sub->add_flag("--quiet", args->quiet, "No progress or notes on stderr");
  sub->add_flag("--json", args->json, "Print a JSON summary instead of the table");
  sub->callback([args] {
    if (!std::filesystem::exists(args->run))
      throw Error(fmt::format("{}: no such run folder or model file", args->run));
    deploy::QuantizeRunOptions opt{args->data_dir, args->cache_dir, args->quiet};
    const deploy::QuantizeRunResult r = deploy::quantize_run(args->run, opt);
    if (args->json) {
      fmt::print("{}\n", nlohmann::json{{"float_val_accuracy", r.float_val},
                                        {"float_test_accuracy", r.float_test},
                                        {"int8_val_accuracy", r.int8_val},
                                        {"int8_test_accuracy", r.int8_test},
                                        {"int8_bytes", r.q.weight_bytes()}}
                             .dump());
      return;
    }
    fmt::print(
        "accuracy     float   int8\n  val       {:.4f}  {:.4f}\n  test      {:.4f}  {:.4f}\n",
        r.float_val, r.int8_val, r.float_test, r.int8_test);
    fmt::print("int8 model data {} bytes; calibrated on {} training clips; wrote {}\n",
               r.q.weight_bytes(), r.calibration_clips, r.metrics_path.string());
  });
}

}  // namespace dkws::cli
