// MFCC, Edge Impulse "Audio (MFCC)" implementation v4: pre-emphasis, mel energies, log, orthonormal
// DCT-II with c0 replaced by the log frame energy, then sliding-window CMVN.
#include <cmath>
#include <numbers>

#include "dkws/error.hpp"
#include "dsp/dsp_internal.hpp"

namespace dkws {
namespace dsp {

Cepstrum::Cepstrum(int num_filters, int num_cepstral)
    : nf_(num_filters),
      nc_(num_cepstral),
      dct_(static_cast<size_t>(num_cepstral) * num_filters),
      logmel_(static_cast<size_t>(num_filters)) {
  for (int k = 1; k < nc_; ++k)
    for (int i = 0; i < nf_; ++i)
      dct_[static_cast<size_t>(k) * nf_ + i] =
          std::sqrt(2.0 / nf_) * std::cos(std::numbers::pi * k * (2 * i + 1) / (2.0 * nf_));
}

void Cepstrum::compute(const double* mel, double energy, double* c) {
  for (int i = 0; i < nf_; ++i) logmel_[i] = std::log(mel[i]);
  c[0] = std::log(energy);
  for (int k = 1; k < nc_; ++k) {
    double s = 0;
    for (int i = 0; i < nf_; ++i) s += dct_[static_cast<size_t>(k) * nf_ + i] * logmel_[i];
    c[k] = s;
  }
}

}  // namespace dsp

FeatureMatrix compute_mfcc(std::span<const float> signal, int sample_rate, const MfccParams& p) {
  const auto n = static_cast<long long>(signal.size());
  if (auto why = dsp::check_mfcc(p, sample_rate, n); !why.empty()) throw Error("mfcc: " + why);

  std::vector<double> x(signal.begin(), signal.end());
  x = dsp::preemphasis(x, p.pre_cof, p.pre_shift);
  const dsp::MelEnergies me = dsp::mel_energies(x, sample_rate, dsp::framing_of(p));
  const int nc = p.num_cepstral;
  dsp::Cepstrum cepstrum(p.num_filters, nc);
  std::vector<double> cep(static_cast<size_t>(me.frames) * nc);
  for (int t = 0; t < me.frames; ++t)
    cepstrum.compute(&me.mel[static_cast<size_t>(t) * p.num_filters], me.energy[t],
                     &cep[static_cast<size_t>(t) * nc]);
  if (p.win_size > 0) dsp::sliding_cmvn(cep, me.frames, nc, p.win_size);

  return FeatureMatrix{me.frames, nc, std::vector<float>(cep.begin(), cep.end())};
}

}  // namespace dkws
