// Single-thread training throughput (forward + backward + Adam step, batch 32, train mode) of the
// KWS models on kws12's training features (random inputs without the data), against PyTorch on
// the identical architecture and the same batches in the same run (tools/torch/train_throughput.py
// --serve, behind pipes: each side gets three windows of training, taken in turn, and its best
// counts). GFLOP/s counts 2 flops per multiply-accumulate and 3x the forward MACs for a training
// step (forward, weight gradient, input gradient): the work of a dense implementation. dkws's
// fused conv blocks skip part of it (conv outputs no pool window reads, gradients of cells that
// did not win their pool window; src/nn/conv_block.hpp), so this dense-equivalent rate can exceed
// the core's peak; --unfused shows the dense path's rate. Times are the timing thread's CPU time
// (CLOCK_THREAD_CPUTIME_ID; time.thread_time() in torch), so other jobs on a shared machine do
// not count against either side; --wall uses the wall clock.
//
// Usage: train_throughput [--seconds S] [--no-torch] [--layers] [--wall] [--python PATH]
//                         [--peak GFLOPS] [--model NAME] [--unfused] [--data DIR | --random]
//   --layers adds a per-layer forward/backward time breakdown of each dkws model (the layers one
//   by one, as with fused blocks off); --model runs
//   one model only (e.g. under valgrind --tool=callgrind). --unfused also times each model with
//   Sequential's fused conv blocks off (the layers one by one) and prints the speedup.
#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "core_peak.hpp"
#include "dkws/config.hpp"
#include "dkws/dataset.hpp"
#include "dkws/error.hpp"
#include "dkws/models.hpp"
#include "dkws/nn/optim.hpp"

using namespace dkws;
using namespace dkws::nn;

