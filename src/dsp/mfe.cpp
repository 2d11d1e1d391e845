// MFE, Edge Impulse "Audio (MFE)" implementation v4: the signal is scaled to +-1 and pre-emphasised
// (0.98, shift 1, fixed), mel energies are taken to dB and mapped from [noise_floor_db, 12 dB] onto
// [0, 1], then quantised to multiples of 1/256 (the block's uint8 output).
#include <algorithm>
#include <cmath>

#include "dkws/error.hpp"
#include "dsp/dsp_internal.hpp"

namespace dkws {

FeatureMatrix compute_mfe(std::span<const float> signal, int sample_rate, const MfeParams& p) {
  const auto n = static_cast<long long>(signal.size());
  if (auto why = dsp::check_mfe(p, sample_rate, n); !why.empty()) throw Error("mfe: " + why);

  // The reference pre-emphasises a float32 array (x / 2^15 cast to float32, then x - 0.98f * roll).
  // Repeating that rounding keeps values near a quantisation step on the same side. Products and
  // differences go through double and are rounded to float explicitly so the compiler cannot fuse
  // them into an FMA (which would round differently).
  std::vector<double> x(signal.size());
  if (!signal.empty()) {
    std::vector<float> s(signal.size());
    for (size_t i = 0; i < s.size(); ++i)
      s[i] = static_cast<float>(static_cast<double>(signal[i]) / 32768.0);
    for (size_t i = 0; i < s.size(); ++i) {
      const float prev = s[i == 0 ? s.size() - 1 : i - 1];  // circular, like numpy.roll
      const auto prod = static_cast<float>(static_cast<double>(0.98f) * prev);
      x[i] = static_cast<float>(static_cast<double>(s[i]) - prod);
    }
  }
  const dsp::MelEnergies me = dsp::mel_energies(x, sample_rate,
                                                {p.frame_length, p.frame_stride, p.fft_length,
                                                 p.num_filters, p.low_frequency, p.high_frequency});

  const double floor_db = p.noise_floor_db;
  const double range_db = 12.0 - floor_db;
  FeatureMatrix out{me.frames, me.filters, std::vector<float>(me.mel.size())};
  for (size_t i = 0; i < me.mel.size(); ++i) {
    const double db = 10.0 * std::log10(std::max(me.mel[i], 1e-30));
    const double v = std::clamp((db - floor_db) / range_db, 0.0, 1.0);
    // numpy.around rounds half to even, as nearbyint does in the default rounding mode. The
    // reference's uint8 cast would wrap 256 to 0; clamping to 255 is the evident intent.
    const double q = std::min(std::nearbyint(v * 256.0), 255.0);
    out.data[i] = static_cast<float>(q / 256.0);
  }
  return out;
}

}  // namespace dkws
