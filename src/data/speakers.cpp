// Speaker ids from file names and the Speech Commands hash split. Splitting by speaker (not by
// clip) keeps one voice out of two splits, which would otherwise inflate test accuracy.
#include <algorithm>
#include <cctype>

#include <fmt/core.h>

#include "data/data_internal.hpp"
#include "dkws/error.hpp"

namespace dkws {
namespace {

std::string lower(std::string s) {
  for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The base name without audio extensions; Speech Commands has a few "x.wav.wav" names.
std::string base_name(const std::filesystem::path& file) {
  std::filesystem::path p = file.filename();
  while (p.has_extension() && data::is_audio_file(p)) p = p.stem();
  return p.string();
}

constexpr std::string_view kNoHash = "_nohash_";

}  // namespace

std::string speaker_of(const std::filesystem::path& file) {
  const std::string base = base_name(file);
  const size_t at = base.find(kNoHash);
  if (at == std::string::npos) return base;
  // "<speaker>_nohash_<n>", "<word>_<speaker>_nohash_<n>" (_unknown_) or Edge Impulse's
  // "<label>.<speaker>_nohash_<n>": the speaker is the last field before "_nohash_".
  const std::string prefix = base.substr(0, at);
  const size_t sep = prefix.find_last_of("_.");
  return sep == std::string::npos ? prefix : prefix.substr(sep + 1);
}

std::string split_for_speaker(const std::string& speaker, int val_percent, int test_percent) {
  if (val_percent < 0 || test_percent < 0 || val_percent + test_percent > 100) {
    throw Error(fmt::format("split percentages val={} test={} must be >= 0 and sum to <= 100",
                            val_percent, test_percent));
  }
  const uint32_t head = uint32_t(std::stoul(data::md5_hex(speaker).substr(0, 8), nullptr, 16));
  const int bucket = int(head % 100);
  if (bucket < 100 - val_percent - test_percent) return "train";
  if (bucket < 100 - test_percent) return "val";
  return "test";
}

std::string speaker_leak_warning(size_t split_by_clip, size_t clips) {
  if (split_by_clip == 0) return "";
  const std::string which =
      split_by_clip == clips
          ? fmt::format("no speaker ids found: all {} clips were split clip by clip", clips)
          : fmt::format("{} of {} clips have no speaker id and were split clip by clip",
                        split_by_clip, clips);
  return fmt::format(
      "WARNING: {}.\n"
      "WARNING: one speaker's recordings can land in train and in test (speaker leakage), which\n"
      "WARNING: inflates test accuracy. Say where the speaker is: `dkws data split DIR\n"
      "WARNING: --speaker-pattern REGEX` (e.g. '^(?<speaker>[^_]+)_' for SPEAKER_WORD_NN.wav)\n"
      "WARNING: pins a speaker split; a manifest's speaker column or <speaker>_nohash_<n> file\n"
      "WARNING: names work too.",
      which);
}

namespace data {

bool is_audio_file(const std::filesystem::path& path) {
  static const std::string kExt[] = {".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3",
                                     ".aif", ".aiff", ".au",  ".caf", ".w64"};
  const std::string ext = lower(path.extension().string());
  return std::find(std::begin(kExt), std::end(kExt), ext) != std::end(kExt);
}

bool has_speaker(const std::filesystem::path& file) {
  return base_name(file).find(kNoHash) != std::string::npos;
}

std::string normalize_split(std::string_view s) {
  const std::string l = lower(std::string(s));
  if (l == "train" || l == "training") return "train";
  if (l == "val" || l == "valid" || l == "validation" || l == "dev") return "val";
  if (l == "test" || l == "testing") return "test";
  return "";
}

}  // namespace data
}  // namespace dkws
