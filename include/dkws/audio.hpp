// Audio input: any file libsndfile reads, downmixed to mono, resampled to the target rate with
// libsamplerate, then zero-padded or cropped to the window. Samples are int16 values held as float
// (not scaled to +-1), which is what the Edge Impulse front end expects.
#pragma once
#include <filesystem>
#include <vector>

namespace dkws {

struct AudioOptions {
  int sample_rate = 16000;
  double window_seconds = 1.0;  // <= 0 keeps the whole file
};

struct AudioInfo {
  int sample_rate = 0;
  int channels = 0;
  long long frames = 0;  // at the file's own rate
  double seconds() const { return sample_rate ? double(frames) / sample_rate : 0.0; }
};

// Reads the header only. Throws dkws::Error naming the file when it cannot be opened or parsed.
AudioInfo probe_audio(const std::filesystem::path& path);

// Decodes, downmixes, resamples and fits to the window. Throws dkws::Error ("<file>: <reason>") for
// unreadable, corrupt, truncated or empty audio.
std::vector<float> load_audio(const std::filesystem::path& path, const AudioOptions& opt = {});

// Resamples int16-scaled mono audio from one rate to another (libsamplerate, best quality).
std::vector<float> resample(const std::vector<float>& in, int from_rate, int to_rate);

// Pads with zeros at the end or crops to exactly n samples.
void fit_to_length(std::vector<float>& samples, size_t n);

// Writes 16-bit PCM WAV (clipping to int16). Atomic: temp file + rename.
void write_wav(const std::filesystem::path& path, const std::vector<float>& samples, int sample_rate);

}  // namespace dkws
