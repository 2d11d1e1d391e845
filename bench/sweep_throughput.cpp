// Sweep throughput: trials per hour of a fixed 20-trial `dkws sweep` on kws12 (20 sampled configs
// of configs/sweep_paper.json, arm `none`, 1 seed, early stopping off so every trial runs all its
// epochs) against the same trials trained by PyTorch 1.13 on one thread
// (tools/torch/sweep_throughput.py), in one run. Both sides are timed in CPU seconds of the
// training thread (trials.json "cpu_seconds" summed; time.thread_time() in torch), so other jobs
// on a shared machine count against neither; feature loading is excluded on both sides.
// It also prints the dense FLOP floor: the CPU seconds the same trials would take at the measured
// core peak (bench/core_peak.hpp) doing nothing but the multiply-adds of a dense implementation
// (every conv output and every gradient entry computed), and so the largest ratio a dense direct
// implementation could reach against this torch run. dkws's fused conv blocks skip part of that
// work (src/nn/conv_block.hpp), so trials with 2-3 conv blocks can run under the floor.
// Usage: sweep_throughput [--epochs E] [--no-torch] [--per-trial] [--python PATH] [--data DIR]
//   --per-trial adds a line per trial: its size, both sides' CPU seconds and its FLOP floor.
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <random>
#include <string>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "core_peak.hpp"
#include "dkws/model_file.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string run(const std::string& cmd, int& status) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  status = pclose(p);
  return out;
}

// The dkws binary beside this bench's folder (build/bench/sweep_throughput -> build/dkws).
fs::path cli_path() {
  char self[4096] = {};
  const ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
  return fs::path(std::string(self, size_t(std::max<ssize_t>(len, 0))))
             .parent_path()
             .parent_path() /
         "dkws";
}

// FLOPs of one trial: every training step is the forward, the weight gradient and the input
// gradient (2 flops per multiply-add each), except that the first layer with weights computes no
// input gradient; every epoch evaluates the validation set and the end the test set (forward only).
double trial_flops(const fs::path& model_file, const json& metrics, int epochs) {
  dkws::SavedModel m = dkws::load_model(model_file);
  const dkws::nn::Shape item = {1, m.config.front_end.frames() * m.config.front_end.coeffs()};
  double forward = 0, first_weighted = -1;
  dkws::nn::Shape shape = item;  // layer shapes for one item
  for (size_t i = 0; i < m.net.size(); ++i) {
    const double macs = m.net.layer(i).macs_per_item(shape);
    if (first_weighted < 0 && !m.net.layer(i).params().empty()) first_weighted = macs;
    forward += macs;
    shape = m.net.layer(i).output_shape(shape);
  }
  const json& n = metrics.at("samples");
  const double train = n.at("train").get<double>() * epochs;
  const double eval = n.at("val").get<double>() * epochs + n.at("test").get<double>();
  return 2 * (train * (3 * forward - first_weighted) + eval * forward);
}

}  // namespace

