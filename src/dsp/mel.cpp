// The mel filterbank and per-frame mel energies, as Edge Impulse's speechpy fork computes them
// (implementation v4). The quirks are deliberate: bins use floor((NFFT + 1) * hz / fs), the top
// edge is pulled down by 0.001 Hz, and a triangle is evaluated only on integer bins, so narrow
// filters can collapse to a single weight of 1 or to nothing at all.
#include <algorithm>
#include <cmath>

#include "dsp/dsp_internal.hpp"

namespace dkws::dsp {
namespace {

double hz_to_mel(double hz) {
  return 1127.0 * std::log(1.0 + hz / 700.0);
}
double mel_to_hz(double mel) {
  return 700.0 * (std::exp(mel / 1127.0) - 1.0);
}

// speechpy's functions.triangle at integer bin x. Its falling half (middle <= x < right) is
// assigned last and so wins at x == middle; a filter with left == middle == right is all zeros.
double triangle(int x, int left, int middle, int right) {
  if (middle <= x && x < right) return static_cast<double>(right - x) / (right - middle);
  if (left < x && x <= middle) return static_cast<double>(x - left) / (middle - left);
  return 0.0;
}

}  // namespace

int MelFilterbank::first_empty_row() const {
  for (size_t i = 0; i < rows.size(); ++i) {
    if (std::all_of(rows[i].weights.begin(), rows[i].weights.end(),
                    [](double w) { return w == 0.0; }))
      return static_cast<int>(i);
  }
  return -1;
}

MelFilterbank mel_filterbank(int num_filters, int fft_length, int sample_rate, double low_hz,
                             double high_hz) {
  MelFilterbank fb;
  fb.bins = fft_length / 2 + 1;
  const int points = num_filters + 2;
  const double mlo = hz_to_mel(low_hz), mhi = hz_to_mel(high_hz);
  const double step = (mhi - mlo) / (points - 1);
  std::vector<int> bin(static_cast<size_t>(points));
  for (int i = 0; i < points; ++i) {
    // numpy.linspace: start + i * step, with the last point exactly the stop value.
    double mel = i == points - 1 ? mhi : mlo + i * step;
    double hz = mel_to_hz(mel);
    if (i == points - 1) hz -= 0.001;
    int b = static_cast<int>(std::floor((fft_length + 1) * hz / sample_rate));
    bin[static_cast<size_t>(i)] = std::clamp(b, 0, fb.bins - 1);
  }
  fb.rows.resize(static_cast<size_t>(num_filters));
  for (int f = 0; f < num_filters; ++f) {
    const int l = bin[f], m = bin[f + 1], r = bin[f + 2];
    auto& row = fb.rows[static_cast<size_t>(f)];
    row.first = l;
    for (int x = l; x <= r; ++x) row.weights.push_back(triangle(x, l, m, r));
  }
  return fb;
}

FrameAnalyzer::FrameAnalyzer(int sample_rate, const FramingSpec& s)
    : flen_(seconds_to_samples(s.frame_length, sample_rate)),
      stride_(seconds_to_samples(s.frame_stride, sample_rate)),
      fb_(mel_filterbank(s.num_filters, s.fft_length, sample_rate, s.low_frequency,
                         s.high_frequency > 0 ? s.high_frequency : sample_rate / 2.0)),
      fft_(s.fft_length),
      power_(static_cast<size_t>(fft_.bins())) {}

void FrameAnalyzer::analyse(std::span<const double> frame, double* mel, double* energy) {
  // Rectangular window; the FFT crops a frame longer than NFFT to its first NFFT samples.
  fft_.power_spectrum(frame, power_);
  double e = 0;
  for (double p : power_) e += p;
  *energy = e == 0.0 ? 1e-10 : e;
  for (size_t f = 0; f < fb_.rows.size(); ++f) {
    const auto& row = fb_.rows[f];
    double m = 0;
    for (size_t k = 0; k < row.weights.size(); ++k) m += row.weights[k] * power_[row.first + k];
    mel[f] = m == 0.0 ? 1e-10 : m;
  }
}

MelEnergies mel_energies(std::span<const double> signal, int sample_rate, const FramingSpec& s) {
  FrameAnalyzer fa(sample_rate, s);
  MelEnergies out;
  out.frames = frame_count(static_cast<long long>(signal.size()), fa.frame_length(), fa.stride());
  out.filters = s.num_filters;
  out.mel.assign(static_cast<size_t>(out.frames) * s.num_filters, 0.0);
  out.energy.assign(static_cast<size_t>(out.frames), 0.0);
  for (int t = 0; t < out.frames; ++t)
    fa.analyse(signal.subspan(static_cast<size_t>(t) * fa.stride(), fa.frame_length()),
               &out.mel[static_cast<size_t>(t) * s.num_filters], &out.energy[t]);
  return out;
}

}  // namespace dkws::dsp
