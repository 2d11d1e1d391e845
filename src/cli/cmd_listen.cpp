// dkws listen MODEL FILE|-: streaming keyword detection with a trained model over a long recording
// (any format and rate the audio reader handles, resampled to the model's rate) or raw int16
// little-endian PCM on stdin. Prints one line per detection, or JSON lines.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "dkws/audio.hpp"
#include "dkws/error.hpp"
#include "dkws/model_file.hpp"
#include "dkws/stream.hpp"
#include "dkws/util.hpp"

namespace dkws::cli {
namespace {

struct ListenArgs {
  std::string model;
  std::string input;
  double slice_ms = 250;
  double smooth_ms = 750;
  double threshold = 0.7;
  double suppress_ms = 1000;
  int pcm_rate = 16000;
  bool jsonl = false;
  std::string scores_csv;
  bool quiet = false;
};

std::string detection_line(const Detection& d, bool jsonl) {
  if (jsonl) {
    const nlohmann::json j = {{"time", std::round(d.time * 1e4) / 1e4},
                              {"label", d.label},
                              {"class", d.class_index},
                              {"score", std::round(d.score * 1e4) / 1e4}};
    return j.dump() + "\n";
  }
  return fmt::format("t={:.2f}s  {}  {:.2f}\n", d.time, d.label, d.score);
}

// Writes detections as they happen (flushed, so a live stream shows them at once) and keeps the
// per-window scores when asked for them.
class Sink {
 public:
  Sink(const ListenArgs& a, const std::vector<std::string>& classes) : a_(a) {
    if (!a.scores_csv.empty()) {
      csv_ = "time";
      for (const auto& c : classes) csv_ += "," + c;
      csv_ += "\n";
    }
  }
  void flush(Listener& l, long long& windows_seen, std::vector<Detection>& found) {
    // Scores: only the last window is kept by the listener, so this is called after every slice
    // when a CSV is wanted (see feed_all).
    if (!a_.scores_csv.empty() && l.windows() > windows_seen) {
      csv_ += fmt::format("{:.4f}", l.last_time());
      for (float s : l.last_scores()) csv_ += fmt::format(",{:.6f}", s);
      csv_ += "\n";
    }
    windows_seen = l.windows();
    for (const auto& d : found) {
      std::fputs(detection_line(d, a_.jsonl).c_str(), stdout);
      ++count_;
    }
    if (!found.empty()) std::fflush(stdout);
    found.clear();
  }
  void close() {
    if (!a_.scores_csv.empty()) write_file_atomic(a_.scores_csv, csv_);
  }
  size_t count() const { return count_; }

