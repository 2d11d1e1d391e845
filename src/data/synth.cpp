// synthesize_dataset: plans every clip from the seed first (so parallel rendering cannot change
// the result), renders them over all cores, then moves the finished folder into place.
#include "dkws/synth.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cmath>
#include <mutex>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "data/data_internal.hpp"
#include "data/synth_internal.hpp"
#include "dkws/audio.hpp"
#include "dkws/augment.hpp"
#include "dkws/error.hpp"
#include "dkws/rng.hpp"
#include "dkws/util.hpp"

namespace dkws {
namespace fs = std::filesystem;
namespace {

constexpr double kFullScale = 32768.0;
constexpr char kManifest[] = "synth_manifest.json";

struct ClipPlan {
  std::string cls, text, file;
  int voice = -1;  // -1: the noise class
  double tempo = 1, pitch_cents = 0, level_db = 0, snr_db = 0, place = 0;
  uint64_t noise_seed = 0;
};

std::string lower(std::string s) {
  for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Letters, apostrophes, spaces and hyphens only: the text goes to a TTS engine and the folder
// name to the file system.
std::string folder_for(const std::string& phrase) {
  if (phrase.empty() ||
      phrase.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ' -") !=
          std::string::npos)
    throw Error(
        fmt::format("keyword '{}': use letters, spaces, hyphens and apostrophes only", phrase));
  std::string f = lower(phrase);
  std::replace(f.begin(), f.end(), ' ', '_');
  std::erase(f, '\'');
  return f;
}

// White, pink (Paul Kellet's filter) or brown (leaky integrator) noise at unit RMS.
std::vector<float> coloured_noise(size_t n, Rng& rng) {
  const int colour = int(rng.below(3));
  std::vector<float> x(n);
  double b0 = 0, b1 = 0, b2 = 0;
  for (size_t i = 0; i < n; ++i) {
    const double w = rng.normal();
    if (colour == 0) {
      x[i] = float(w);
    } else if (colour == 1) {
      b0 = 0.99765 * b0 + w * 0.0990460;
      b1 = 0.96300 * b1 + w * 0.2965164;
      b2 = 0.57000 * b2 + w * 1.0526913;
      x[i] = float(b0 + b1 + b2 + w * 0.1848);
    } else {
      b0 = 0.98 * b0 + w;
      x[i] = float(b0);
    }
  }
  double p = 0;
  for (float v : x) p += double(v) * v;
  const double scale = p > 0 ? 1.0 / std::sqrt(p / double(n)) : 0.0;
  for (float& v : x) v = float(v * scale);
  return x;
}

std::vector<float> background(size_t n, const NoiseBank& bank, Rng& rng) {
  return bank.empty() ? coloured_noise(n, rng) : bank.crop(n, rng);
}

void scale_to_rms_db(std::vector<float>& x, double db) {
  double p = 0;
  for (float v : x) p += double(v) * v;
  if (p <= 0) return;
  const double g = kFullScale * std::pow(10.0, db / 20.0) / std::sqrt(p / double(x.size()));
  for (float& v : x) v = float(v * g);
}

// The span of `x` above 2% of its peak: TTS output carries silence before and after the word.
std::pair<size_t, size_t> voiced_span(const std::vector<float>& x) {
  float peak = 0;
  for (float v : x) peak = std::max(peak, std::fabs(v));
  const float t = 0.02f * peak;
  size_t a = 0, b = x.size();
  while (a < b && std::fabs(x[a]) <= t) ++a;
  while (b > a && std::fabs(x[b - 1]) <= t) --b;
  return {a, b};
}

std::vector<float> render_clip(const ClipPlan& p, const data::Toolchain& tools,
                               const NoiseBank& bank, const SynthOptions& opt,
                               const fs::path& tmp_stem) {
  const size_t window = size_t(std::llround(opt.window_seconds * opt.sample_rate));
  Rng rng(p.noise_seed);
  std::vector<float> clip(window, 0.0f);
  if (p.voice < 0) {  // noise class: background only, at a random level
    clip = background(window, bank, rng);
    scale_to_rms_db(clip, p.level_db);
  } else {
    const data::Voice& v = tools.voices[size_t(p.voice)];
    double tempo = p.tempo;
    std::vector<float> speech;
    // At most 90% of the window, so placement has room; a long phrase is sped up to fit.
    const size_t limit = size_t(0.9 * double(window));
    for (int attempt = 0; attempt < 3; ++attempt) {
      const auto audio =
          render_utterance(v, p.text, tempo, p.pitch_cents, opt.sample_rate, tmp_stem);
      const auto [a, b] = voiced_span(audio);
      speech.assign(audio.begin() + long(a), audio.begin() + long(b));
      if (speech.size() <= limit) break;
      tempo *= 1.03 * double(speech.size()) / double(limit);
    }
    if (speech.empty()) throw Error(fmt::format("{} said nothing for '{}'", v.name, p.text));
    if (speech.size() > limit) speech.resize(limit);
    const size_t start = size_t(p.place * double(window - speech.size()));
    std::copy(speech.begin(), speech.end(), clip.begin() + long(start));
    float peak = 0;
    for (float x : clip) peak = std::max(peak, std::fabs(x));
    const float g = float(kFullScale * std::pow(10.0, p.level_db / 20.0) / peak);
    for (float& x : clip) x *= g;
    mix_noise_at_snr(clip, background(window, bank, rng), p.snr_db);
  }
  for (float& x : clip) x = std::clamp(x, -32768.0f, 32767.0f);
  return clip;
}

std::vector<ClipPlan> plan_clips(
    const SynthOptions& opt,
    const std::vector<std::pair<std::string, std::vector<std::string>>>& classes, size_t n_voices) {
  std::vector<ClipPlan> plans;
  for (size_t c = 0; c < classes.size(); ++c) {
    const auto& [name, texts] = classes[c];
    Rng rng(opt.seed * 0x9E3779B97F4A7C15ull + c * 0x632BE59BD9B4E019ull + 1);
    std::vector<size_t> order(n_voices);
    for (size_t i = 0; i < n_voices; ++i) order[i] = i;
    for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);
    std::vector<int> uses(n_voices, 0);
    for (int i = 0; i < opt.per_class; ++i) {
      ClipPlan p;
      p.cls = name;
      p.noise_seed = rng.next_u64();
      if (texts.empty()) {
        p.level_db = rng.uniform() < 0.1 ? rng.uniform(-80, -60) : rng.uniform(-50, -15);
        p.file = fmt::format("{}/noise-{}_nohash_{}.wav", name, i % 50, i / 50);
      } else {
        const size_t v = order[size_t(i) % n_voices];
        p.voice = int(v);
        p.text = texts[size_t(i) % texts.size()];
        p.tempo = rng.uniform(0.8, 1.25);
        p.pitch_cents = rng.uniform(-300, 300);
        p.level_db = rng.uniform(-12, -1);  // peak, dBFS
        p.snr_db = rng.uniform(opt.snr_lo, opt.snr_hi);
        p.place = rng.uniform();
        // The speaker id is filled in once the voice list is known; the counter is per voice.
        p.file = fmt::format("{}/{{}}_nohash_{}.wav", name, uses[v]++);
      }
      plans.push_back(std::move(p));
    }
  }
  return plans;
}

}  // namespace

std::vector<std::string> default_unknown_words() {
  return {"yes",    "no",   "up",  "down",     "left",    "right",  "on",    "off",   "stop",
          "go",     "zero", "one", "two",      "three",   "four",   "five",  "six",   "seven",
          "eight",  "nine", "bed", "bird",     "cat",     "dog",    "happy", "house", "marvin",
          "sheila", "tree", "wow", "backward", "forward", "follow", "learn", "visual"};
}

SynthSummary synthesize_dataset(const SynthOptions& opt) {
  const auto t0 = std::chrono::steady_clock::now();
  if (opt.keywords.empty()) throw Error("synth: give at least one keyword (--keywords yes)");
  if (opt.per_class < 1) throw Error("synth: --per-class must be >= 1");
  if (!(opt.snr_lo <= opt.snr_hi)) throw Error("synth: --snr-db must be lo,hi with lo <= hi");
  if (opt.out.empty()) throw Error("synth: --out is required");
  std::error_code ec;
  if (fs::exists(opt.out, ec)) {
    if (!fs::is_directory(opt.out))
      throw Error(fmt::format("{}: exists and is not a folder", opt.out.string()));
    if (!fs::is_empty(opt.out) && !fs::exists(opt.out / kManifest))
      throw Error(fmt::format("{}: not empty and not made by dkws data synth; choose a new folder",
                              opt.out.string()));
  }

  std::vector<std::pair<std::string, std::vector<std::string>>> classes;
  std::vector<std::string> keyword_lower;
  for (const auto& k : opt.keywords) {
    const std::string f = folder_for(k);
    if (f == "unknown" || f == "noise")
      throw Error(fmt::format("keyword '{}' clashes with a class dkws makes itself", k));
    for (const auto& [name, t] : classes)
      if (name == f) throw Error(fmt::format("keyword '{}' given twice", k));
    classes.push_back({f, {k}});
    keyword_lower.push_back(lower(k));
  }
  if (opt.unknown) {
    std::vector<std::string> words;
    for (const auto& w : opt.unknown_words.empty() ? default_unknown_words() : opt.unknown_words) {
      folder_for(w);  // validates the text
      if (std::find(keyword_lower.begin(), keyword_lower.end(), lower(w)) == keyword_lower.end())
        words.push_back(w);
    }
    if (words.empty()) throw Error("synth: no unknown words left once the keywords are removed");
    classes.push_back({"unknown", words});
  }
  if (opt.noise_class) classes.push_back({"noise", {}});

  const data::Toolchain tools = data::probe_toolchain();
  NoiseBank bank;
  if (!opt.noise_dir.empty()) bank = NoiseBank(opt.noise_dir, opt.sample_rate);

  std::vector<ClipPlan> plans = plan_clips(opt, classes, tools.voices.size());
  for (ClipPlan& p : plans)
    if (p.voice >= 0)
      p.file = fmt::format(fmt::runtime(p.file), tools.voices[size_t(p.voice)].speaker);

  // Built beside the destination and renamed into place, so a failed run leaves nothing half-made.
  const fs::path out = fs::absolute(opt.out).lexically_normal();
  const fs::path tmp =
      out.parent_path() / fmt::format(".{}.tmp.{}", out.filename().string(), ::getpid());
  fs::remove_all(tmp, ec);
  for (const auto& [name, t] : classes) fs::create_directories(tmp / name);
  fs::create_directories(tmp / ".render");

  Progress progress("synth", plans.size(), opt.quiet);
  std::mutex progress_mutex;
  std::atomic<size_t> done{0};
  try {
    data::parallel_for(plans.size(), [&](size_t i) {
      const auto audio =
          render_clip(plans[i], tools, bank, opt, tmp / ".render" / std::to_string(i));
      write_wav(tmp / plans[i].file, audio, opt.sample_rate);
      const size_t n = ++done;
      std::lock_guard lock(progress_mutex);
      progress.update(n);
    });
  } catch (...) {
    fs::remove_all(tmp, ec);
    throw;
  }
  progress.finish();
  fs::remove_all(tmp / ".render", ec);

  SynthSummary summary;
  nlohmann::json clip_list = nlohmann::json::array();
  std::vector<std::string> speakers;
  for (const ClipPlan& p : plans) {
    nlohmann::json c = {{"file", p.file}, {"class", p.cls}};
    if (p.voice >= 0) {
      const data::Voice& v = tools.voices[size_t(p.voice)];
      speakers.push_back(v.speaker);
      c.update({{"text", p.text},
                {"engine", v.engine},
                {"voice", v.name},
                {"tempo", p.tempo},
                {"pitch_cents", p.pitch_cents},
                {"peak_dbfs", p.level_db},
                {"snr_db", p.snr_db}});
    } else {
      c["rms_dbfs"] = p.level_db;
    }
    clip_list.push_back(std::move(c));
  }
  std::sort(speakers.begin(), speakers.end());
  speakers.erase(std::unique(speakers.begin(), speakers.end()), speakers.end());
  nlohmann::json class_json = nlohmann::json::array();
  for (const auto& [name, texts] : classes) {
    class_json.push_back({{"name", name}, {"texts", texts}, {"clips", opt.per_class}});
    summary.classes.push_back(name);
    summary.counts.push_back(size_t(opt.per_class));
  }
  nlohmann::json voices = nlohmann::json::array();
  for (const auto& v : tools.voices)
    voices.push_back({{"engine", v.engine}, {"voice", v.name}, {"speaker", v.speaker}});
  const nlohmann::json manifest = {
      {"format", "dkws-synth"},
      {"version", 1},
      {"synthetic", true},
      {"note",
       "SYNTHETIC DATA: every clip is text-to-speech (espeak-ng, flite) with sox rate/pitch "
       "changes and added noise, not a recording of a person. Speaker = TTS voice."},
      {"seed", opt.seed},
      {"per_class", opt.per_class},
      {"sample_rate", opt.sample_rate},
      {"window_seconds", opt.window_seconds},
      {"snr_db", {opt.snr_lo, opt.snr_hi}},
      {"noise", opt.noise_dir.empty() ? std::string("generated white/pink/brown noise")
                                      : opt.noise_dir.string()},
      {"generators",
       {{"espeak-ng", tools.espeak_version},
        {"flite", tools.flite_version},
        {"sox", tools.sox_version}}},
      {"classes", class_json},
      {"voices", voices},
      {"speakers_used", speakers.size()},
      {"clips", clip_list}};
  write_file_atomic(tmp / kManifest, manifest.dump(1) + "\n");
  fs::remove_all(out, ec);
  fs::rename(tmp, out, ec);
  if (ec) {
    fs::remove_all(tmp);
    throw Error(
        fmt::format("{}: cannot move the dataset into place: {}", out.string(), ec.message()));
  }
  summary.voices = speakers.size();
  summary.manifest = out / kManifest;
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return summary;
}

}  // namespace dkws
