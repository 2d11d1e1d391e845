// MFCC, Edge Impulse "Audio (MFCC)" implementation v4: pre-emphasis, mel energies, log, orthonormal
// DCT-II with c0 replaced by the log frame energy, then sliding-window CMVN.
#include <cmath>
#include <numbers>

#include "dkws/error.hpp"
#include "dsp/dsp_internal.hpp"

namespace dkws {

FeatureMatrix compute_mfcc(std::span<const float> signal, int sample_rate, const MfccParams& p) {
  const auto n = static_cast<long long>(signal.size());
  if (auto why = dsp::check_mfcc(p, sample_rate, n); !why.empty()) throw Error("mfcc: " + why);

  std::vector<double> x(signal.begin(), signal.end());
  x = dsp::preemphasis(x, p.pre_cof, p.pre_shift);
  const dsp::MelEnergies me = dsp::mel_energies(x, sample_rate,
                                                {p.frame_length, p.frame_stride, p.fft_length,
                                                 p.num_filters, p.low_frequency, p.high_frequency});

  // Orthonormal DCT-II rows 1..num_cepstral-1 (scipy dct(type=2, norm='ortho')); row 0 is never
  // needed because c0 is replaced by the log frame energy.
  const int nf = p.num_filters, nc = p.num_cepstral;
  std::vector<double> dct(static_cast<size_t>(nc) * nf);
  for (int k = 1; k < nc; ++k)
    for (int i = 0; i < nf; ++i)
      dct[static_cast<size_t>(k) * nf + i] =
          std::sqrt(2.0 / nf) * std::cos(std::numbers::pi * k * (2 * i + 1) / (2.0 * nf));

  std::vector<double> cep(static_cast<size_t>(me.frames) * nc);
  std::vector<double> logmel(static_cast<size_t>(nf));
  for (int t = 0; t < me.frames; ++t) {
    for (int i = 0; i < nf; ++i) logmel[i] = std::log(me.mel[static_cast<size_t>(t) * nf + i]);
    double* c = &cep[static_cast<size_t>(t) * nc];
    c[0] = std::log(me.energy[t]);
    for (int k = 1; k < nc; ++k) {
      double s = 0;
      for (int i = 0; i < nf; ++i) s += dct[static_cast<size_t>(k) * nf + i] * logmel[i];
      c[k] = s;
    }
  }
  if (p.win_size > 0) dsp::sliding_cmvn(cep, me.frames, nc, p.win_size);

  return FeatureMatrix{me.frames, nc, std::vector<float>(cep.begin(), cep.end())};
}

}  // namespace dkws