 private:
  const ListenArgs& a_;
  std::string csv_;
  size_t count_ = 0;
};

// Feeds a buffer slice by slice so each window's scores can be recorded.
void feed_all(Listener& l, Sink& sink, std::span<const float> samples, long long& seen,
              std::vector<Detection>& found, size_t step) {
  for (size_t i = 0; i < samples.size(); i += step) {
    l.feed(samples.subspan(i, std::min(step, samples.size() - i)), found);
    sink.flush(l, seen, found);
  }
}

void run_listen(const ListenArgs& a) {
  SavedModel model = load_model(a.model);
  DetectorOptions opt;
  opt.slice_seconds = a.slice_ms / 1000.0;
  opt.smooth_seconds = a.smooth_ms / 1000.0;
  opt.threshold = a.threshold;
  opt.suppress_seconds = a.suppress_ms / 1000.0;
  Listener listener = [&] {
    try {
      return Listener(model, opt);
    } catch (const Error& e) {
      // Option errors name their flag already; model problems need the file's name.
      const std::string why = e.what();
      if (why.rfind("--", 0) == 0) throw;
      throw Error(fmt::format("{}: {}", a.model, why));
    }
  }();
  const int rate = listener.sample_rate();
  const auto step = static_cast<size_t>(std::llround(opt.slice_seconds * rate));
  Sink sink(a, model.classes);
  std::vector<Detection> found;
  long long seen = 0;
  double seconds = 0;

  if (a.input == "-") {
    if (a.pcm_rate != rate)
      throw Error(
          fmt::format("stdin: raw PCM at {} Hz, but the model {} expects {} Hz (its front end's "
                      "sample_rate); resample the input or pass a file, which is resampled",
                      a.pcm_rate, a.model, rate));
    std::vector<unsigned char> bytes(step * 2);
    std::vector<float> samples;
    unsigned char carry = 0;
    bool has_carry = false;
    size_t total = 0;
    for (;;) {
      const size_t got = std::fread(bytes.data(), 1, bytes.size(), stdin);
      if (got == 0) break;
      samples.clear();
      size_t i = 0;
      if (has_carry) {  // a sample split across two reads
        samples.push_back(static_cast<float>(static_cast<int16_t>(carry | (bytes[0] << 8))));
        i = 1;
        has_carry = false;
      }
      for (; i + 1 < got; i += 2)
        samples.push_back(static_cast<float>(static_cast<int16_t>(bytes[i] | (bytes[i + 1] << 8))));
      if (i < got) carry = bytes[i], has_carry = true;
      total += samples.size();
      feed_all(listener, sink, samples, seen, found, step);
    }
    if (std::ferror(stdin)) throw Error("stdin: read error");
    if (has_carry) throw Error("stdin: odd number of bytes (expected 16-bit PCM samples)");
    seconds = static_cast<double>(total) / rate;
  } else {
    const std::vector<float> samples = load_audio(a.input, {rate, 0});
    seconds = static_cast<double>(samples.size()) / rate;
    Progress progress("listen", samples.size(), a.quiet);
    for (size_t i = 0; i < samples.size(); i += step * 40) {
      const size_t n = std::min(step * 40, samples.size() - i);
      feed_all(listener, sink, std::span<const float>(samples).subspan(i, n), seen, found, step);
      progress.update(i + n);
    }
    progress.finish();
  }
  listener.finish(found);
  sink.flush(listener, seen, found);
  sink.close();
  if (!a.quiet)
    fmt::print(stderr, "listened to {:.2f} s ({} windows of {} ms): {} detection{}\n", seconds,
               listener.windows(), a.slice_ms, sink.count(), sink.count() == 1 ? "" : "s");
}

}  // namespace

void register_listen(CLI::App& app) {
  auto a = std::make_shared<ListenArgs>();
  CLI::App* sub = app.add_subcommand(
      "listen",
      "Streaming keyword detection over a long recording, or raw 16-bit PCM on stdin ('-')");
  sub->add_option("model", a->model, "Model file written by `dkws train` (e.g. runs/x/model.json)")
      ->required();
  sub->add_option("input", a->input,
                  "Audio file (any rate/format the reader handles; resampled), or - for raw "
                  "int16 little-endian mono PCM on stdin")
      ->required();
  sub->add_option("--slice-ms", a->slice_ms, "Hop between classified windows")
      ->capture_default_str();
  sub->add_option("--smooth-ms", a->smooth_ms,
                  "Average each class's score over the last round(smooth/slice) windows")
      ->capture_default_str();
  sub->add_option("--threshold", a->threshold, "Smoothed keyword score that triggers a detection")
      ->capture_default_str();
  sub->add_option("--suppress-ms", a->suppress_ms, "No new detection this long after one")
      ->capture_default_str();
  sub->add_option("--rate", a->pcm_rate, "Sample rate of raw PCM on stdin (must be the model's)")
      ->capture_default_str();
  sub->add_flag("--jsonl", a->jsonl, "One JSON object per detection instead of text lines");
  sub->add_option("--scores", a->scores_csv,
                  "Also write every window's softmax scores to this CSV");
  sub->add_flag("-q,--quiet", a->quiet, "No progress or summary on stderr");
  sub->footer(
      "Output: one line per detection, `t=12.75s  yes  0.93` (time = end of the triggering "
      "window). Classes _unknown_, _silence_, unknown, silence and noise never trigger.");
  sub->callback([a] { run_listen(*a); });
}

}  // namespace dkws::cli