namespace {

constexpr int kBatch = 32, kFrames = 50, kCoeffs = 13, kClasses = 12;

struct Model {
  std::string name;
  ModelSpec spec;
};

// The three models of the comparison. The AudioClassifier settings were picked for their size:
// 940 and 6,468 parameters with 12 classes (a num_linear=2 one, so the torch side covers both).
std::vector<Model> models() {
  ModelSpec ei;
  ModelSpec small;
  small.family = "audio_classifier";
  small.num_conv = 3, small.num_linear = 2, small.growth = 4, small.width = 0.5;
  ModelSpec mid;
  mid.family = "audio_classifier";
  mid.num_conv = 3, mid.num_linear = 1, mid.growth = 1, mid.width = 1.0;
  return {{"ei_conv1d", ei}, {"ac_small", small}, {"ac_mid", mid}};
}

nlohmann::json spec_json(const Model& m) {
  return {{"name", m.name},
          {"family", m.spec.family},
          {"num_conv", m.spec.num_conv},
          {"num_linear", m.spec.num_linear},
          {"growth", m.spec.growth},
          {"width", m.spec.width},
          {"dropout", m.spec.dropout},
          {"frames", kFrames},
          {"coeffs", kCoeffs},
          {"classes", kClasses}};
}

bool g_wall = false;

double now_s() {
  if (g_wall)
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

// The batches every step draws from, in turn. With the kws12 data at hand (--data, default
// ../shared/data) they are its training split's features, shuffled once and cut into batches of
// kBatch, so the models train as they would in `dkws train`. Random inputs with random labels are
// the fallback: on them the ReLU networks die (ac_mid: 4,514 of its 6,468 Adam first moments were
// subnormal after 4,000 steps, their gradients zero for hundreds of steps), which makes a training
// step cheaper in some places (fewer pool winners) and dearer in others (subnormal arithmetic in
// Adam) than real training.
struct Pool {
  std::vector<Tensor> xs;
  std::vector<std::vector<int>> labels;
  std::string source;
};

// 90 batches, kws12's training split in size (2,860 clips). (One fixed batch gets memorised and
// its values drift into the subnormal range: ei_conv1d ran 20 % slower after a second of steps.)
Pool random_pool() {
  constexpr int kPool = 90;
  Pool pool;
  Rng rng(7);
  for (int b = 0; b < kPool; ++b) {
    Tensor x({kBatch, kFrames * kCoeffs});
    for (float& v : x.data) v = float(rng.normal());
    pool.xs.push_back(std::move(x));
    pool.labels.emplace_back();
    for (int i = 0; i < kBatch; ++i) pool.labels.back().push_back(int(rng.below(kClasses)));
  }
  pool.source = fmt::format("{} batches of random inputs and labels", kPool);
  return pool;
}

Pool kws12_pool(const std::filesystem::path& data) {
  TaskSpec spec;
  spec.name = "kws12";
  spec.data_dir = data;
  spec.cache_dir = std::filesystem::path(DKWS_BUILD_DIR) / "bench-cache";
  spec.quiet = true;
  const TaskData task = load_task(spec);
  const FeatureSet& train = task.train;
  if (train.dim() != kFrames * kCoeffs || int(task.classes.size()) != kClasses)
    throw Error("train_throughput: kws12 features are not 50 x 13 with 12 classes");
  std::vector<size_t> order(train.size());
  std::iota(order.begin(), order.end(), size_t{0});
  Rng rng(7);
  for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);
  Pool pool;
  for (size_t b = 0; (b + 1) * kBatch <= order.size(); ++b) {
    Tensor x({kBatch, kFrames * kCoeffs});
    pool.labels.emplace_back();
    for (int i = 0; i < kBatch; ++i) {
      const size_t row = order[b * kBatch + size_t(i)];
      std::copy_n(train.row(row), train.dim(), x.ptr() + size_t(i) * train.dim());
      pool.labels.back().push_back(train.y[row]);
    }
    pool.xs.push_back(std::move(x));
  }
  pool.source =
      fmt::format("{} batches of kws12's training split ({})", pool.xs.size(), data.string());
  return pool;
}

// The pool as two raw files for the torch side: float32 [batches][kBatch][650], int32 labels.
void write_pool(const Pool& pool, const std::filesystem::path& xs,
                const std::filesystem::path& ys) {
  std::ofstream fx(xs, std::ios::binary), fy(ys, std::ios::binary);
  for (size_t b = 0; b < pool.xs.size(); ++b) {
    fx.write(reinterpret_cast<const char*>(pool.xs[b].ptr()),
             std::streamsize(pool.xs[b].size() * sizeof(float)));
    const std::vector<int32_t> y(pool.labels[b].begin(), pool.labels[b].end());
    fy.write(reinterpret_cast<const char*>(y.data()), std::streamsize(y.size() * sizeof(int32_t)));
  }
  if (!fx || !fy) throw Error("train_throughput: cannot write the batch pool for torch");
}

struct Bench {
  Sequential net;
  Rng rng{7};
  const Pool& pool;
  Tensor dlogits;
  size_t next = 0;  // the pool's batch the next step trains on
  std::unique_ptr<Adam> adam;

  size_t take_batch() {
    const size_t b = next;
    next = (next + 1) % pool.xs.size();
    return b;
  }

