// Config parsing by merging the user's JSON over the defaults: the defaults double as the schema,
// so a key that is not in them is unknown, and a value must have the default's JSON type.
#include <cmath>
#include <cstdlib>
#include <fstream>

#include <fmt/core.h>

#include "dkws/config.hpp"
#include "dkws/error.hpp"

namespace dkws {
namespace {

using nlohmann::json;

json model_json(const ModelSpec& m) {
  return {{"family", m.family},
          {"num_conv", m.num_conv},
          {"num_linear", m.num_linear},
          {"width", m.width},
          {"growth", m.growth},
          {"dropout_at", m.dropout_at},
          {"dropout", m.dropout},
          {"conv_dropout", m.conv_dropout},
          {"init", m.init},
          {"noise", m.noise},
          {"pool_same", m.pool_same},
          {"max_norm", m.max_norm}};
}

json train_json(const TrainSpec& t) {
  return {{"epochs", t.epochs},
          {"batch_size", t.batch_size},
          {"lr", t.lr},
          {"scheduler", t.scheduler},
          {"plateau_patience", t.plateau_patience},
          {"plateau_factor", t.plateau_factor},
          {"seed", t.seed},
          {"early_stopping", t.early_stopping},
          {"until_complete", t.until_complete},
          {"max_total_epochs", t.max_total_epochs},
          {"eval_train_accuracy", t.eval_train_accuracy},
          {"final_lr_fraction", t.final_lr_fraction},
          {"warmup_fraction", t.warmup_fraction},
          {"label_smoothing", t.label_smoothing},
          {"mixup", t.mixup},
          {"teacher", t.teacher},
          {"distill_weight", t.distill_weight},
          {"distill_temperature", t.distill_temperature}};
}

json dendrite_json(const DendriteSpec& d) {
  return {{"mode", d.mode},
          {"layers", d.layers},
          {"activation", d.activation},
          {"max_dendrites", d.max_dendrites},
          {"max_dendrite_tries", d.max_dendrite_tries},
          {"n_epochs_to_switch", d.n_epochs_to_switch},
          {"p_epochs_to_switch", d.p_epochs_to_switch},
          {"p_max_epochs", d.p_max_epochs},
          {"candidates", d.candidates},
          {"init_multiplier", d.init_multiplier},
          {"thresholds", d.thresholds},
          {"raw_threshold", d.raw_threshold},
          {"history_lookback", d.history_lookback},
          {"train_cascade", d.train_cascade},
          {"restart_only", d.restart_only},
          {"rules", d.rules},
          {"initial_correlation_batches", d.initial_correlation_batches},
          {"train_dendrites", d.train_dendrites},
          {"correlation_reduce", d.correlation_reduce},
          {"switch_mode", d.switch_mode},
          {"switch_every", d.switch_every}};
}

void check(bool ok, const std::string& source, const std::string& key, const std::string& why) {
  if (!ok) throw Error(fmt::format("{}: {}: {}", source, key, why));
}

json augment_json(const AugmentSpec& a) {
  return {{"variants", a.variants},
          {"noise_dir", a.noise_dir},
          {"noise_prob", a.noise_prob},
          {"snr_db", a.snr_db},
          {"shift_ms", a.shift_ms},
          {"gain_db", a.gain_db},
          {"time_masks", a.time_masks},
          {"time_mask_frames", a.time_mask_frames},
          {"freq_masks", a.freq_masks},
          {"freq_mask_bins", a.freq_mask_bins},
          {"synthetic", a.synthetic},
          {"synthetic_ratio", a.synthetic_ratio},
          {"synthetic_pretrain_epochs", a.synthetic_pretrain_epochs}};
}

// A [lo, hi] pair of numbers; the type check has already made it an array.
void check_range(const std::vector<double>& v, const std::string& source, const std::string& key) {
  check(v.size() == 2, source, key, "must be [lo, hi]");
  check(std::isfinite(v[0]) && std::isfinite(v[1]) && v[0] <= v[1], source, key,
        "must be [lo, hi] with lo <= hi");
}

bool same_kind(const json& a, const json& b) {
  if (a.is_number() && b.is_number()) return !(a.is_number_integer() && b.is_number_float());
  return a.type() == b.type();
}

// Overlays `user` onto `base` in place; every key of `user` must exist in `base` with its type.
void merge_checked(json& base, const json& user, const std::string& source, const std::string& at) {
  if (!user.is_object()) throw Error(fmt::format("{}: {}: expected an object", source, at));
  for (auto it = user.begin(); it != user.end(); ++it) {
    const std::string key = at.empty() ? it.key() : at + "." + it.key();
    if (!base.contains(it.key())) throw Error(fmt::format("{}: unknown key '{}'", source, key));
    json& slot = base[it.key()];
    if (slot.is_object()) {
      merge_checked(slot, it.value(), source, key);
    } else if (!same_kind(slot, it.value())) {
      throw Error(fmt::format("{}: {}: expected a {} value, got {}", source, key, slot.type_name(),
                              it.value().dump()));
    } else {
      slot = it.value();
    }
  }
}

void check_one_of(const std::string& v, std::initializer_list<const char*> options,
                  const std::string& source, const std::string& key) {
  for (const char* o : options)
    if (v == o) return;
  std::string list;
  for (const char* o : options) list += (list.empty() ? "" : ", ") + std::string(o);
  throw Error(fmt::format("{}: {}: '{}' is not one of {}", source, key, v, list));
}

RunConfig from_merged(const json& j, const std::string& source) {
  RunConfig c;
  c.task = j.at("task");
  c.data_dir = j.at("data_dir").get<std::string>();
  try {
    c.front_end = FrontEndConfig::from_json(j.at("front_end"));
  } catch (const Error& e) {
    throw Error(fmt::format("{}: front_end: {}", source, e.what()));
  }
  const json& m = j.at("model");
  c.model = {m.at("family"), m.at("num_conv"),   m.at("num_linear"), m.at("width"),
             m.at("growth"), m.at("dropout_at"), m.at("dropout"),    m.at("conv_dropout"),
             m.at("init"),   m.at("noise"),      m.at("pool_same"),  m.at("max_norm")};
  const json& t = j.at("train");
  c.train.epochs = t.at("epochs");
  c.train.batch_size = t.at("batch_size");
  c.train.lr = t.at("lr");
  c.train.scheduler = t.at("scheduler");
  c.train.plateau_patience = t.at("plateau_patience");
  c.train.plateau_factor = t.at("plateau_factor");
  c.train.seed = t.at("seed");
  c.train.early_stopping = t.at("early_stopping");
  c.train.eval_train_accuracy = t.at("eval_train_accuracy");
  c.train.final_lr_fraction = t.at("final_lr_fraction");
  c.train.warmup_fraction = t.at("warmup_fraction");
  c.train.label_smoothing = t.at("label_smoothing");
  c.train.mixup = t.at("mixup");
  c.train.teacher = t.at("teacher");
  c.train.distill_weight = t.at("distill_weight");
  c.train.distill_temperature = t.at("distill_temperature");
  c.train.until_complete = t.at("until_complete");
  c.train.max_total_epochs = t.at("max_total_epochs");
  const json& d = j.at("dendrites");
  c.dendrites = {d.at("mode"),
                 d.at("layers"),
                 d.at("activation"),
                 d.at("max_dendrites"),
                 d.at("max_dendrite_tries"),
                 d.at("n_epochs_to_switch"),
                 d.at("p_epochs_to_switch"),
                 d.at("p_max_epochs"),
                 d.at("candidates"),
                 d.at("init_multiplier"),
                 d.at("thresholds").get<std::vector<double>>(),
                 d.at("raw_threshold"),
                 d.at("history_lookback"),
                 d.at("train_cascade"),
                 d.at("restart_only"),
                 d.at("rules"),
                 d.at("initial_correlation_batches"),
                 d.at("train_dendrites"),
                 d.at("correlation_reduce"),
                 d.at("switch_mode"),
                 d.at("switch_every")};
  const json& a = j.at("augment");
  auto numbers = [&](const char* key) {
    // Arrays are only type-checked as arrays by the merge; their elements are checked here.
    const json& v = a.at(key);
    for (const json& x : v)
      if (!x.is_number())
        throw Error(fmt::format("{}: augment.{}: expected numbers, got {}", source, key, v.dump()));
    return v.get<std::vector<double>>();
  };
  c.augment = {a.at("variants"),
               a.at("noise_dir"),
               a.at("noise_prob"),
               numbers("snr_db"),
               a.at("shift_ms"),
               numbers("gain_db"),
               a.at("time_masks"),
               a.at("time_mask_frames"),
               a.at("freq_masks"),
               a.at("freq_mask_bins"),
               a.at("synthetic"),
               a.at("synthetic_ratio"),
               a.at("synthetic_pretrain_epochs")};
  return c;
}

json defaults_for(const json& user) {
  RunConfig d;
  // The paper's family trains with its own recipe unless the file says otherwise.
  // Compared as JSON: a family that is not a string is left to the checks after the merge,
  // which name the key (value("family", "") threw nlohmann's type_error for one).
  if (user.is_object() && user.contains("model") && user["model"].is_object() &&
      user["model"].value("family", json()) == "audio_classifier") {
    d.model.family = "audio_classifier";
    d.model.max_norm = 1.0;
    d.model.dropout = 0.1;
    d.model.dropout_at = "linear";
    d.model.conv_dropout = 0.25;
    d.model.init = "torch";
    d.train.scheduler = "plateau";
  }
  // Perforated AI's package uses a sigmoid dendrite unless told otherwise.
  if (user.is_object() && user.contains("dendrites") && user["dendrites"].is_object() &&
      user["dendrites"].value("rules", "") == "pb")
    d.dendrites.activation = "sigmoid";
  // The MFE block has its own parameter names: they are the defaults that the file's params merge
  // into (otherwise a saved MFE model, whose config names them all, could not be read back).
  if (user.is_object() && user.contains("front_end") && user["front_end"].is_object() &&
      user["front_end"].value("block", json()) == "mfe")
    d.front_end.block = "mfe";
  return d.to_json();
}

// After an override changed model.family (or dendrites.rules), the keys still at the old
// defaults take the new ones (`--set model.family=audio_classifier` gets the paper's recipe, as a
// file would).
void switch_defaults(json& merged, const json& old) {
  const json before = defaults_for(old), after = defaults_for(merged);
  if (before == after) return;
  for (const char* section : {"model", "train", "dendrites"})
    for (auto it = after[section].begin(); it != after[section].end(); ++it)
      if (merged[section][it.key()] == before[section][it.key()])
        merged[section][it.key()] = it.value();
}

// After an override changed front_end.block, its parameters start from the new block's defaults:
// the old block's names are not all valid for it (`--set front_end.block=mfe` must work alone;
// later --set front_end.params.X=... adjust the new block).
void switch_front_end_block(json& merged, const json& old) {
  json& fe = merged["front_end"];
  if (fe["block"] == old["front_end"]["block"]) return;
  fe["params"] = FrontEndConfig::from_json({{"block", fe["block"]}}).to_json()["params"];
}

}  // namespace

json RunConfig::to_json() const {
  return {{"task", task},
          {"data_dir", data_dir.string()},
          {"front_end", front_end.to_json()},
          {"model", model_json(model)},
          {"train", train_json(train)},
          {"dendrites", dendrite_json(dendrites)},
          {"augment", augment_json(augment)}};
}

void validate(const RunConfig& c, const std::string& src) {
  check_one_of(c.task, {"kws12", "kw3", "folder"}, src, "task");
  const ModelSpec& m = c.model;
  check_one_of(m.family, {"ei_conv1d", "audio_classifier", "ds_cnn"}, src, "model.family");
  // ei_conv1d halves the length per block (50 frames: 4 blocks leave 4); ds_cnn's blocks are
  // cheap enough to stack deeper.
  const int max_conv = m.family == "ds_cnn" ? 6 : m.family == "ei_conv1d" ? 4 : 3;
  check(m.num_conv >= 1 && m.num_conv <= max_conv, src, "model.num_conv",
        "must be in 1.." + std::to_string(max_conv) + " for " + m.family);
  check(m.num_linear >= 1 && m.num_linear <= 2, src, "model.num_linear", "must be 1 or 2");
  check(m.width > 0 && m.width <= 16, src, "model.width", "must be in (0, 16]");
  check(m.growth >= 0 && m.growth <= 5, src, "model.growth", "must be in 0..5");
  check(m.dropout >= 0 && m.dropout < 1, src, "model.dropout", "must be in [0, 1)");
  check_one_of(m.dropout_at, {"conv", "linear"}, src, "model.dropout_at");
  check(m.family == "audio_classifier" || m.dropout_at == "conv", src, "model.dropout_at",
        m.family + " has dropout after its conv blocks only ('conv')");
  check(m.conv_dropout >= 0 && m.conv_dropout < 1, src, "model.conv_dropout", "must be in [0, 1)");
  check_one_of(m.init, {"glorot", "torch"}, src, "model.init");
  check(m.noise >= 0, src, "model.noise", "must be >= 0");
  check(m.max_norm >= 0, src, "model.max_norm", "must be >= 0");
  const TrainSpec& t = c.train;
  check(t.epochs >= 1 && t.epochs <= 100000, src, "train.epochs", "must be in 1..100000");
  check(t.batch_size >= 1 && t.batch_size <= 65536, src, "train.batch_size", "must be in 1..65536");
  check(t.lr > 0 && t.lr < 10, src, "train.lr", "must be in (0, 10)");
  check_one_of(t.scheduler, {"none", "plateau", "cosine", "onecycle"}, src, "train.scheduler");
  check(t.final_lr_fraction > 0 && t.final_lr_fraction <= 1, src, "train.final_lr_fraction",
        "must be in (0, 1]");
  check(t.warmup_fraction >= 0 && t.warmup_fraction < 1, src, "train.warmup_fraction",
        "must be in [0, 1)");
  check(t.label_smoothing >= 0 && t.label_smoothing < 1, src, "train.label_smoothing",
        "must be in [0, 1)");
  check(t.mixup >= 0 && t.mixup <= 100, src, "train.mixup", "must be in [0, 100]");
  check(t.distill_weight >= 0 && t.distill_weight <= 1, src, "train.distill_weight",
        "must be in [0, 1]");
  check(t.distill_temperature > 0 && t.distill_temperature <= 100, src, "train.distill_temperature",
        "must be in (0, 100]");
  check(t.plateau_patience >= 0, src, "train.plateau_patience", "must be >= 0");
  check(t.plateau_factor > 0 && t.plateau_factor < 1, src, "train.plateau_factor",
        "must be in (0, 1)");
  check(t.max_total_epochs >= 0, src, "train.max_total_epochs", "must be >= 0 (0: no cap)");
  const DendriteSpec& d = c.dendrites;
  check_one_of(d.mode, {"none", "gd", "cc"}, src, "dendrites.mode");
  check_one_of(d.layers, {"all", "dense", "conv"}, src, "dendrites.layers");
  check_one_of(d.activation, {"tanh", "sigmoid", "relu"}, src, "dendrites.activation");
  check(d.max_dendrites >= 0 && d.max_dendrites <= 16, src, "dendrites.max_dendrites",
        "must be in 0..16");
  check_one_of(d.rules, {"classic", "pb"}, src, "dendrites.rules");
  check(d.max_dendrite_tries >= (d.rules == "pb" ? 0 : 1), src, "dendrites.max_dendrite_tries",
        d.rules == "pb" ? "must be >= 0" : "must be >= 1");
  check(d.n_epochs_to_switch >= 1, src, "dendrites.n_epochs_to_switch", "must be >= 1");
  check(d.p_epochs_to_switch >= 1, src, "dendrites.p_epochs_to_switch", "must be >= 1");
  check(d.p_max_epochs >= 1, src, "dendrites.p_max_epochs", "must be >= 1");
  check(d.candidates >= 1 && d.candidates <= 64, src, "dendrites.candidates", "must be in 1..64");
  check(d.init_multiplier > 0, src, "dendrites.init_multiplier", "must be > 0");
  check(!d.thresholds.empty(), src, "dendrites.thresholds", "must not be empty");
  for (double v : d.thresholds)
    check(v >= 0 && v < 1, src, "dendrites.thresholds", "values must be in [0, 1)");
  check(d.raw_threshold >= 0, src, "dendrites.raw_threshold", "must be >= 0");
  check(d.history_lookback >= 1, src, "dendrites.history_lookback", "must be >= 1");
  check(d.initial_correlation_batches >= 0, src, "dendrites.initial_correlation_batches",
        "must be >= 0");
  check_one_of(d.correlation_reduce, {"sum", "mean"}, src, "dendrites.correlation_reduce");
  check_one_of(d.switch_mode, {"plateau", "fixed"}, src, "dendrites.switch_mode");
  check(d.switch_every >= 1, src, "dendrites.switch_every", "must be >= 1");
  // Fixed switching counts neuron-phase epochs, and the schedule must fit the cap.
  const int64_t fixed_epochs = int64_t(d.switch_every) * (d.max_dendrites + 1);
  check(d.switch_mode != "fixed" || fixed_epochs <= t.epochs, src, "dendrites.switch_every",
        fmt::format("{} x (max_dendrites {} + 1) = {} epochs exceed train.epochs {}",
                    d.switch_every, d.max_dendrites, fixed_epochs, t.epochs));
  const AugmentSpec& a = c.augment;
  check(a.variants >= 0 && a.variants <= 64, src, "augment.variants", "must be in 0..64");
  check(a.noise_prob >= 0 && a.noise_prob <= 1, src, "augment.noise_prob", "must be in [0, 1]");
  check_range(a.snr_db, src, "augment.snr_db");
  check(a.shift_ms >= 0 && a.shift_ms <= 1000, src, "augment.shift_ms", "must be in [0, 1000]");
  check_range(a.gain_db, src, "augment.gain_db");
  check(a.gain_db[0] >= -60 && a.gain_db[1] <= 60, src, "augment.gain_db",
        "must lie within [-60, 60]");
  check(a.time_masks >= 0 && a.time_masks <= 16, src, "augment.time_masks", "must be in 0..16");
  check(a.time_mask_frames >= 0, src, "augment.time_mask_frames", "must be >= 0");
  check(a.freq_masks >= 0 && a.freq_masks <= 16, src, "augment.freq_masks", "must be in 0..16");
  check(a.freq_mask_bins >= 0, src, "augment.freq_mask_bins", "must be >= 0");
  check(a.synthetic_ratio >= 0 && a.synthetic_ratio <= 0.9, src, "augment.synthetic_ratio",
        "must be in [0, 0.9]");
  check(a.synthetic_pretrain_epochs >= 0 && a.synthetic_pretrain_epochs <= 10000, src,
        "augment.synthetic_pretrain_epochs", "must be in 0..10000");
  const bool uses_synthetic = a.synthetic_ratio > 0 || a.synthetic_pretrain_epochs > 0;
  check(!uses_synthetic || !a.synthetic.empty(), src, "augment.synthetic",
        "needs a folder made by `dkws data synth` when synthetic_ratio or "
        "synthetic_pretrain_epochs is set");
  // Teacher logits and augmented variants are indexed by real training row; synthetic rows have
  // neither.
  check(!uses_synthetic || c.train.teacher.empty(), src, "augment.synthetic",
        "cannot be combined with train.teacher (the teacher's logits cover the real clips only)");
  check(!uses_synthetic || a.variants == 0, src, "augment.synthetic",
        "cannot be combined with augment.variants (variants exist for the real clips only)");
  try {
    c.front_end.validate();
  } catch (const Error& e) {
    throw Error(fmt::format("{}: front_end: {}", src, e.what()));
  }
}

RunConfig parse_run_config(const json& user, const std::string& source) {
  json merged = defaults_for(user);
  merge_checked(merged, user, source, "");
  RunConfig c = from_merged(merged, source);
  validate(c, source);
  return c;
}

RunConfig load_run_config(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw Error(fmt::format("{}: cannot open config file", path.string()));
  json j;
  try {
    j = json::parse(in);
  } catch (const json::exception& e) {  // parse_error, or out_of_range for a number like 1e999
    throw Error(fmt::format("{}: invalid JSON: {}", path.string(), e.what()));
  }
  return parse_run_config(j, path.string());
}

void apply_override(RunConfig& cfg, const std::string& assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw Error(fmt::format("--set {}: expected section.key=value", assignment));
  const std::string path = assignment.substr(0, eq), value = assignment.substr(eq + 1);
  json v;
  try {
    v = json::parse(value);
  } catch (const json::exception&) {
    v = value;  // bare strings need no quotes on the command line
  }
  // Build {"a":{"b":v}} from "a.b" and merge it like a file.
  json patch = v;
  std::string rest = path;
  std::vector<std::string> parts;
  for (size_t pos; (pos = rest.find('.')) != std::string::npos; rest = rest.substr(pos + 1))
    parts.push_back(rest.substr(0, pos));
  parts.push_back(rest);
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) patch = json{{*it, patch}};
  const json old = cfg.to_json();
  json merged = old;
  merge_checked(merged, patch, "--set", "");
  switch_defaults(merged, old);
  try {
    switch_front_end_block(merged, old);
  } catch (const Error& e) {
    throw Error(fmt::format("--set: front_end: {}", e.what()));
  }
  cfg = from_merged(merged, "--set");
  validate(cfg, "--set");
}

std::filesystem::path default_data_dir() {
  if (const char* env = std::getenv("DKWS_DATA"); env && *env) return env;
  for (auto p :
       {std::filesystem::path("../shared/data"), std::filesystem::path("../../shared/data")})
    if (std::filesystem::exists(p / "speech_commands_v2_test")) return std::filesystem::absolute(p);
  return {};
}

}  // namespace dkws
