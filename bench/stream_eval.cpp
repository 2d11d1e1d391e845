// stream_eval MODEL: streaming keyword detection on long audio built from the real data, reported
// as miss rate and false accepts per hour per SNR.
//
// For each noise recording and each SNR, one continuous stream: the recording (looped with short
// crossfades from a random start) with held-out TEST-split keyword clips inserted at random times,
// then a keyword-free stretch of the same noise. The layout (which clips, where, which noise
// offsets) depends only on --seed and is the same at every SNR; only the gains change. The
// detector is dkws::Listener, exactly what `dkws listen` runs.
//
// Levels: each keyword clip is scaled so that its active speech level (RMS over its loudest 0.5 s)
// is kSpeechRms, and the noise so that its RMS over the whole recording is kSpeechRms /
// 10^(SNR/20). The mix is rounded and clipped to int16, as a microphone's samples would be.
//
// Scoring: keyword i (clip starting at s_i) is hit when a detection of its class has its time (the
// end of the triggering window) in [s_i, s_i + 1 s + tolerance]. Every other detection is a false
// accept: outside all such intervals, of the wrong class, or a second detection of the same
// keyword.
#include <time.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "dkws/audio.hpp"
#include "dkws/config.hpp"
#include "dkws/dataset.hpp"
#include "dkws/dsp.hpp"
#include "dkws/error.hpp"
#include "dkws/model_file.hpp"
#include "dkws/nn/sequential.hpp"
#include "dkws/rng.hpp"
#include "dkws/stream.hpp"
#include "dkws/util.hpp"

namespace fs = std::filesystem;
using namespace dkws;

