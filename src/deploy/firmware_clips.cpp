// Real test clips for the firmware image, with the host's int8 results to compare the device's
// against line by line.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <sstream>

#include <fmt/core.h>

#include "dkws/audio.hpp"
#include "dkws/deploy.hpp"
#include "dkws/error.hpp"
#include "dkws/util.hpp"

namespace dkws::deploy {

std::string firmware_clips_header(const std::vector<std::vector<int16_t>>& clips) {
  const size_t samples = clips.empty() ? 0 : clips[0].size();
  std::ostringstream o;
  o << "/* Test clips for firmware/main.c (16 kHz int16, in their own flash section). */\n"
    << "#include <stdint.h>\n#define KWS_TEST_CLIPS " << clips.size()
    << "\n#define KWS_TEST_CLIP_SAMPLES " << samples << "\n"
    << "__attribute__((section(\".clips\"))) static const int16_t kws_test_clips[" << clips.size()
    << "][" << samples << "] = {\n";
  for (const auto& clip : clips) {
    if (clip.size() != samples) throw Error("firmware clips: clips of different lengths");
    o << "{";
    for (size_t i = 0; i < clip.size(); ++i) o << clip[i] << (i % 32 == 31 ? ",\n" : ",");
    o << "},\n";
  }
  o << "};\n";
  return o.str();
}

size_t write_firmware_clips(const QuantizeRunResult& r, size_t n,
                            const std::filesystem::path& dir) {
  const int rate = r.q.front_end.sample_rate;
  // Clips spread evenly over the split (which is grouped by class), skipping rows that are not
  // plain files (e.g. noise crops).
  std::vector<size_t> rows;
  const size_t total = r.test_paths.size(),
               step = std::max<size_t>(1, total / std::max<size_t>(n, 1));
  for (size_t i = 0; i < total && rows.size() < n; i += step)
    if (std::filesystem::is_regular_file(r.data_dir / r.test_paths[i])) rows.push_back(i);
  if (rows.empty())
    throw Error(fmt::format("firmware clips: no test clips under {}", r.data_dir.string()));

  std::vector<std::vector<int16_t>> clips;
  std::ostringstream expected;
  for (size_t k = 0; k < rows.size(); ++k) {
    const auto audio =
        load_audio(r.data_dir / r.test_paths[rows[k]], {rate, r.q.front_end.window_seconds});
    std::vector<int16_t> pcm(audio.size());  // the reader keeps int16 scale
    for (size_t i = 0; i < audio.size(); ++i)
      pcm[i] = int16_t(std::clamp(std::lround(audio[i]), -32768L, 32767L));
    const auto scores = classify_pcm(r.q, pcm.data(), pcm.size());
    expected << "clip " << k << " label " << argmax_scores(scores) << " scores";
    for (int8_t s : scores) expected << " " << int(s);
    expected << "\n";
    clips.push_back(std::move(pcm));
  }
  std::filesystem::create_directories(dir);
  write_file_atomic(dir / "clips.h", firmware_clips_header(clips));
  write_file_atomic(dir / "clips_expected.txt", expected.str());
  return rows.size();
}

}  // namespace dkws::deploy