int main(int argc, char** argv) {
  int epochs = 5;
  bool torch = true, per_trial = false;
  std::string python = "/usr/bin/python3";
  std::string data = fs::path(DKWS_SHARED_DIR) / "data";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--epochs" && i + 1 < argc)
      epochs = std::atoi(argv[++i]);
    else if (a == "--no-torch")
      torch = false;
    else if (a == "--per-trial")
      per_trial = true;
    else if (a == "--python" && i + 1 < argc)
      python = argv[++i];
    else if (a == "--data" && i + 1 < argc)
      data = argv[++i];
    else {
      std::fprintf(
          stderr,
          "usage: sweep_throughput [--epochs E] [--no-torch] [--per-trial] [--python PATH] "
          "[--data DIR]\n");
      return 2;
    }
  }
  const fs::path dir = fs::temp_directory_path() / fmt::format("dkws_sweep_bench_{}", getpid());
  fs::create_directories(dir);
  // The paper's space with a fixed epoch count and no early stop: identical work on both sides.
  json space =
      json::parse(std::ifstream(fs::path(DKWS_SOURCE_DIR) / "configs" / "sweep_paper.json"),
                  nullptr, true, true);
  space["base"]["train"]["epochs"] = epochs;
  space["base"]["train"]["eval_train_accuracy"] = false;  // PyTorch's side has no such pass
  space["params"]["n_epochs_to_switch"] = {100000};
  std::ofstream(dir / "space.json") << space.dump(2);

  const fs::path cli = cli_path();
  int status = 0;
  const std::string sweep_cmd = fmt::format(
      "'{}' sweep --space '{}' --out '{}' --task kws12 --data '{}' --arms none --seeds 1 "
      "--configs 20 -j 1 -q 2>&1",
      cli.string(), (dir / "space.json").string(), (dir / "sweep").string(), data);
  const std::string sweep_out = run(sweep_cmd, status);
  if (status != 0) {
    std::fprintf(stderr, "dkws sweep failed:\n%s", sweep_out.c_str());
    return 1;
  }
  const json trials = json::parse(std::ifstream(dir / "sweep" / "trials.json"))["trials"];
  double dkws_cpu = 0, dkws_wall = 0;
  for (const auto& t : trials) {
    dkws_cpu += t["cpu_seconds"].get<double>();
    dkws_wall += t["train_seconds"].get<double>();
  }
  const double dkws_rate = 3600.0 * double(trials.size()) / dkws_cpu;
  std::vector<double> trial_flop;
  for (const auto& t : trials) {
    const fs::path run = dir / "sweep" / t["run_dir"].get<std::string>();
    trial_flop.push_back(trial_flops(run / "model.json",
                                     json::parse(std::ifstream(run / "metrics.json")),
                                     t["epochs"].get<int>()));
  }
  const double flops = std::accumulate(trial_flop.begin(), trial_flop.end(), 0.0);
  const double peak = dkws::bench::measure_core_peak_flops();
  const double floor_cpu = flops / peak;
  fmt::print("sweep_throughput: {} trials (kws12, arm none, {} epochs each, 1 thread)\n",
             trials.size(), epochs);
  fmt::print(
      "  dkws   {:8.1f} CPU s  {:9.0f} trials/hour  (wall {:.1f} s; {:.1f} dense-equivalent "
      "GFLOP/s, {:.0f}% of peak)\n",
      dkws_cpu, dkws_rate, dkws_wall, flops / dkws_cpu * 1e-9, 100 * floor_cpu / dkws_cpu);
  fmt::print(
      "  floor  {:8.1f} CPU s  {:9.0f} trials/hour  ({:.1f} dense TFLOP at the measured peak, "
      "{:.1f} GFLOP/s)\n",
      floor_cpu, 3600.0 * double(trials.size()) / floor_cpu, flops * 1e-12, peak * 1e-9);
  std::vector<double> torch_seconds;  // per trial, when torch ran
  if (torch) {
    const std::string feats = (dir / "feats").string();
    run(fmt::format("'{}' features --task kws12 --data '{}' --out '{}' -q 2>&1", cli.string(), data,
                    feats),
        status);
    if (status != 0) {
      std::fprintf(stderr, "dkws features failed\n");
      return 1;
    }
    const std::string script =
        (fs::path(DKWS_SOURCE_DIR) / "tools" / "torch" / "sweep_throughput.py").string();
    const std::string out =
        run(fmt::format("'{}' '{}' --features '{}' --trials '{}' 2>&1", python, script, feats,
                        (dir / "sweep" / "trials.json").string()),
            status);
    if (status != 0) {
      std::fprintf(stderr, "torch side failed:\n%s", out.c_str());
      return 1;
    }
    const json t = json::parse(out.substr(out.rfind('{')));
    const double torch_cpu = t["cpu_seconds"].get<double>();
    torch_seconds = t["trial_seconds"].get<std::vector<double>>();
    const double torch_rate = 3600.0 * double(trials.size()) / torch_cpu;
    double dkws_acc = 0, torch_acc = 0;
    for (size_t i = 0; i < trials.size(); ++i) {
      dkws_acc += trials[i]["test_acc"].get<double>() / double(trials.size());
      torch_acc += t["test_acc"][i].get<double>() / double(trials.size());
    }
    fmt::print("  torch  {:8.1f} CPU s  {:9.0f} trials/hour  (PyTorch {})\n", torch_cpu, torch_rate,
               t["torch"].get<std::string>());
    fmt::print("  ratio  {:.1f}x trials/hour; mean test accuracy dkws {:.3f}, torch {:.3f}\n",
               dkws_rate / torch_rate, dkws_acc, torch_acc);
    fmt::print(
        "  at the dense FLOP floor the ratio would be {:.1f}x (torch runs at {:.1f} GFLOP/s)\n",
        torch_cpu / floor_cpu, flops / torch_cpu * 1e-9);
  }
  if (per_trial) {
    fmt::print("  {:>5} {:>8} {:>6} {:>6} {:>6} {:>5} {:>8} {:>8} {:>6} {:>9}\n", "trial", "params",
               "conv", "width", "noise", "GFLOP", "dkws s", "floor s", "ratio", "dkws acc");
    for (size_t i = 0; i < trials.size(); ++i) {
      const json& t = trials[i];
      const double cpu = t["cpu_seconds"].get<double>();
      const std::string ratio =
          torch_seconds.empty() ? "-" : fmt::format("{:.1f}x", torch_seconds[i] / cpu);
      fmt::print("  {:>5} {:>8} {:>6} {:>6} {:>6} {:>5.1f} {:>8.2f} {:>8.2f} {:>6} {:>9.4f}\n",
                 t["trial_id"].get<int>(), t["params"].get<long>(),
                 t["hparams"]["num_conv"].get<int>(), t["hparams"]["width"].get<double>(),
                 t["hparams"]["noise"].get<double>(), trial_flop[i] * 1e-9, cpu,
                 trial_flop[i] / peak, ratio, t["test_acc"].get<double>());
    }
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
  return 0;
}
