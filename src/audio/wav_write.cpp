// 16-bit PCM WAV output, written to a temporary file and renamed so readers never see half a file.
#include <sndfile.h>

#include <unistd.h>
#include <cmath>
#include <string>
#include <system_error>

#include "dkws/audio.hpp"
#include "dkws/error.hpp"

namespace dkws {

void write_wav(const std::filesystem::path& path, const std::vector<float>& samples,
               int sample_rate) {
  if (sample_rate <= 0) throw Error(path.string() + ": sample rate must be positive");
  std::vector<short> pcm(samples.size());
  for (size_t i = 0; i < samples.size(); ++i) {
    double v = std::nearbyint(static_cast<double>(samples[i]));
    if (std::isnan(v)) v = 0;
    pcm[i] = static_cast<short>(std::fmin(32767.0, std::fmax(-32768.0, v)));
  }

  auto tmp = path;
  tmp += ".tmp" + std::to_string(::getpid());
  SF_INFO info{};
  info.samplerate = sample_rate;
  info.channels = 1;
  info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
  SNDFILE* f = sf_open(tmp.c_str(), SFM_WRITE, &info);
  if (!f) throw Error(path.string() + ": cannot write: " + sf_strerror(nullptr));
  sf_count_t wrote = sf_writef_short(f, pcm.data(), static_cast<sf_count_t>(pcm.size()));
  int close_err = sf_close(f);
  std::error_code ec;
  if (wrote != static_cast<sf_count_t>(pcm.size()) || close_err != 0) {
    std::filesystem::remove(tmp, ec);
    throw Error(path.string() + ": cannot write: short write");
  }
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::string why = ec.message();
    std::filesystem::remove(tmp, ec);
    throw Error(path.string() + ": cannot write: " + why);
  }
}

}  // namespace dkws
