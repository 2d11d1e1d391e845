// MFE, Edge Impulse "Audio (MFE)" implementation v4: the signal is scaled to +-1 and pre-emphasised
// (0.98, shift 1, fixed), mel energies are taken to dB and mapped from [noise_floor_db, 12 dB] onto
// [0, 1], then quantised to multiples of 1/256 (the block's uint8 output).
#include <algorithm>
#include <cmath>

#include "dkws/error.hpp"
#include "dsp/dsp_internal.hpp"

namespace dkws {
namespace dsp {

double mfe_value(double mel, double floor_db) {
  const double range_db = 12.0 - floor_db;
  const double db = 10.0 * std::log10(std::max(mel, 1e-30));
  const double v = std::clamp((db - floor_db) / range_db, 0.0, 1.0);
  // numpy.around rounds half to even, as nearbyint does in the default rounding mode. The
  // reference's uint8 cast would wrap 256 to 0; clamping to 255 is the evident intent.
  return std::min(std::nearbyint(v * 256.0), 255.0) / 256.0;
}

}  // namespace dsp

FeatureMatrix compute_mfe(std::span<const float> signal, int sample_rate, const MfeParams& p) {
  const auto n = static_cast<long long>(signal.size());
  if (auto why = dsp::check_mfe(p, sample_rate, n); !why.empty()) throw Error("mfe: " + why);

  // The reference pre-emphasises a float32 array (x / 2^15 cast to float32, then x - 0.98f * roll).
  // Repeating that rounding keeps values near a quantisation step on the same side. Products and
  // differences go through double and are rounded to float explicitly so the compiler cannot fuse
  // them into an FMA (which would round differently).
  std::vector<double> x(signal.size());
  for (size_t i = 0; i < x.size(); ++i)  // circular, like numpy.roll
    x[i] = dsp::mfe_preemphasised(signal[i], signal[i == 0 ? x.size() - 1 : i - 1]);
  const dsp::MelEnergies me = dsp::mel_energies(x, sample_rate, dsp::framing_of(p));

  FeatureMatrix out{me.frames, me.filters, std::vector<float>(me.mel.size())};
  for (size_t i = 0; i < me.mel.size(); ++i)
    out.data[i] = static_cast<float>(dsp::mfe_value(me.mel[i], p.noise_floor_db));
  return out;
}

}  // namespace dkws
