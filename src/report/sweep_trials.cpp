// Reading SWEEP_DIR/trials.json (written by `dkws sweep`) into SweepTrials, checking every key the
// analysis relies on so that a malformed export fails with one line naming the trial and key.
#include <algorithm>

#include <fmt/core.h>

#include "dkws/error.hpp"
#include "dkws/sweep_analysis.hpp"
#include "dkws/util.hpp"

namespace dkws {
namespace {

using nlohmann::json;

const json& need(const json& obj, const char* key, const std::string& where) {
  auto it = obj.find(key);
  if (it == obj.end()) throw Error(fmt::format("{}: missing key '{}'", where, key));
  return *it;
}

double number(const json& obj, const char* key, const std::string& where) {
  const json& v = need(obj, key, where);
  if (!v.is_number()) throw Error(fmt::format("{}: key '{}' must be a number", where, key));
  return v.get<double>();
}

// Failed trials may carry null metrics; done ones may not.
double metric(const json& obj, const char* key, const std::string& where, bool required) {
  auto it = obj.find(key);
  if (!required && (it == obj.end() || it->is_null())) return 0;
  return number(obj, key, where);
}

std::optional<double> optional_number(const json& obj, const char* key, const std::string& where) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::nullopt;
  if (!it->is_number())
    throw Error(fmt::format("{}: key '{}' must be a number or null", where, key));
  return it->get<double>();
}

std::string text(const json& obj, const char* key, const std::string& where) {
  const json& v = need(obj, key, where);
  if (!v.is_string()) throw Error(fmt::format("{}: key '{}' must be a string", where, key));
  return v.get<std::string>();
}

}  // namespace

SweepTrials parse_sweep_trials(const json& doc, const std::string& where) {
  if (!doc.is_object()) throw Error(where + ": not a JSON object");
  if (doc.value("format", "") != "dkws-sweep-trials")
    throw Error(where + ": key 'format' must be \"dkws-sweep-trials\"");
  if (doc.value("version", 0) != 1) throw Error(where + ": unsupported key 'version' (expected 1)");
  SweepTrials out;
  out.sweep = doc.value("sweep", json::object());
  if (!out.sweep.is_object()) throw Error(where + ": key 'sweep' must be an object");
  for (const auto& a : out.sweep.value("arms", json::array()))
    if (a.is_string()) out.arms.push_back(a.get<std::string>());
  for (const auto& s : out.sweep.value("seeds", json::array()))
    if (s.is_number_integer()) out.seeds.push_back(s.get<int64_t>());
  const json& trials = need(doc, "trials", where);
  if (!trials.is_array()) throw Error(where + ": key 'trials' must be an array");
  std::vector<int64_t> ids;
  for (size_t i = 0; i < trials.size(); ++i) {
    const json& j = trials[i];
    const std::string w = fmt::format("{}: trials[{}]", where, i);
    if (!j.is_object()) throw Error(w + ": not an object");
    SweepTrial t;
    t.trial_id = int64_t(number(j, "trial_id", w));
    t.config_id = int64_t(number(j, "config_id", w));
    t.seed = int64_t(number(j, "seed", w));
    t.arm = text(j, "arm", w);
    t.status = text(j, "status", w);
    if (t.status != "done" && t.status != "failed")
      throw Error(w + ": key 'status' must be \"done\" or \"failed\"");
    const bool done = t.done();
    if (auto e = j.find("error"); e != j.end() && e->is_string()) t.error = e->get<std::string>();
    if (auto h = j.find("hparams"); h != j.end() && h->is_object()) t.hparams = *h;
    t.val_acc = metric(j, "val_acc", w, done);
    t.test_acc = metric(j, "test_acc", w, done);
    t.params = metric(j, "params", w, done);
    t.params_base = metric(j, "params_base", w, false);
    t.dendrites = int(metric(j, "dendrites", w, false));
    t.epochs = int(metric(j, "epochs", w, false));
    t.attempts = int(metric(j, "attempts", w, false));
    if (auto r = j.find("round"); r != j.end()) {
      if (!r->is_number_integer() || r->get<int>() < 0)
        throw Error(w + ": key 'round' must be a non-negative integer");
      t.round = r->get<int>();
    }
    t.train_seconds = metric(j, "train_seconds", w, false);
    t.int8_bytes = optional_number(j, "int8_bytes", w);
    t.int8_test_acc = optional_number(j, "int8_test_acc", w);
    if (auto r = j.find("run_dir"); r != j.end() && r->is_string())
      t.run_dir = r->get<std::string>();
    if (auto c = j.find("clips"); c != j.end() && !c->is_null()) {
      if (!c->is_object()) throw Error(w + ": key 'clips' must be an object {val, test} or null");
      if (auto v = c->find("val"); v != c->end() && !v->is_null())
        t.val_clips = parse_clip_bits(*v, w + ": clips.val");
      if (auto v = c->find("test"); v != c->end() && !v->is_null())
        t.test_clips = parse_clip_bits(*v, w + ": clips.test");
    }
    if (done && (t.val_acc < 0 || t.val_acc > 1 || t.test_acc < 0 || t.test_acc > 1))
      throw Error(w + ": keys 'val_acc'/'test_acc' must be fractions in [0, 1]");
    if (done && t.params <= 0) throw Error(w + ": key 'params' must be positive");
    ids.push_back(t.trial_id);
    if (std::find(out.arms.begin(), out.arms.end(), t.arm) == out.arms.end())
      out.arms.push_back(t.arm);
    if (std::find(out.seeds.begin(), out.seeds.end(), t.seed) == out.seeds.end())
      out.seeds.push_back(t.seed);
    out.trials.push_back(std::move(t));
  }
  std::sort(ids.begin(), ids.end());
  if (auto d = std::adjacent_find(ids.begin(), ids.end()); d != ids.end())
    throw Error(fmt::format("{}: duplicate trial_id {}", where, *d));
  return out;
}

SweepTrials load_sweep_trials(const std::filesystem::path& trials_json) {
  if (!std::filesystem::exists(trials_json))
    throw Error(trials_json.string() + ": no such file (is this a `dkws sweep` folder?)");
  json doc;
  try {
    doc = json::parse(read_file(trials_json));
  } catch (const json::exception& e) {
    throw Error(fmt::format("{}: invalid JSON: {}", trials_json.string(), e.what()));
  }
  return parse_sweep_trials(doc, trials_json.string());
}

}  // namespace dkws