  Bench(const ModelSpec& spec, const Pool& batches) : pool(batches) {
    Rng init(1);
    net = build_model(spec, kFrames, kCoeffs, kClasses, init);
    adam = std::make_unique<Adam>(net.params(), 0.005f);
  }
  // One training step exactly as train_epoch runs it (MaxNorm is off in these specs).
  void step() {
    net.zero_grad();
    const ForwardContext ctx{true, &rng};
    const size_t b = take_batch();
    softmax_cross_entropy(net.forward(pool.xs[b], ctx), pool.labels[b].data(), dlogits);
    net.backward(dlogits);
    adam->step();
  }
};

// Samples/s over steps (10 at a time) for about `seconds`.
double window(Bench& b, double seconds) {
  long steps = 0;
  const double t0 = now_s();
  double t = 0;
  while (t < seconds) {
    for (int i = 0; i < 10; ++i) b.step();
    steps += 10;
    t = now_s() - t0;
  }
  return double(steps) * kBatch / t;
}

constexpr int kWarmup = 20, kWindows = 3;

// Best of three windows of `seconds`/3 each, after a warm-up that sizes every buffer.
double samples_per_second(Bench& b, double seconds) {
  for (int i = 0; i < kWarmup; ++i) b.step();
  double best = 0;
  for (int rep = 0; rep < kWindows; ++rep) best = std::max(best, window(b, seconds / kWindows));
  return best;
}

// Where one step's time goes: each layer's forward and backward, the loss and Adam, timed around
// the same calls Sequential makes: as in training, the first layer with weights and the layers
// before it (reshape, input noise) get no input gradient.
void layer_profile(Bench& b, double seconds) {
  Sequential& net = b.net;
  const size_t n = net.size();
  size_t first_weighted = 0;
  while (first_weighted < n && net.layer(first_weighted).params().empty()) ++first_weighted;
  std::vector<Tensor> acts(n + 1), grads(2);
  std::vector<double> fwd(n, 0), bwd(n, 0);
  double loss_t = 0, adam_t = 0, zero_t = 0;
  long steps = 0;
  const double start = now_s();
  while (now_s() - start < seconds) {
    double t = now_s();
    net.zero_grad();
    zero_t += now_s() - t;
    const ForwardContext ctx{true, &b.rng};
    const size_t batch = b.take_batch();
    acts[0] = b.pool.xs[batch];
    for (size_t i = 0; i < n; ++i) {
      t = now_s();
      net.layer(i).forward(acts[i], acts[i + 1], ctx);
      fwd[i] += now_s() - t;
    }
    t = now_s();
    softmax_cross_entropy(acts[n], b.pool.labels[batch].data(), b.dlogits);
    loss_t += now_s() - t;
    const Tensor* dy = &b.dlogits;
    for (size_t i = n; i-- > first_weighted;) {
      Tensor* dx = i > first_weighted ? &grads[i % 2] : nullptr;
      t = now_s();
      net.layer(i).backward(acts[i], acts[i + 1], *dy, dx);
      bwd[i] += now_s() - t;
      dy = dx;
    }
    t = now_s();
    b.adam->step();
    adam_t += now_s() - t;
    ++steps;
  }
  double total = loss_t + adam_t + zero_t;
  for (size_t i = 0; i < n; ++i) total += fwd[i] + bwd[i];
  const double us = 1e6 / double(steps);
  std::printf("  %-3s %-14s %10s %10s %7s %7s\n", "#", "layer", "fwd us", "bwd us", "fwd %",
              "bwd %");
  Shape s = {kBatch, kFrames * kCoeffs};
  for (size_t i = 0; i < n; ++i) {
    std::string kind = net.layer(i).kind();
    if (net.layer(i).macs_per_item(s) > 0) kind += "*";
    s = net.layer(i).output_shape(s);
    std::printf("  %-3zu %-14s %10.2f %10.2f %6.1f%% %6.1f%%\n", i, kind.c_str(), fwd[i] * us,
                bwd[i] * us, 100 * fwd[i] / total, 100 * bwd[i] / total);
  }
  std::printf("  %-3s %-14s %10.2f %10s %6.1f%%\n", "", "softmax+CE", loss_t * us, "",
              100 * loss_t / total);
  std::printf("  %-3s %-14s %10.2f %10s %6.1f%%\n", "", "zero_grad", zero_t * us, "",
              100 * zero_t / total);
  std::printf("  %-3s %-14s %10.2f %10s %6.1f%%\n", "", "adam", adam_t * us, "",
              100 * adam_t / total);
  std::printf("  total %.2f us per step of %d (* = layers with weights)\n", total * us, kBatch);
}

std::pair<double, std::string> core_peak() {
  const double peak = bench::measure_core_peak_flops(now_s);
  return {peak, fmt::format("core peak = {:.1f} GFLOP/s, measured (bench/core_peak.hpp, {})",
                            peak * 1e-9, g_wall ? "wall-clock time" : "thread CPU time")};
}

// The torch script in --serve mode behind two pipes, on the same specs and batches: it trains a
// window at a time on request, so the two sides' windows can alternate. (This VM's speed drifts
// by 10-20 % over tens of seconds; with each side timed in one stretch, the ratio moved with it.)
class TorchServer {
 public:
  TorchServer(const std::string& python, const std::vector<Model>& ms, const Pool& pool) {
    nlohmann::json specs = nlohmann::json::array();
    for (const Model& m : ms) specs.push_back(spec_json(m));
    char tmpl[] = "/tmp/dkws-train-throughput-XXXXXX";
    if (!mkdtemp(tmpl)) {
      why_ = "mkdtemp failed";
      return;
    }
    dir_ = tmpl;
    write_pool(pool, dir_ / "x.f32", dir_ / "y.i32");
    const std::string cmd = fmt::format(
        "exec {} {}/tools/torch/train_throughput.py --serve --clock {} --spec '{}' --pool-x '{}' "
        "--pool-y '{}' 2>&1",
        python, DKWS_SOURCE_DIR, g_wall ? "wall" : "thread", specs.dump(),
        (dir_ / "x.f32").string(), (dir_ / "y.i32").string());
    int down[2], up[2];  // requests to the script, its answers back
    if (pipe(down) != 0 || pipe(up) != 0) {
      why_ = "pipe failed";
      return;
    }
    pid_ = fork();
    if (pid_ == 0) {
      dup2(down[0], 0);
      dup2(up[1], 1);
      for (const int fd : {down[0], down[1], up[0], up[1]}) close(fd);
      execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    close(down[0]);
    close(up[1]);
    if (pid_ < 0) {
      close(down[1]);
      close(up[0]);
      why_ = "fork failed";
      return;
    }
    to_ = fdopen(down[1], "w");
    from_ = fdopen(up[0], "r");
    const nlohmann::json hello = answer();
    if (hello.contains("torch")) version_ = hello["torch"];
  }
  ~TorchServer() {
    if (to_) std::fclose(to_);  // end of input: the script returns
    if (from_) std::fclose(from_);
    if (pid_ > 0) waitpid(pid_, nullptr, 0);
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }
  TorchServer(const TorchServer&) = delete;
  TorchServer& operator=(const TorchServer&) = delete;

  bool ok() const { return !version_.empty() && why_.empty(); }
  const std::string& version() const { return version_; }
  const std::string& why() const { return why_; }

  // One window of about `seconds` of model `name`'s training: {name, params, samples_per_s}, or
  // an empty object (why() says what went wrong).
  nlohmann::json window(const std::string& name, double seconds) {
    if (!ok()) return nlohmann::json::object();
    fmt::print(to_, "{}\n", nlohmann::json{{"name", name}, {"seconds", seconds}}.dump());
    std::fflush(to_);
    nlohmann::json j = answer();
    return j.contains("samples_per_s") ? j : nlohmann::json::object();
  }

 private:
  // The next JSON line; anything else before it (a warning, a traceback) is kept for why().
  nlohmann::json answer() {
    std::string other;
    char* line = nullptr;
    size_t cap = 0;
    nlohmann::json j = nlohmann::json::object();
    while (from_ && getline(&line, &cap, from_) > 0) {
      if (line[0] == '{') {
        j = nlohmann::json::parse(line, nullptr, false);
        if (!j.is_discarded()) break;
      }
      other += line;
    }
    std::free(line);
    if (j.is_discarded() || j.empty()) {
      why_ = other.empty() ? "no output" : other.substr(0, 300);
      while (!why_.empty() && std::isspace(static_cast<unsigned char>(why_.back())))
        why_.pop_back();
      return nlohmann::json::object();
    }
    return j;
  }

  std::filesystem::path dir_;
  pid_t pid_ = -1;
  FILE* to_ = nullptr;
  FILE* from_ = nullptr;
  std::string version_, why_;
};

}  // namespace

int main(int argc, char** argv) {
  double seconds = 3, peak_override = 0;
  bool torch = true, layers = false, unfused = false;
  std::string python = "/usr/bin/python3", only;
  std::string data = std::string(DKWS_SHARED_DIR) + "/data";
  bool random = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool more = i + 1 < argc;
    if (a == "--seconds" && more)
      seconds = std::atof(argv[++i]);
    else if (a == "--no-torch")
      torch = false;
    else if (a == "--layers")
      layers = true;
    else if (a == "--wall")
      g_wall = true;
    else if (a == "--model" && more)
      only = argv[++i];
    else if (a == "--python" && more)
      python = argv[++i];
    else if (a == "--unfused")
      unfused = true;
    else if (a == "--data" && more)
      data = argv[++i];
    else if (a == "--random")
      random = true;
    else if (a == "--peak" && more)
      peak_override = std::atof(argv[++i]) * 1e9;
    else {
      std::fprintf(stderr,
                   "usage: %s [--seconds S] [--no-torch] [--layers] [--wall] [--python PATH] "
                   "[--peak GFLOPS] [--model NAME] [--unfused] [--data DIR | --random]\n",
                   argv[0]);
      return 2;
    }
  }
  auto [peak, assumption] = core_peak();
  if (peak_override > 0) peak = peak_override, assumption = "core peak given with --peak";
  std::vector<Model> ms = models();
  if (!only.empty()) std::erase_if(ms, [&](const Model& m) { return m.name != only; });
  if (ms.empty()) {
    std::fprintf(stderr, "no model named '%s' (ei_conv1d, ac_small, ac_mid)\n", only.c_str());
    return 2;
  }

