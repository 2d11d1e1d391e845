// Feature extraction with an on-disk cache. One cache file per (task, front end, data folder)
// holds every row plus a per-row key, so a warm load is one read; keys hash the clip's bytes,
// its crop and the front-end config, so an edited file or changed parameter is recomputed rather
// than served stale. Writes go through a temp file + rename, so a crash never leaves half a cache.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <map>
#include <mutex>
#include <unordered_map>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "data/data_internal.hpp"
#include "dkws/audio.hpp"
#include "dkws/error.hpp"
#include "dkws/util.hpp"

namespace dkws::data {
namespace fs = std::filesystem;
namespace {

constexpr char kMagic[8] = {'D', 'K', 'W', 'S', 'F', 'E', 'A', 'T'};
constexpr uint32_t kVersion = 1;
// Bump when the way audio becomes features changes in a way the config JSON does not capture.
constexpr uint64_t kPipelineVersion = 1;

struct CacheTable {
  size_t dim = 0;
  std::vector<uint64_t> keys;
  std::vector<float> rows;
  std::unordered_map<uint64_t, size_t> index;
};

template <class T>
void put(std::string& out, const T& v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
}

// Returns an empty table (and a reason) when the file is absent, truncated or for other settings.
CacheTable read_cache(const fs::path& file, const std::string& fe_json, size_t dim,
                      std::string& why) {
  CacheTable t;
  t.dim = dim;
  std::error_code ec;
  if (file.empty() || !fs::exists(file, ec)) return t;
  std::string bytes;
  try {
    bytes = read_file(file);
  } catch (const std::exception& e) {
    why = e.what();
    return t;
  }
  const size_t fixed = sizeof kMagic + 4 + 4 + 8 + 8;
  if (bytes.size() < fixed + 8 || std::memcmp(bytes.data(), kMagic, 8) != 0) {
    why = "not a dkws feature cache";
    return t;
  }
  uint32_t version, file_dim;
  uint64_t count, json_len, checksum;
  const char* p = bytes.data() + 8;
  std::memcpy(&version, p, 4);
  std::memcpy(&file_dim, p + 4, 4);
  std::memcpy(&count, p + 8, 8);
  std::memcpy(&json_len, p + 16, 8);
  const size_t body = bytes.size() - 8;
  std::memcpy(&checksum, bytes.data() + body, 8);
  if (version != kVersion || file_dim != dim || json_len > body - fixed ||
      (body - fixed - json_len) != count * (8 + dim * sizeof(float)) ||
      bytes.compare(fixed, json_len, fe_json) != 0 || xxh64(bytes.data(), body) != checksum) {
    why = "stale or damaged";
    return t;
  }
  const char* k = bytes.data() + fixed + json_len;
  t.keys.resize(count);
  t.rows.resize(count * dim);
  std::memcpy(t.keys.data(), k, count * 8);
  std::memcpy(t.rows.data(), k + count * 8, t.rows.size() * sizeof(float));
  for (size_t i = 0; i < count; ++i) t.index.emplace(t.keys[i], i);
  return t;
}

void write_cache(const fs::path& file, const std::string& fe_json, const CacheTable& t) {
  std::string out;
  out.reserve(64 + fe_json.size() + t.keys.size() * (8 + t.dim * 4));
  out.append(kMagic, 8);
  put(out, kVersion);
  put(out, uint32_t(t.dim));
  put(out, uint64_t(t.keys.size()));
  put(out, uint64_t(fe_json.size()));
  out += fe_json;
  out.append(reinterpret_cast<const char*>(t.keys.data()), t.keys.size() * 8);
  out.append(reinterpret_cast<const char*>(t.rows.data()), t.rows.size() * sizeof(float));
  put(out, xxh64(out));
  write_file_atomic(file, out);
}

uint64_t clip_key(uint64_t content, const Clip& c, const std::string& fe_json) {
  std::string k;
  put(k, kPipelineVersion);
  put(k, content);
  put(k, c.offset_seconds);
  put(k, c.length_seconds);
  k += fe_json;
  return xxh64(k);
}

std::vector<float> clip_audio(const Clip& c, const FrontEndConfig& fe,
                              const std::map<fs::path, std::vector<float>>& whole) {
  if (c.length_seconds <= 0) return load_audio(c.path, {fe.sample_rate, fe.window_seconds});
  const auto& src = whole.at(c.path);
  const size_t begin =
      std::min(src.size(), size_t(std::llround(c.offset_seconds * fe.sample_rate)));
  const size_t len = size_t(std::llround(c.length_seconds * fe.sample_rate));
  std::vector<float> out(src.begin() + begin, src.begin() + std::min(src.size(), begin + len));
  if (out.empty())
    throw Error(
        fmt::format("{}: crop at {} s lies past the end", c.path.string(), c.offset_seconds));
  fit_to_length(out, size_t(std::llround(fe.window_seconds * fe.sample_rate)));
  return out;
}

}  // namespace

fs::path cache_file_for(const fs::path& cache_dir, const std::string& task,
                        const fs::path& data_dir, const FrontEndConfig& fe) {
  std::error_code ec;
  const fs::path abs = fs::weakly_canonical(fs::absolute(data_dir), ec);
  const std::string id = fe.to_json().dump() + "\n" + (ec ? data_dir : abs).string();
  return cache_dir / fmt::format("{}-{:016x}.feat", task, xxh64(id));
}

ExtractResult extract_features(const std::vector<Clip>& clips, const FrontEndConfig& fe,
                               const fs::path& cache_file, bool quiet,
                               const AudioTransform* transform) {
  ExtractResult r;
  const std::string fe_json = fe.to_json().dump();
  const size_t dim = size_t(fe.frames()) * size_t(fe.coeffs());

  // Content hashes, once per file (noise crops share their source file).
  std::map<fs::path, size_t> file_slot;
  std::vector<fs::path> files;
  for (const Clip& c : clips)
    if (file_slot.emplace(c.path, files.size()).second) files.push_back(c.path);
  std::vector<uint64_t> content(files.size());
  std::vector<std::string> hash_error(files.size());
  parallel_for(files.size(), [&](size_t i) {
    try {
      content[i] = hash_file(files[i]);
    } catch (const std::exception& e) {
      hash_error[i] = e.what();
    }
  });

  std::string why;
  CacheTable cache = read_cache(cache_file, fe_json, dim, why);
  if (!why.empty()) r.problems.push_back({"cache", cache_file.string(), why + ", recomputing"});

  // Resolve each clip: failed hash -> problem, cached -> row index, else compute.
  std::vector<uint64_t> keys(clips.size());
  std::vector<long> cached_row(clips.size(), -1);
  std::vector<size_t> todo;
  std::vector<std::string> errors(clips.size());
  for (size_t i = 0; i < clips.size(); ++i) {
    const size_t f = file_slot.at(clips[i].path);
    if (!hash_error[f].empty()) {
      errors[i] = hash_error[f];
      continue;
    }
    keys[i] = clip_key(content[f], clips[i], fe_json);
    if (transform) keys[i] = xxh64(&keys[i], sizeof keys[i], transform->salt(i));
    auto it = cache.index.find(keys[i]);
    if (it != cache.index.end()) {
      cached_row[i] = long(it->second);
    } else {
      todo.push_back(i);
    }
  }

  // Long recordings that crops come from are decoded once, not once per crop.
  std::map<fs::path, std::vector<float>> whole;
  for (size_t i : todo)
    if (clips[i].length_seconds > 0) whole.emplace(clips[i].path, std::vector<float>{});
  std::vector<fs::path> whole_paths;
  for (auto& [p, v] : whole) whole_paths.push_back(p);
  std::vector<std::string> whole_error(whole_paths.size());
  parallel_for(whole_paths.size(), [&](size_t i) {
    try {
      whole.at(whole_paths[i]) = load_audio(whole_paths[i], {fe.sample_rate, 0});
    } catch (const std::exception& e) {
      whole_error[i] = e.what();
    }
  });
  for (size_t i = 0; i < whole_paths.size(); ++i)
    if (!whole_error[i].empty()) whole.erase(whole_paths[i]);

  std::vector<float> computed(todo.size() * dim);
  std::vector<char> ok(todo.size(), 0);
  Progress progress("features", todo.size(), quiet || todo.empty());
  std::mutex progress_mutex;
  std::atomic<size_t> done{0};
  parallel_for(todo.size(), [&](size_t t) {
    const Clip& c = clips[todo[t]];
    try {
      if (c.length_seconds > 0 && !whole.count(c.path)) {
        throw Error(fmt::format("{}: cannot decode source recording", c.path.string()));
      }
      std::vector<float> audio = clip_audio(c, fe, whole);
      if (transform) transform->apply(todo[t], keys[todo[t]], audio);
      const FeatureMatrix m = compute_features(audio, fe);
      if (m.data.size() != dim) {
        throw Error(
            fmt::format("{}: {} feature values, expected {}", c.path.string(), m.data.size(), dim));
      }
      std::copy(m.data.begin(), m.data.end(), computed.begin() + t * dim);
      ok[t] = 1;
    } catch (const std::exception& e) {
      errors[todo[t]] = e.what();
    }
    const size_t n = ++done;
    if (n % 64 == 0 || n == todo.size()) {
      std::lock_guard lock(progress_mutex);
      progress.update(n);
    }
  });
  progress.finish();

  // Assemble rows in clip order; a clip either came from the cache or was computed here.
  std::vector<long> computed_slot(clips.size(), -1);
  for (size_t t = 0; t < todo.size(); ++t)
    if (ok[t]) computed_slot[todo[t]] = long(t);
  for (size_t i = 0; i < clips.size(); ++i) {
    const float* src = cached_row[i] >= 0      ? cache.rows.data() + size_t(cached_row[i]) * dim
                       : computed_slot[i] >= 0 ? computed.data() + size_t(computed_slot[i]) * dim
                                               : nullptr;
    if (!src) {
      r.problems.push_back({"unreadable", clips[i].path.string(), errors[i] + ", skipped"});
      continue;
    }
    r.kept.push_back(i);
    r.rows.insert(r.rows.end(), src, src + dim);
    (cached_row[i] >= 0 ? r.from_cache : r.computed) += 1;
  }

  if (r.computed > 0 && !cache_file.empty()) {
    // Current rows first, then older rows (other seeds/subsets) while the file stays <= 2x.
    CacheTable out;
    out.dim = dim;
    for (size_t k = 0; k < r.kept.size(); ++k) {
      if (out.index.emplace(keys[r.kept[k]], out.keys.size()).second) {
        out.keys.push_back(keys[r.kept[k]]);
        out.rows.insert(out.rows.end(), r.rows.begin() + k * dim, r.rows.begin() + (k + 1) * dim);
      }
    }
    const size_t limit = 2 * out.keys.size();
    for (size_t j = 0; j < cache.keys.size() && out.keys.size() < limit; ++j) {
      if (out.index.emplace(cache.keys[j], out.keys.size()).second) {
        out.keys.push_back(cache.keys[j]);
        out.rows.insert(out.rows.end(), cache.rows.begin() + j * dim,
                        cache.rows.begin() + (j + 1) * dim);
      }
    }
    try {
      // The temp name is per process, so threads of one process (a sweep loading a task per
      // trial) must not write the same cache file at once.
      static std::mutex write_mutex;
      std::lock_guard lock(write_mutex);
      write_cache(cache_file, fe_json, out);
    } catch (const std::exception& e) {
      r.problems.push_back({"cache", cache_file.string(), fmt::format("not saved: {}", e.what())});
    }
  }
  return r;
}

}  // namespace dkws::data