namespace {

constexpr double kSpeechRms = 3000;  // about -21 dBFS: a close talker
constexpr double kCrossfade = 0.05;  // seconds, at each noise loop point

struct Args {
  fs::path model, data;
  uint64_t seed = 1;
  std::vector<double> snrs = {0, 5, 10, 20};
  DetectorOptions det;
  double tolerance = 1.0;               // seconds after the clip's end
  double gap_min = 1.5, gap_max = 3.5;  // noise between clips, seconds
  double free_minutes = 5;              // keyword-free noise per stream
  int keywords = 0;                     // per SNR; 0 = every test-split keyword clip once
  std::vector<double> sweep = {0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9};  // thresholds, replayed
  fs::path json_out;
  fs::path save_audio;  // when set: each stream as WAV plus its keyword list (TSV)
  bool quiet = false;
};

[[noreturn]] void usage(const std::string& why) {
  std::fprintf(stderr,
               "%s%susage: stream_eval MODEL [--data DIR] [--seed N] [--snr 0,5,10,20]\n"
               "  [--threshold 0.7] [--smooth-ms 750] [--suppress-ms 1000] [--slice-ms 250]\n"
               "  [--tolerance-ms 1000] [--free-minutes 5] [--keywords N] [--sweep 0.3,...,0.9]\n"
               "  [--json FILE] [--save-audio DIR] [--quiet]\n"
               "MODEL is a model file from `dkws train` (see bench/README.md).\n",
               why.c_str(), why.empty() ? "" : "\n");
  std::exit(why.empty() ? 0 : 2);
}

double number(const std::string& flag, const char* v) {
  char* end = nullptr;
  const double d = std::strtod(v, &end);
  if (*v == '\0' || *end != '\0' || !std::isfinite(d)) usage(flag + ": not a number: " + v);
  return d;
}

std::vector<double> list(const std::string& flag, const std::string& s) {
  std::vector<double> out;  // empty for "" (e.g. --sweep "" turns the sweep off)
  for (size_t p = 0; !s.empty() && p <= s.size();) {
    const size_t q = std::min(s.find(',', p), s.size());
    out.push_back(number(flag, s.substr(p, q - p).c_str()));
    p = q + 1;
  }
  return out;
}

Args parse(int argc, char** argv) {
  Args a;
  a.data = default_data_dir();
  for (int i = 1; i < argc; ++i) {
    const std::string f = argv[i];
    if (f == "-h" || f == "--help") usage("");
    if (f == "--quiet" || f == "-q") {
      a.quiet = true;
      continue;
    }
    if (f.rfind("--", 0) != 0) {
      if (!a.model.empty()) usage("more than one MODEL: " + f);
      a.model = f;
      continue;
    }
    if (i + 1 >= argc) usage(f + " needs a value");
    const char* v = argv[++i];
    if (f == "--data")
      a.data = v;
    else if (f == "--json")
      a.json_out = v;
    else if (f == "--save-audio")
      a.save_audio = v;
    else if (f == "--seed")
      a.seed = uint64_t(number(f, v));
    else if (f == "--threshold")
      a.det.threshold = number(f, v);
    else if (f == "--smooth-ms")
      a.det.smooth_seconds = number(f, v) / 1000;
    else if (f == "--suppress-ms")
      a.det.suppress_seconds = number(f, v) / 1000;
    else if (f == "--slice-ms")
      a.det.slice_seconds = number(f, v) / 1000;
    else if (f == "--tolerance-ms")
      a.tolerance = number(f, v) / 1000;
    else if (f == "--free-minutes")
      a.free_minutes = number(f, v);
    else if (f == "--keywords")
      a.keywords = int(number(f, v));
    else if (f == "--snr")
      a.snrs = list(f, v);
    else if (f == "--sweep")
      a.sweep = list(f, v);
    else {
      usage("unknown option " + f);
    }
  }
  if (a.model.empty()) usage("no MODEL given");
  if (a.free_minutes < 0 || a.tolerance < 0 || a.keywords < 0) usage("negative length or count");
  a.det.validate();
  return a;
}

double rms(const std::vector<float>& x) {
  double s = 0;
  for (float v : x) s += double(v) * v;
  return x.empty() ? 0 : std::sqrt(s / double(x.size()));
}

// RMS over the loudest 25 frames of 20 ms (0.5 s): the level of the spoken word, not of the
// silence around it in the 1 s clip.
double active_rms(const std::vector<float>& x, int rate) {
  const size_t frame = size_t(rate / 50);
  std::vector<double> energy;
  for (size_t i = 0; i + frame <= x.size(); i += frame) {
    double e = 0;
    for (size_t j = i; j < i + frame; ++j) e += double(x[j]) * x[j];
    energy.push_back(e);
  }
  std::sort(energy.begin(), energy.end(), std::greater<>());
  const size_t n = std::min<size_t>(25, energy.size());
  double s = 0;
  for (size_t i = 0; i < n; ++i) s += energy[i];
  return n ? std::sqrt(s / double(n * frame)) : 0;
}

struct Keyword {
  int cls;       // model class index
  size_t clip;   // index into the clip list
  double onset;  // seconds from the stream start
};

struct StreamLayout {
  size_t noise;
  double noise_start;  // seconds into the recording where the stream begins
  std::vector<Keyword> keywords;
  double keyword_part;  // seconds; the keyword-free stretch follows
  double total;
};

// The noise recording looped from `start`, n samples, with a raised-cosine crossfade at each loop
// point so the wrap does not click.
std::vector<float> looped_noise(const std::vector<float>& rec, size_t start, size_t n, int rate) {
  const size_t fade = size_t(kCrossfade * rate);
  std::vector<float> out(n);
  size_t pos = start % rec.size();
  for (size_t i = 0; i < n; ++i) {
    const size_t left = rec.size() - pos;  // samples until the loop point
    if (left <= fade) {
      const double w = 0.5 * (1 - std::cos(M_PI * double(fade - left) / double(fade)));
      out[i] = float((1 - w) * rec[pos] + w * rec[fade - left]);
    } else {
      out[i] = rec[pos];
    }
    if (++pos == rec.size()) pos = fade;  // the crossfade already played the first `fade` samples
  }
  return out;
}

struct Tally {
  long keywords = 0, hits = 0, wrong_class = 0, fa_keyword_part = 0, fa_free = 0;
  double keyword_seconds = 0, free_seconds = 0;
  long clipped = 0;
  long aligned_correct = 0;  // offline classification of the window aligned on the clip
  void add(const Tally& o) {
    aligned_correct += o.aligned_correct;
    keywords += o.keywords, hits += o.hits, wrong_class += o.wrong_class;
    fa_keyword_part += o.fa_keyword_part, fa_free += o.fa_free;
    keyword_seconds += o.keyword_seconds, free_seconds += o.free_seconds, clipped += o.clipped;
  }
  double miss() const { return keywords ? 1.0 - double(hits) / double(keywords) : 0; }
  double fa_per_hour_free() const { return free_seconds > 0 ? fa_free * 3600.0 / free_seconds : 0; }
  double fa_per_hour() const {
    const double s = keyword_seconds + free_seconds;
    return s > 0 ? double(fa_keyword_part + fa_free) * 3600.0 / s : 0;
  }
  nlohmann::json json() const {
    return {{"keywords", keywords},
            {"hits", hits},
            {"miss_rate", miss()},
            {"wrong_class", wrong_class},
            {"fa_keyword_part", fa_keyword_part},
            {"fa_free", fa_free},
            {"keyword_seconds", keyword_seconds},
            {"free_seconds", free_seconds},
            {"fa_per_hour_free", fa_per_hour_free()},
            {"fa_per_hour", fa_per_hour()},
            {"clipped_samples", clipped},
            {"aligned_accuracy", keywords ? double(aligned_correct) / double(keywords) : 0}};
  }
};

Tally score(const StreamLayout& L, const std::vector<Detection>& dets, double tolerance) {
  Tally t;
  t.keywords = long(L.keywords.size());
  t.keyword_seconds = L.keyword_part;
  t.free_seconds = L.total - L.keyword_part;
  std::vector<bool> hit(L.keywords.size(), false);
  for (const auto& d : dets) {
    if (d.time >= L.keyword_part) {
      ++t.fa_free;
      continue;
    }
    // Acceptance intervals never overlap (gap_min > tolerance is checked), so at most one matches.
    const Keyword* k = nullptr;
    size_t ki = 0;
    for (size_t i = 0; i < L.keywords.size(); ++i) {
      const double s = L.keywords[i].onset;
      if (d.time >= s && d.time <= s + 1.0 + tolerance) k = &L.keywords[i], ki = i;
    }
    if (k && k->cls == d.class_index && !hit[ki]) {
      hit[ki] = true;
      ++t.hits;
    } else {
      ++t.fa_keyword_part;
      if (k && k->cls != d.class_index) ++t.wrong_class;
    }
  }
  return t;
}

nlohmann::json sweep_json(const Args& a, const std::vector<std::vector<Tally>>& sweep) {
  nlohmann::json out = nlohmann::json::array();
  for (size_t ti = 0; ti < a.sweep.size(); ++ti)
    for (size_t si = 0; si < a.snrs.size(); ++si) {
      auto j = sweep[ti][si].json();
      j["threshold"] = a.sweep[ti];
      j["snr_db"] = a.snrs[si];
      out.push_back(j);
    }
  return out;
}

// How many keywords the model classifies correctly when its 1 s window sits exactly on the clip
// (offline features of the mixed audio): the clip-level accuracy in this noise, which the streaming
// detector cannot exceed by much.
long aligned_correct(SavedModel& model, const std::vector<float>& x, const StreamLayout& L,
                     int rate) {
  long correct = 0;
  nn::Tensor in;
  for (const Keyword& k : L.keywords) {
    const size_t at = size_t(std::llround(k.onset * rate));
    const FeatureMatrix f = compute_features(std::span<const float>(x).subspan(at, size_t(rate)),
                                             model.config.front_end);
    in.resize({1, int(f.data.size())});
    std::copy(f.data.begin(), f.data.end(), in.ptr());
    const nn::Tensor& logits = model.net.forward(in, nn::ForwardContext{false, nullptr});
    const auto best =
        std::max_element(logits.data.begin(), logits.data.end()) - logits.data.begin();
    correct += best == k.cls;
  }
  return correct;
}

// The stream as a WAV file (for `dkws listen` or a listener's ear) and its keywords as
// "onset_seconds<TAB>label" lines.
void save_stream(const fs::path& dir, double snr, const std::string& noise,
                 const std::vector<float>& x, const StreamLayout& L,
                 const std::vector<std::string>& classes, int rate) {
  fs::create_directories(dir);
  const std::string stem = fmt::format("snr{:g}_{}", snr, fs::path(noise).stem().string());
  write_wav(dir / (stem + ".wav"), x, rate);
  std::string tsv = "onset_seconds\tlabel\n";
  for (const Keyword& k : L.keywords)
    tsv += fmt::format("{:.4f}\t{}\n", k.onset, classes[size_t(k.cls)]);
  tsv += fmt::format("# keyword-free from {:.4f} s to {:.4f} s\n", L.keyword_part, L.total);
  write_file_atomic(dir / (stem + ".tsv"), tsv);
}

double cpu_seconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

// CPU microseconds per slice: the streaming front end against recomputing the window offline,
// over the first noise recording (same slices, same windows).
std::pair<double, double> front_end_cost(const FrontEndConfig& fe, const std::vector<float>& x,
                                         int hop) {
  StreamingFrontEnd stream(fe, hop);
  const int win = stream.window_samples();
  const size_t n = std::min<size_t>(x.size() / size_t(hop), 200);
  double sink = 0;
  double t0 = cpu_seconds();
  for (size_t i = 0; i < n; ++i)
    sink += stream.push(std::span<const float>(x).subspan(i * size_t(hop), size_t(hop))).data[0];
  const double streaming = (cpu_seconds() - t0) / double(n) * 1e6;
  t0 = cpu_seconds();
  size_t m = 0;
  for (size_t end = size_t(win); end <= x.size() && m < n; end += size_t(hop), ++m)
    sink += compute_features(std::span<const float>(x).subspan(end - size_t(win), size_t(win)), fe)
                .data[0];
  const double offline = (cpu_seconds() - t0) / double(std::max<size_t>(m, 1)) * 1e6;
  if (sink == 12345.678) std::puts("");  // keeps the work from being optimised away
  return {streaming, offline};
}

int run(const Args& a) {
  SavedModel model = load_model(a.model);
  const int rate = model.config.front_end.sample_rate;
  std::map<std::string, int> class_index;
  for (size_t i = 0; i < model.classes.size(); ++i)
    if (is_keyword_class(model.classes[i])) class_index[model.classes[i]] = int(i);
  if (class_index.empty()) throw Error(a.model.string() + ": the model has no keyword class");

  // Held-out keyword clips: the TEST split's clips of the model's keyword classes.
  const fs::path tsv = a.data / "speech_commands_v2_test" / "splits.tsv";
  const DatasetIndex index = open_dataset(tsv);
  std::vector<std::vector<float>> clips;
  std::vector<int> clip_class;
  for (const Clip& c : index.clips) {
    if (c.split != "test" || !class_index.count(c.label)) continue;
    clips.push_back(load_audio(c.path, {rate, 1.0}));
    clip_class.push_back(class_index[c.label]);
  }
  if (clips.empty()) throw Error(tsv.string() + ": no test-split clip of the model's keywords");
  std::vector<std::string> noise_names;
  std::vector<std::vector<float>> noises;
  for (const auto& e : fs::directory_iterator(a.data / "background_noise"))
    if (e.path().extension() == ".flac" || e.path().extension() == ".wav")
      noise_names.push_back(e.path().filename().string());
  std::sort(noise_names.begin(), noise_names.end());
  for (const auto& n : noise_names)
    noises.push_back(load_audio(a.data / "background_noise" / n, {rate, 0}));
  if (noises.empty()) throw Error((a.data / "background_noise").string() + ": no noise recordings");
  if (a.gap_min <= a.tolerance)
    throw Error("--tolerance-ms must be below the 1.5 s gap between keywords");

  // Layout, shared by every SNR: the keyword clips shuffled and dealt round-robin to the noises.
  Rng rng(a.seed);
  std::vector<size_t> order(clips.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);
  const size_t n_kw = a.keywords > 0 ? std::min(size_t(a.keywords), order.size()) : order.size();
  std::vector<StreamLayout> layouts(noises.size());
  for (size_t n = 0; n < noises.size(); ++n) {
    layouts[n].noise = n;
    layouts[n].noise_start = rng.uniform(0, double(noises[n].size()) / rate);
  }
  std::vector<double> cursor(noises.size(), 0.0);
  for (size_t i = 0; i < n_kw; ++i) {
    const size_t n = i % noises.size();
    cursor[n] += rng.uniform(a.gap_min, a.gap_max);
    layouts[n].keywords.push_back({clip_class[order[i]], order[i], cursor[n]});
    cursor[n] += 1.0;
  }
  for (size_t n = 0; n < noises.size(); ++n) {
    // A tail of noise after the last keyword, so no window or smoothing span of the keyword-free
    // stretch reaches back into a keyword.
    layouts[n].keyword_part = cursor[n] + a.tolerance + a.det.smooth_seconds + 1.5;
    layouts[n].total = layouts[n].keyword_part + a.free_minutes * 60;
  }

  double audio_seconds = 0;
  for (const auto& L : layouts) audio_seconds += L.total;
  audio_seconds *= double(a.snrs.size());
  Progress progress("stream_eval", size_t(audio_seconds * rate), a.quiet);
  size_t done = 0;
  const double cpu0 = cpu_seconds();
  long long windows = 0;

  nlohmann::json results = nlohmann::json::array();
  std::vector<Tally> per_snr(a.snrs.size());
  std::vector<std::vector<Tally>> per_noise(noises.size(), std::vector<Tally>(a.snrs.size()));
  std::vector<std::vector<Tally>> sweep(a.sweep.size(), std::vector<Tally>(a.snrs.size()));
  for (size_t si = 0; si < a.snrs.size(); ++si) {
    const double noise_rms = kSpeechRms / std::pow(10.0, a.snrs[si] / 20);
    for (const auto& L : layouts) {
      const auto& rec = noises[L.noise];
      const size_t n = size_t(std::llround(L.total * rate));
      std::vector<float> x = looped_noise(rec, size_t(L.noise_start * rate), n, rate);
      const double gain = noise_rms / std::max(1e-9, rms(rec));
      for (float& v : x) v = float(v * gain);
      for (const Keyword& k : L.keywords) {
        const auto& clip = clips[k.clip];
        const double g = kSpeechRms / std::max(1.0, active_rms(clip, rate));
        const size_t at = size_t(std::llround(k.onset * rate));
        for (size_t i = 0; i < clip.size() && at + i < x.size(); ++i)
          x[at + i] += float(g * clip[i]);
      }
      long clipped = 0;
      for (float& v : x) {
        const float r = std::round(v);
        clipped += r > 32767 || r < -32768;
        v = std::clamp(r, -32768.f, 32767.f);
      }
      const long aligned = aligned_correct(model, x, L, rate);
      if (!a.save_audio.empty())
        save_stream(a.save_audio, a.snrs[si], noise_names[L.noise], x, L, model.classes, rate);
      Listener listener(model, a.det);
      std::vector<Detection> dets;
      // Slice by slice, keeping every window's scores so other thresholds can be replayed.
      std::vector<std::vector<float>> scores;
      std::vector<double> times;
      const size_t hop = size_t(std::llround(a.det.slice_seconds * rate));
      for (size_t i = 0; i < x.size(); i += hop) {
        listener.feed(std::span<const float>(x).subspan(i, std::min(hop, x.size() - i)), dets);
        if (listener.windows() > long(scores.size())) {
          scores.push_back(listener.last_scores());
          times.push_back(listener.last_time());
        }
        if (i % (hop * 400) == 0) progress.update(done + i);
      }
      listener.finish(dets);
      if (listener.windows() > long(scores.size())) {
        scores.push_back(listener.last_scores());
        times.push_back(listener.last_time());
      }
      for (size_t ti = 0; ti < a.sweep.size(); ++ti) {
        DetectorOptions o = a.det;
        o.threshold = a.sweep[ti];
        DetectionLogic logic(model.classes, o);
        std::vector<Detection> replay;
        for (size_t w = 0; w < scores.size(); ++w)
          if (auto d = logic.update(scores[w], times[w])) replay.push_back(*d);
        sweep[ti][si].add(score(L, replay, a.tolerance));
        // The replay is the Listener's own logic: at its threshold it must agree exactly.
        if (a.sweep[ti] == a.det.threshold && replay.size() != dets.size())
          throw Error("internal error: replayed detections differ from the listener's");
      }
      done += x.size();
      windows += listener.windows();
      Tally t = score(L, dets, a.tolerance);
      t.clipped = clipped;
      t.aligned_correct = aligned;
      per_snr[si].add(t);
      per_noise[L.noise][si].add(t);
      nlohmann::json r = t.json();
      r["snr_db"] = a.snrs[si];
      r["noise"] = noise_names[L.noise];
      results.push_back(r);
    }
  }
  progress.finish();
  const double cpu = cpu_seconds() - cpu0;

  fmt::print("stream_eval: model {} ({} classes, {} keywords), data {}, seed {}\n",
             a.model.string(), model.classes.size(), class_index.size(), a.data.string(), a.seed);
  fmt::print(
      "detector: slice {:.0f} ms, smoothing {:.0f} ms, threshold {:.2f}, suppression {:.0f} ms; "
      "hit = right class within [onset, onset + 1 s + {:.0f} ms]\n",
      a.det.slice_seconds * 1000, a.det.smooth_seconds * 1000, a.det.threshold,
      a.det.suppress_seconds * 1000, a.tolerance * 1000);
  fmt::print(
      "per SNR: {} keyword clips (test split) in {} noises, {:.1f} min with keywords + {:.1f} min "
      "keyword-free\n\n",
      n_kw, noises.size(), per_snr[0].keyword_seconds / 60, per_snr[0].free_seconds / 60);
  fmt::print("{:>6} {:>8} {:>6} {:>7} {:>11} {:>9} {:>9} {:>10} {:>12}\n", "SNR dB", "keywords",
             "hits", "miss %", "wrong class", "FA (kw)", "FA (free)", "FA/h free", "FA/h overall");
  for (size_t si = 0; si < a.snrs.size(); ++si) {
    const Tally& t = per_snr[si];
    fmt::print("{:>6g} {:>8} {:>6} {:>7.1f} {:>11} {:>9} {:>9} {:>10.1f} {:>12.1f} {:>12.1f}\n",
               a.snrs[si], t.keywords, t.hits, 100 * t.miss(), t.wrong_class, t.fa_keyword_part,
               t.fa_free, t.fa_per_hour_free(), t.fa_per_hour(),
               t.keywords ? 100.0 * double(t.aligned_correct) / double(t.keywords) : 0.0);
  }
  fmt::print("\nmiss % / FA per hour on the keyword-free stretch, per noise:\n{:<22}", "noise");
  for (double s : a.snrs) fmt::print(" {:>14}", fmt::format("{:g} dB", s));
  fmt::print("\n");
  for (size_t n = 0; n < noises.size(); ++n) {
    fmt::print("{:<22}", noise_names[n]);
    for (size_t si = 0; si < a.snrs.size(); ++si)
      fmt::print(" {:>14}", fmt::format("{:.1f} / {:.1f}", 100 * per_noise[n][si].miss(),
                                        per_noise[n][si].fa_per_hour_free()));
    fmt::print("\n");
  }
  if (!a.sweep.empty()) {
    fmt::print(
        "\nthreshold sweep (same scores, same smoothing and suppression): miss % / FA per hour "
        "overall\n{:<10}",
        "threshold");
    for (double s : a.snrs) fmt::print(" {:>15}", fmt::format("{:g} dB", s));
    fmt::print("\n");
    for (size_t ti = 0; ti < a.sweep.size(); ++ti) {
      fmt::print("{:<10.2f}", a.sweep[ti]);
      for (size_t si = 0; si < a.snrs.size(); ++si)
        fmt::print(" {:>15}", fmt::format("{:.1f} / {:.1f}", 100 * sweep[ti][si].miss(),
                                          sweep[ti][si].fa_per_hour()));
      fmt::print("\n");
    }
  }
  long clipped = 0;
  for (const auto& t : per_snr) clipped += t.clipped;
  const auto [us_stream, us_offline] = front_end_cost(
      model.config.front_end, noises[0], int(std::llround(a.det.slice_seconds * rate)));
  fmt::print(
      "\nfront end per slice (CPU): streaming {:.0f} us, recomputing the window offline {:.0f} "
      "us\n",
      us_stream, us_offline);
  fmt::print(
      "{:.2f} h of audio, {} windows, {:.1f} s CPU ({:.0f}x real time); {} samples clipped\n",
      audio_seconds / 3600, windows, cpu, audio_seconds / std::max(cpu, 1e-9), clipped);

  if (!a.json_out.empty()) {
    nlohmann::json summary = nlohmann::json::array();
    for (size_t si = 0; si < a.snrs.size(); ++si) {
      auto j = per_snr[si].json();
      j["snr_db"] = a.snrs[si];
      summary.push_back(j);
    }
    const nlohmann::json out = {{"model", a.model.string()},
                                {"seed", a.seed},
                                {"detector",
                                 {{"slice_ms", a.det.slice_seconds * 1000},
                                  {"smooth_ms", a.det.smooth_seconds * 1000},
                                  {"threshold", a.det.threshold},
                                  {"suppress_ms", a.det.suppress_seconds * 1000},
                                  {"tolerance_ms", a.tolerance * 1000}}},
                                {"keywords_per_snr", n_kw},
                                {"free_minutes_per_stream", a.free_minutes},
                                {"per_snr", summary},
                                {"sweep", sweep_json(a, sweep)},
                                {"streams", results}};
    write_file_atomic(a.json_out, out.dump(2) + "\n");
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(parse(argc, argv));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "stream_eval: error: %s\n", e.what());
    return 1;
  }
}