  const bool have_data =
      std::filesystem::exists(std::filesystem::path(data) / "speech_commands_v2_test");
  const Pool pool = !random && have_data ? kws12_pool(data) : random_pool();
  std::unique_ptr<TorchServer> server;
  if (torch) server = std::make_unique<TorchServer>(python, ms, pool);
  bool have_torch = server && server->ok();

  fmt::print(
      "training step = forward + backward + Adam, batch {}, train mode, one thread, "
      "{:.1f} s per model and side: {} windows, dkws's and torch's in turn, best of each; {}\n{}\n",
      kBatch, seconds, kWindows, g_wall ? "wall-clock time" : "thread CPU time", assumption);
  fmt::print("batches: {}{}\n", pool.source,
             random || have_data ? "" : " (no kws12 data at " + data + ")");
  fmt::print("{}\n", have_torch
                         ? "torch " + server->version() + " (torch.set_num_threads(1))"
                         : "torch unavailable: " +
                               (server ? server->why() : std::string("skipped (--no-torch)")));
  fmt::print("{:<10} {:>7} {:>10} {:>13} {:>13} {:>7} {:>8} {:>7}\n", "model", "params",
             "MFLOP/item", "dkws samp/s", "torch samp/s", "ratio", "GFLOP/s*", "% peak*");
  for (const Model& m : ms) {
    Bench b(m.spec, pool);
    for (int i = 0; i < kWarmup; ++i) b.step();
    double sps = 0, tsps = 0;
    size_t tparams = 0;
    for (int rep = 0; rep < kWindows; ++rep) {
      sps = std::max(sps, window(b, seconds / kWindows));
      if (!have_torch) continue;
      const nlohmann::json t = server->window(m.name, seconds / kWindows);
      if (t.empty()) {
        have_torch = false;
        fmt::print("torch failed: {}\n", server->why());
        continue;
      }
      tsps = std::max(tsps, t["samples_per_s"].get<double>());
      tparams = t["params"].get<size_t>();
    }
    const double flops = 2 * 3 * b.net.macs_per_item({kBatch, kFrames * kCoeffs});
    const size_t params = b.net.count_params();
    std::string ts = "-", ratio = "-";
    if (have_torch) {
      ts = fmt::format("{:.0f}", tsps);
      ratio = fmt::format("{:.1f}x", sps / tsps);
      if (tparams != params) ratio += fmt::format(" (torch params {}!)", tparams);
    }
    fmt::print("{:<10} {:>7} {:>10.3f} {:>13.0f} {:>13} {:>7} {:>8.2f} {:>6.1f}%\n", m.name, params,
               flops * 1e-6, sps, ts, ratio, sps * flops * 1e-9, 100 * sps * flops / peak);
    if (unfused) {
      Bench u(m.spec, pool);
      u.net.set_fused_blocks(false);
      const double usps = samples_per_second(u, seconds);
      fmt::print("{:<10} {:>7} {:>10} {:>13.0f}   fused blocks: {:.2f}x the layers one by one\n",
                 "  unfused", "", "", usps, sps / usps);
    }
    std::fflush(stdout);
  }
  fmt::print(
      "* dense-equivalent: 3x the forward multiply-adds of every layer; the fused conv blocks "
      "skip part of that work, so it can exceed the peak\n");
  if (layers) {
    for (const Model& m : ms) {
      fmt::print("\n{}: time per training step by layer\n", m.name);
      Bench b(m.spec, pool);
      for (int i = 0; i < 20; ++i) b.step();
      layer_profile(b, seconds);
    }
  }
  return 0;
}
