// The tutorial-shaped kw3 task: yes / unknown / noise, built from the kws12 data so it keeps the
// same speaker split. Unknown samples every other word evenly (round-robin over words) so no one
// word dominates; noise adds crops of long recordings, cut by time per split so no stretch of a
// recording is in two splits.
#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/core.h>

#include "data/data_internal.hpp"
#include "dkws/audio.hpp"
#include "dkws/rng.hpp"

namespace dkws::data {
namespace fs = std::filesystem;
namespace {

const char* const kSplits[] = {"train", "val", "test"};

template <class T>
void shuffle(std::vector<T>& v, Rng& rng) {
  for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[rng.below(i)]);
}

// The word a clip says: its folder, or for _unknown_ the file-name prefix ("backward_...").
std::string word_of(const Clip& c) {
  if (c.label != "_unknown_") return c.label;
  const std::string name = c.path.filename().string();
  return name.substr(0, name.find('_'));
}

// Round-robin over words (in shuffled order), each word's clips shuffled: as even as the supply
// of each word allows, `target` clips in all.
std::vector<size_t> balanced_sample(std::map<std::string, std::vector<size_t>> by_word,
                                    size_t target, Rng& rng) {
  std::vector<std::vector<size_t>*> words;
  for (auto& [w, v] : by_word) {
    shuffle(v, rng);
    words.push_back(&v);
  }
  shuffle(words, rng);
  std::vector<size_t> picked;
  for (size_t round = 0; picked.size() < target; ++round) {
    bool any = false;
    for (auto* v : words) {
      if (round < v->size() && picked.size() < target) {
        picked.push_back((*v)[round]);
        any = true;
      }
    }
    if (!any) break;
  }
  std::sort(picked.begin(), picked.end());
  return picked;
}

struct NoiseFile {
  fs::path path;
  double seconds;
};

std::vector<NoiseFile> list_noise(const fs::path& dir, std::vector<DataProblem>& problems) {
  std::vector<NoiseFile> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    problems.push_back(
        {"noise", dir.string(), "no background noise folder; noise is _silence_ only"});
    return out;
  }
  std::vector<fs::path> paths;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.is_regular_file() && is_audio_file(e.path())) paths.push_back(e.path());
  std::sort(paths.begin(), paths.end());
  for (const auto& p : paths) {
    try {
      out.push_back({p, probe_audio(p).seconds()});
    } catch (const std::exception& e) {
      problems.push_back({"noise", p.string(), fmt::format("{}, skipped", e.what())});
    }
  }
  return out;
}

// `count` non-overlapping crops from the split's time range of the recordings, spread evenly over
// files; which 1 s slots are used is drawn from rng.
std::vector<Clip> noise_crops(const std::vector<NoiseFile>& files, int split, size_t count,
                              double crop, Rng& rng) {
  static const double kBounds[] = {0.0, 0.6, 0.8, 1.0};
  std::vector<std::vector<double>> slots(files.size());
  for (size_t f = 0; f < files.size(); ++f) {
    const double begin = kBounds[split] * files[f].seconds,
                 end = kBounds[split + 1] * files[f].seconds;
    for (int k = 0; begin + (k + 1) * crop <= end; ++k) slots[f].push_back(begin + k * crop);
    shuffle(slots[f], rng);
  }
  std::vector<size_t> take(files.size(), 0);
  for (size_t placed = 0, f = 0, idle = 0; placed < count && idle < files.size();
       f = (f + 1) % files.size()) {
    if (take[f] < slots[f].size()) {
      ++take[f];
      ++placed;
      idle = 0;
    } else {
      ++idle;
    }
  }
  std::vector<Clip> out;
  for (size_t f = 0; f < files.size(); ++f) {
    std::vector<double> chosen(slots[f].begin(), slots[f].begin() + long(take[f]));
    std::sort(chosen.begin(), chosen.end());
    for (double t : chosen) out.push_back({files[f].path, "noise", kSplits[split], "", t, crop});
  }
  return out;
}

}  // namespace

TaskClips kw3_clips(const DatasetIndex& sc, const fs::path& noise_dir, uint64_t seed,
                    double crop_seconds) {
  TaskClips t;
  t.classes = {"yes", "unknown", "noise"};
  const std::vector<NoiseFile> noise = list_noise(noise_dir, t.problems);
  Rng base(seed);
  for (int s = 0; s < 3; ++s) {
    Rng rng = base.split();  // one stream per split, so one split's draws never shift another's
    std::vector<size_t> yes, silence;
    std::map<std::string, std::vector<size_t>> others;
    for (size_t i = 0; i < sc.clips.size(); ++i) {
      const Clip& c = sc.clips[i];
      if (c.split != kSplits[s]) continue;
      if (c.label == "yes") {
        yes.push_back(i);
      } else if (c.label == "_silence_") {
        silence.push_back(i);
      } else {
        others[word_of(c)].push_back(i);
      }
    }
    auto add = [&](const Clip& c, int label) {
      t.clips.push_back(c);
      t.clips.back().label = t.classes[size_t(label)];
      t.labels.push_back(label);
    };
    for (size_t i : yes) add(sc.clips[i], 0);
    for (size_t i : balanced_sample(others, yes.size(), rng)) add(sc.clips[i], 1);
    for (size_t i : silence) add(sc.clips[i], 2);
    // All _silence_ clips are kept; crops fill noise up to the size of yes and make at least a
    // quarter of it, so the class always holds real recordings of everyday noise.
    const size_t crops = std::max(yes.size() > silence.size() ? yes.size() - silence.size() : 0,
                                  (yes.size() + 3) / 4);
    const auto cut =
        noise.empty() ? std::vector<Clip>{} : noise_crops(noise, s, crops, crop_seconds, rng);
    if (!noise.empty() && cut.size() < crops) {
      t.problems.push_back({"noise", noise_dir.string(),
                            fmt::format("only {} of {} noise crops fit the {} range", cut.size(),
                                        crops, kSplits[s])});
    }
    for (const Clip& c : cut) add(c, 2);
    t.notes.push_back(fmt::format("  kw3 {}: noise = {} _silence_ clips + {} crops of {}",
                                  kSplits[s], silence.size(), cut.size(), noise_dir.string()));
  }
  return t;
}

}  // namespace dkws::data
