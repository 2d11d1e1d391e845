// FrontEndConfig: setting parameters by their block names (CLI --set, config files), validation,
// JSON round trip, and the output shape for the configured window.
#include <charconv>
#include <cmath>
#include <cstdlib>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "dkws/dsp.hpp"
#include "dkws/error.hpp"
#include "dsp/dsp_internal.hpp"

namespace dkws {
namespace {

// Edge Impulse's MFE block carries a win_size that only implementation v1/v2 used (for CMVN). It is
// accepted so the block's full parameter set loads, and ignored.
bool ignored_param(const std::string& block, const std::string& name) {
  return block == "mfe" && name == "win_size";
}

std::string known_names(FrontEndConfig& cfg) {
  std::string names;
  auto add = [&](const char* n, auto&) { names += (names.empty() ? "" : ", ") + std::string(n); };
  if (cfg.block == "mfe")
    for_each_param(cfg.mfe, add);
  else
    for_each_param(cfg.mfcc, add);
  return names;
}

double parse_number(const std::string& name, const std::string& value, bool integer) {
  const char* b = value.data();
  const char* e = b + value.size();
  if (integer) {
    long long v = 0;
    auto r = std::from_chars(b, e, v);
    if (value.empty() || r.ec != std::errc() || r.ptr != e || v < -(1LL << 31) || v >= (1LL << 31))
      throw Error(fmt::format("parameter {}: '{}' is not an integer", name, value));
    return static_cast<double>(v);
  }
  char* end = nullptr;
  double v = std::strtod(b, &end);
  if (value.empty() || end != e || !std::isfinite(v))
    throw Error(fmt::format("parameter {}: '{}' is not a number", name, value));
  return v;
}

// Whether a parameter of either block is an integer field (win_size counts for MFE too, where it
// is accepted and ignored).
bool is_int_param(const std::string& name) {
  bool integer = false;
  auto look = [&](const char* n, const auto& field) {
    integer = integer || (name == n && std::is_integral_v<std::remove_cvref_t<decltype(field)>>);
  };
  const MfccParams mfcc;
  const MfeParams mfe;
  for_each_param(mfcc, look);
  for_each_param(mfe, look);
  return integer;
}

bool has_param(FrontEndConfig& cfg, const std::string& name) {
  bool found = ignored_param(cfg.block, name);
  auto look = [&](const char* n, auto&) { found = found || name == n; };
  if (cfg.block == "mfe")
    for_each_param(cfg.mfe, look);
  else
    for_each_param(cfg.mfcc, look);
  return found;
}

[[noreturn]] void unknown_param(FrontEndConfig& cfg, const std::string& name) {
  throw Error(fmt::format("unknown parameter '{}' for the {} block (known: {})", name, cfg.block,
                          known_names(cfg)));
}

// Sets a parameter of the active block (or the window/rate) to a number already parsed, after the
// checks that need no other parameter; cross-parameter checks wait for validate().
void assign(FrontEndConfig& cfg, const std::string& name, double v) {
  if (name == "sample_rate" || name == "window_seconds") {
    if (!(v > 0) || !std::isfinite(v) || v > 1e9)
      throw Error(fmt::format("{} must be positive (got {})", name, v));
    if (name == "sample_rate") {
      if (v != std::floor(v))
        throw Error(fmt::format("sample_rate must be an integer (got {})", v));
      cfg.sample_rate = static_cast<int>(v);
    } else {
      cfg.window_seconds = v;
    }
    return;
  }
  if (!has_param(cfg, name)) unknown_param(cfg, name);
  if (is_int_param(name) && (v != std::floor(v) || std::fabs(v) > 1e9))
    throw Error(fmt::format("parameter {} must be an integer (got {})", name, v));
  if (auto why = dsp::check_value(name, v); !why.empty()) throw Error(why);
  auto setter = [&](const char* n, auto& field) {
    if (name == n) field = static_cast<std::remove_reference_t<decltype(field)>>(v);
  };
  if (cfg.block == "mfe")
    for_each_param(cfg.mfe, setter);
  else
    for_each_param(cfg.mfcc, setter);
}

void set_block(FrontEndConfig& cfg, const std::string& value) {
  if (value != "mfcc" && value != "mfe")
    throw Error(fmt::format("block must be mfcc or mfe (got '{}')", value));
  cfg.block = value;
}

long long window_samples(const FrontEndConfig& c) {
  return std::llround(c.window_seconds * c.sample_rate);
}

}  // namespace

void FrontEndConfig::set(const std::string& name, const std::string& value) {
  if (name == "block") return set_block(*this, value);
  if (block != "mfcc" && block != "mfe") set_block(*this, block);  // reports the bad block
  if (name != "sample_rate" && name != "window_seconds" && !has_param(*this, name))
    unknown_param(*this, name);
  assign(*this, name, parse_number(name, value, is_int_param(name) || name == "sample_rate"));
}

void FrontEndConfig::validate() const {
  if (block != "mfcc" && block != "mfe")
    throw Error(fmt::format("block must be mfcc or mfe (got '{}')", block));
  if (sample_rate <= 0)
    throw Error(fmt::format("sample_rate must be positive (got {})", sample_rate));
  if (!(window_seconds > 0))
    throw Error(fmt::format("window_seconds must be positive (got {})", window_seconds));
  const long long n = window_samples(*this);
  std::string why =
      block == "mfe" ? dsp::check_mfe(mfe, sample_rate, n) : dsp::check_mfcc(mfcc, sample_rate, n);
  if (!why.empty()) throw Error(block + ": " + why);
}

int FrontEndConfig::frames() const {
  const double len = block == "mfe" ? mfe.frame_length : mfcc.frame_length;
  const double stride = block == "mfe" ? mfe.frame_stride : mfcc.frame_stride;
  return dsp::frame_count(window_samples(*this), dsp::seconds_to_samples(len, sample_rate),
                          dsp::seconds_to_samples(stride, sample_rate));
}

int FrontEndConfig::coeffs() const {
  return block == "mfe" ? mfe.num_filters : mfcc.num_cepstral;
}

nlohmann::json FrontEndConfig::to_json() const {
  // Only the active block's parameters: the JSON is a cache key, and the other block's settings
  // do not change these features.
  nlohmann::json params = nlohmann::json::object();
  params["implementation_version"] = 4;
  auto put = [&](const char* n, auto& field) { params[n] = field; };
  FrontEndConfig copy = *this;
  if (block == "mfe")
    for_each_param(copy.mfe, put);
  else
    for_each_param(copy.mfcc, put);
  return {{"block", block},
          {"sample_rate", sample_rate},
          {"window_seconds", window_seconds},
          {"params", params}};
}

FrontEndConfig FrontEndConfig::from_json(const nlohmann::json& j) {
  if (!j.is_object()) throw Error("front-end config must be a JSON object");
  FrontEndConfig cfg;
  for (const auto& [key, value] : j.items()) {
    if (key != "block" && key != "sample_rate" && key != "window_seconds" && key != "params")
      throw Error(fmt::format("front-end config: unknown key '{}'", key));
  }
  // The block first: it decides which parameter names are valid.
  if (j.contains("block")) {
    if (!j["block"].is_string()) throw Error("front-end config: block must be a string");
    set_block(cfg, j["block"].get<std::string>());
  }
  for (const char* key : {"sample_rate", "window_seconds"}) {
    if (!j.contains(key)) continue;
    if (!j[key].is_number()) throw Error(fmt::format("front-end config: {} must be a number", key));
    assign(cfg, key, j[key].get<double>());
  }
  if (j.contains("params")) {
    const auto& params = j["params"];
    if (!params.is_object()) throw Error("front-end config: params must be an object");
    for (const auto& [key, value] : params.items()) {
      if (key == "implementation_version") {
        if (!value.is_number() || value.get<double>() != 4)
          throw Error(
              fmt::format("front-end config: only implementation_version 4 is supported (got {})",
                          value.dump()));
        continue;
      }
      if (!has_param(cfg, key)) unknown_param(cfg, key);
      if (!value.is_number())
        throw Error(fmt::format("front-end config: parameter {} must be a number (got {})", key,
                                value.dump()));
      assign(cfg, key, value.get<double>());
    }
  }
  cfg.validate();
  return cfg;
}

FeatureMatrix compute_features(std::span<const float> signal, const FrontEndConfig& cfg) {
  if (cfg.block == "mfcc") return compute_mfcc(signal, cfg.sample_rate, cfg.mfcc);
  if (cfg.block == "mfe") return compute_mfe(signal, cfg.sample_rate, cfg.mfe);
  throw Error(fmt::format("block must be mfcc or mfe (got '{}')", cfg.block));
}

}  // namespace dkws
