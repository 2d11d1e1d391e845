// Decoding audio files with libsndfile: header probe, full decode with downmix, and the checks that
// turn libsndfile's lenient handling (it silently shortens truncated files) into clear errors.
#include <sndfile.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <sstream>
#include <string>
#include <system_error>

#include "dkws/audio.hpp"
#include "dkws/error.hpp"

namespace dkws {
namespace {

[[noreturn]] void fail(const std::filesystem::path& path, const std::string& reason) {
  throw Error(path.string() + ": " + reason);
}

struct SndfileCloser {
  void operator()(SNDFILE* f) const { sf_close(f); }
};
using SndfilePtr = std::unique_ptr<SNDFILE, SndfileCloser>;

// Opens the file for reading, turning every way it can fail into a one-line error naming the file.
SndfilePtr open_audio(const std::filesystem::path& path, SF_INFO& info) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) fail(path, "file not found");
  if (std::filesystem::is_directory(path, ec)) fail(path, "is a directory, not an audio file");
  auto size = std::filesystem::file_size(path, ec);
  if (!ec && size == 0) fail(path, "file is empty");
  info = SF_INFO{};
  SNDFILE* f = sf_open(path.c_str(), SFM_READ, &info);
  if (!f) fail(path, std::string("cannot read audio: ") + sf_strerror(nullptr));
  return SndfilePtr(f);
}

// libsndfile trusts the actual file length over a WAV header's data size and logs the mismatch as
// "data : <header bytes> (should be <bytes present>)". A shortfall there means the file was cut
// off, which we must report instead of handing back silently shortened audio. 0xFFFFFFFF is the
// conventional "unknown length" of streamed WAVs and is not a truncation.
bool header_claims_more_data(SNDFILE* f) {
  char log[8192] = {};
  sf_command(f, SFC_GET_LOG_INFO, log, sizeof(log));
  std::istringstream lines(log);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("data", 0) != 0 && line.rfind("SSND", 0) != 0) continue;
    unsigned long long claimed = 0, present = 0;
    const char* colon = std::strchr(line.c_str(), ':');
    if (!colon) continue;
    if (std::sscanf(colon + 1, " %llu (should be %llu)", &claimed, &present) == 2 &&
        present < claimed && claimed != 0xFFFFFFFFull)
      return true;
  }
  return false;
}

}  // namespace

AudioInfo probe_audio(const std::filesystem::path& path) {
  SF_INFO info;
  auto f = open_audio(path, info);
  return AudioInfo{info.samplerate, info.channels, static_cast<long long>(info.frames)};
}

std::vector<float> load_audio(const std::filesystem::path& path, const AudioOptions& opt) {
  if (opt.sample_rate <= 0) fail(path, "target sample rate must be positive");
  SF_INFO info;
  auto f = open_audio(path, info);
  if (info.channels <= 0 || info.samplerate <= 0)
    fail(path, "invalid header (no channels or rate)");
  if (header_claims_more_data(f.get()))
    fail(path, "truncated (header declares more data than the file holds)");
  if (info.frames <= 0) fail(path, "empty audio (0 frames)");

  // Doubles normalised to [-1, 1) by libsndfile (16-bit PCM is divided by 32768), so multiplying by
  // 32768 gives back the exact int16 values, and other bit depths land on the same scale.
  // Decoded block by block, never into a buffer sized from the header: a damaged header can claim
  // any frame count (a 376-byte FLAC claiming 2^36 frames asked for 512 GB), so memory follows
  // the samples actually decoded.
  const auto channels = static_cast<size_t>(info.channels);
  const sf_count_t block = std::max<sf_count_t>(1, 65536 / info.channels);
  std::vector<double> interleaved(size_t(block) * channels);
  std::vector<float> mono;
  mono.reserve(size_t(std::min<sf_count_t>(info.frames, 1 << 22)));  // a header's claim, capped
  sf_command(f.get(), SFC_SET_NORM_DOUBLE, nullptr, SF_TRUE);
  sf_count_t total = 0;
  while (total < info.frames) {
    const sf_count_t want = std::min(block, info.frames - total);
    const sf_count_t got = sf_readf_double(f.get(), interleaved.data(), want);
    for (sf_count_t i = 0; i < std::max<sf_count_t>(got, 0); ++i) {
      double sum = 0;
      for (size_t c = 0; c < channels; ++c) sum += interleaved[size_t(i) * channels + c];
      mono.push_back(static_cast<float>(sum / static_cast<double>(channels) * 32768.0));
    }
    total += std::max<sf_count_t>(got, 0);
    if (got < want) break;
  }
  if (total < info.frames) {
    fail(path, "truncated or corrupt: read " + std::to_string(total) + " of " +
                   std::to_string(info.frames) + " frames");
  }

  if (info.samplerate != opt.sample_rate) mono = resample(mono, info.samplerate, opt.sample_rate);
  if (opt.window_seconds > 0)
    fit_to_length(mono, static_cast<size_t>(std::llround(opt.window_seconds * opt.sample_rate)));
  return mono;
}

}  // namespace dkws
