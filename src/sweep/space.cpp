// Search space files: parsing with errors that name the key, and applying sampled values to a run
// config. Every choice (and both ends of every range) is applied to the base config at parse time,
// so a value the trainer would reject is reported before any trial runs.
#include <cmath>
#include <fstream>
#include <map>

#include <fmt/core.h>

#include "dkws/error.hpp"
#include "dkws/rng.hpp"
#include "dkws/sweep.hpp"

namespace dkws::sweep {
namespace {

using nlohmann::json;

// The paper's names for the sweepable settings; any "section.key" of a run config works too.
const std::map<std::string, std::string>& aliases() {
  static const std::map<std::string, std::string> m = {
      {"dropout", "model.dropout"},
      {"num_conv", "model.num_conv"},
      {"num_linear", "model.num_linear"},
      {"width", "model.width"},
      {"growth", "model.growth"},
      {"noise", "model.noise"},
      {"max_norm", "model.max_norm"},
      {"lr", "train.lr"},
      {"batch_size", "train.batch_size"},
      {"epochs", "train.epochs"},
      {"n_epochs_to_switch", "dendrites.n_epochs_to_switch"},
      {"p_epochs_to_switch", "dendrites.p_epochs_to_switch"},
      {"p_max_epochs", "dendrites.p_max_epochs"},
      {"max_dendrites", "dendrites.max_dendrites"},
      {"max_dendrite_tries", "dendrites.max_dendrite_tries"},
      {"thresholds", "dendrites.thresholds"},
      {"init_multiplier", "dendrites.init_multiplier"},
      {"activation", "dendrites.activation"},
      {"dendrite_layers", "dendrites.layers"},
      {"candidates", "dendrites.candidates"}};
  return m;
}

// Keys the sweep itself owns: sampling them would break the matched design.
bool reserved(const std::string& key) {
  return key == "dendrites.mode" || key == "dendrites.restart_only" || key == "train.seed" ||
         key == "task" || key == "data_dir";
}

std::string resolve_key(const std::string& name, const std::string& src) {
  const auto it = aliases().find(name);
  std::string key = it != aliases().end() ? it->second : name;
  if (reserved(key))
    throw Error(
        fmt::format("{}: params.{}: set by the sweep (arms, seeds, task), not sampled", src, name));
  const auto dot = key.find('.');
  if (it == aliases().end()) {
    const json defaults = RunConfig{}.to_json();
    if (dot == std::string::npos || !defaults.contains(key.substr(0, dot)) ||
        !defaults[key.substr(0, dot)].contains(key.substr(dot + 1)))
      throw Error(fmt::format("{}: params.{}: unknown hyperparameter", src, name));
  }
  return key;
}

// Applies {key: value} pairs onto a run-config JSON object.
void put_key(json& cfg, const std::string& key, const json& value) {
  const auto dot = key.find('.');
  if (dot == std::string::npos) {
    cfg[key] = value;
  } else {
    json& section = cfg[key.substr(0, dot)];
    if (section.is_null()) section = json::object();
    section[key.substr(dot + 1)] = value;
  }
}

json range_value(const ParamSpec& p, double x) {
  if (p.integer) return json(int64_t(std::llround(x)));
  return json(x);
}

ParamSpec parse_param(const std::string& name, const json& v, const std::string& src) {
  ParamSpec p;
  p.name = name;
  p.key = resolve_key(name, src);
  const std::string at = fmt::format("{}: params.{}", src, name);
  if (v.is_array()) {
    p.choices.assign(v.begin(), v.end());
  } else if (v.is_object()) {
    for (auto it = v.begin(); it != v.end(); ++it) {
      const std::string& k = it.key();
      if (k != "choices" && k != "range" && k != "log" && k != "int" && k != "steps")
        throw Error(
            fmt::format("{}: unknown key '{}' (expected choices, or range with log, int, "
                        "steps)",
                        at, k));
    }
    if (v.contains("choices") == v.contains("range"))
      throw Error(fmt::format("{}: give exactly one of 'choices' or 'range'", at));
    if (v.contains("choices")) {
      if (!v["choices"].is_array()) throw Error(fmt::format("{}.choices: expected a list", at));
      p.choices.assign(v["choices"].begin(), v["choices"].end());
    } else {
      const json& r = v["range"];
      if (!r.is_array() || r.size() != 2 || !r[0].is_number() || !r[1].is_number())
        throw Error(fmt::format("{}.range: expected [low, high] numbers, got {}", at, r.dump()));
      p.is_range = true;
      p.lo = r[0].get<double>();
      p.hi = r[1].get<double>();
      auto flag = [&](const char* k) {
        if (!v.contains(k)) return false;
        if (!v[k].is_boolean()) throw Error(fmt::format("{}.{}: expected true or false", at, k));
        return v[k].get<bool>();
      };
      p.log = flag("log");
      p.integer = flag("int");
      if (v.contains("steps")) {
        if (!v["steps"].is_number_integer() || v["steps"].get<int>() < 2)
          throw Error(fmt::format("{}.steps: expected an integer >= 2", at));
        p.steps = v["steps"].get<int>();
      }
      if (!(p.lo < p.hi)) throw Error(fmt::format("{}.range: low must be below high", at));
      if (p.log && p.lo <= 0) throw Error(fmt::format("{}.range: log needs low > 0", at));
    }
  } else {
    throw Error(fmt::format("{}: expected a list of choices or an object, got {}", at, v.dump()));
  }
  if (!p.is_range && p.choices.empty()) throw Error(fmt::format("{}: empty choice list", at));
  return p;
}

// The value of grid point i (of steps) for a range.
double grid_point(const ParamSpec& p, int i) {
  if (i == 0) return p.lo;  // exact ends: exp(log(x)) is not always x
  if (i == p.steps - 1) return p.hi;
  const double t = double(i) / double(p.steps - 1);
  return p.log ? std::exp(std::log(p.lo) + t * (std::log(p.hi) - std::log(p.lo)))
               : p.lo + t * (p.hi - p.lo);
}

}  // namespace

RunConfig SearchSpace::config_for(const json& hparams) const {
  json cfg = base;
  // The none arm stops early by the switch rule, as in the paper's protocol, whatever the default
  // of a single `dkws train` run; a space may still say otherwise in its base.
  if (!cfg.contains("train") || !cfg["train"].contains("early_stopping"))
    cfg["train"]["early_stopping"] = true;
  for (const ParamSpec& p : params)
    if (hparams.contains(p.name)) put_key(cfg, p.key, hparams.at(p.name));
  return parse_run_config(cfg, "trial");
}

size_t SearchSpace::grid_size() const {
  size_t n = 1;
  for (const ParamSpec& p : params) n *= p.is_range ? size_t(p.steps) : p.choices.size();
  return n;
}

SearchSpace parse_space(const json& j, const std::string& src) {
  if (!j.is_object()) throw Error(fmt::format("{}: expected a JSON object", src));
  SearchSpace s;
  s.source = j;
  for (auto it = j.begin(); it != j.end(); ++it)
    if (it.key() != "description" && it.key() != "base" && it.key() != "params")
      throw Error(
          fmt::format("{}: unknown key '{}' (expected description, base, params)", src, it.key()));
  s.base = j.value("base", json::object());
  if (!s.base.is_object()) throw Error(fmt::format("{}: base: expected an object", src));
  // The base must be a valid run config on its own ("base.train.epochs" style errors).
  try {
    parse_run_config(s.base, "base");
  } catch (const Error& e) {
    throw Error(fmt::format("{}: {}", src, e.what()));
  }
  if (!j.contains("params") || !j["params"].is_object() || j["params"].empty())
    throw Error(fmt::format("{}: params: expected a non-empty object of hyperparameters", src));
  std::map<std::string, std::string> seen;  // key -> name, so an alias and its key clash
  for (auto it = j["params"].begin(); it != j["params"].end(); ++it) {
    ParamSpec p = parse_param(it.key(), it.value(), src);
    if (!seen.emplace(p.key, p.name).second)
      throw Error(fmt::format("{}: params.{}: sets {} again (see params.{})", src, p.name, p.key,
                              seen[p.key]));
    s.params.push_back(std::move(p));
  }
  // Every value must make a valid run config.
  for (const ParamSpec& p : s.params) {
    std::vector<json> values = p.choices;
    if (p.is_range) values = {range_value(p, p.lo), range_value(p, p.hi)};
    for (const json& v : values) {
      try {
        s.config_for(json{{p.name, v}});
      } catch (const Error& e) {
        throw Error(
            fmt::format("{}: params.{}: value {} rejected ({})", src, p.name, v.dump(), e.what()));
      }
    }
  }
  return s;
}

SearchSpace load_space(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw Error(fmt::format("{}: cannot open search space file", path.string()));
  json j;
  try {
    j = json::parse(in, nullptr, true, /*ignore_comments=*/true);
  } catch (const json::exception& e) {
    throw Error(fmt::format("{}: invalid JSON: {}", path.string(), e.what()));
  }
  return parse_space(j, path.string());
}

std::vector<json> sample_configs(const SearchSpace& space, const std::string& sampler, size_t n,
                                 uint64_t seed) {
  std::vector<json> out;
  if (sampler == "grid") {
    for (const ParamSpec& p : space.params)
      if (p.is_range && p.steps == 0)
        throw Error(fmt::format("params.{}: the grid sampler needs 'steps' for a range", p.name));
    const size_t total = space.grid_size();
    if (n == 0) n = total;
    if (n > total) throw Error(fmt::format("--configs {}: the grid has only {} points", n, total));
    for (size_t i = 0; i < n; ++i) {
      json h = json::object();
      size_t rest = i;  // mixed-radix digits, last parameter fastest
      for (size_t k = space.params.size(); k-- > 0;) {
        const ParamSpec& p = space.params[k];
        const size_t radix = p.is_range ? size_t(p.steps) : p.choices.size();
        const size_t d = rest % radix;
        rest /= radix;
        h[p.name] = p.is_range ? range_value(p, grid_point(p, int(d))) : p.choices[d];
      }
      out.push_back(std::move(h));
    }
    return out;
  }
  if (sampler != "random")
    throw Error(fmt::format("--sampler '{}': expected random or grid", sampler));
  if (n == 0) throw Error("--configs: the random sampler needs a count");
  for (size_t i = 0; i < n; ++i) {
    Rng rng(seed * 0x9E3779B97F4A7C15ull + i + 1);
    json h = json::object();
    for (const ParamSpec& p : space.params) {
      if (!p.is_range) {
        h[p.name] = p.choices[rng.below(p.choices.size())];
      } else {
        const double u = rng.uniform();
        const double x = p.log ? std::exp(std::log(p.lo) + u * (std::log(p.hi) - std::log(p.lo)))
                               : p.lo + u * (p.hi - p.lo);
        h[p.name] = range_value(p, x);
      }
    }
    out.push_back(std::move(h));
  }
  return out;
}

std::vector<std::string> parse_arms(const std::string& list) {
  std::vector<std::string> arms;
  size_t start = 0;
  while (start <= list.size()) {
    const size_t comma = std::min(list.find(',', start), list.size());
    const std::string a = list.substr(start, comma - start);
    if (a != "none" && a != "restart" && a != "gd" && a != "cc")
      throw Error(fmt::format("--arms: '{}' is not one of none, restart, gd, cc", a));
    for (const auto& b : arms)
      if (b == a) throw Error(fmt::format("--arms: '{}' given twice", a));
    arms.push_back(a);
    start = comma + 1;
  }
  return arms;
}

void apply_arm(RunConfig& cfg, const std::string& arm) {
  cfg.dendrites.mode = arm == "restart" ? "none" : arm;
  cfg.dendrites.restart_only = arm == "restart";
}

std::vector<TrialSpec> make_trials(const std::vector<json>& configs,
                                   const std::vector<std::string>& arms, int seeds) {
  std::vector<TrialSpec> out;
  for (size_t c = 0; c < configs.size(); ++c)
    for (int s = 1; s <= seeds; ++s)
      for (const auto& arm : arms)
        out.push_back({int64_t(out.size() + 1), int(c + 1), arm, s, configs[c]});
  return out;
}

RunConfig trial_config(const SearchSpace& space, const json& meta, const TrialSpec& t) {
  RunConfig cfg = space.config_for(t.hparams);
  cfg.task = meta.at("task").get<std::string>();
  cfg.data_dir = meta.at("data_dir").get<std::string>();
  apply_arm(cfg, t.arm);
  cfg.train.seed = uint64_t(t.seed);
  validate(cfg, fmt::format("trial {}", t.trial_id));
  return cfg;
}

}  // namespace dkws::sweep
