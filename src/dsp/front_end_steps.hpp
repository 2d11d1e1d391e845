// The steps of the MFCC and MFE front ends as separate pieces, for stages that compute features
// piece by piece and must agree bit for bit with compute_features (dsp.hpp): the streaming front
// end (src/stream) runs them on frames as their samples arrive, and the C front end's tables
// (src/deploy) are built from the same filterbank and framing rules. Everything works in double
// precision; only the public compute_* functions round to float.
#pragma once
#include <complex>
#include <span>
#include <vector>

#include "dkws/dsp.hpp"

namespace dkws::dsp {

// Edge Impulse's rule for seconds -> samples (implementation v2+): ceil, unless the value is within
// 0.001 of the integer below it (so 0.02 s * 16000 = 320.0000001 stays 320).
int seconds_to_samples(double seconds, int sample_rate);

// y[i] = x[i] - cof * prev[i]: the arithmetic of preemphasis() with the predecessors given, so the
// streaming front end (src/stream), which keeps them from earlier slices, rounds identically.
void preemphasise(std::span<const double> x, std::span<const double> prev, double cof,
                  std::span<double> y);

// MFE's float32 pre-emphasis of one sample: cur and prev are int16-scaled samples. Each step is
// rounded to float on its own (no FMA can form), as the reference does; see compute_mfe.
inline float mfe_scaled(float v) {
  return static_cast<float>(static_cast<double>(v) / 32768.0);
}
inline double mfe_preemphasised(float cur, float prev) {
  const float s = mfe_scaled(cur), p = mfe_scaled(prev);
  const auto prod = static_cast<float>(static_cast<double>(0.98f) * p);
  return static_cast<float>(static_cast<double>(s) - prod);
}

// Real-input FFT of a power-of-two length n, via an n/2-point complex radix-2 FFT.
class RealFft {
 public:
  explicit RealFft(int n);
  int size() const { return n_; }
  int bins() const { return n_ / 2 + 1; }
  // |rfft(x, n)|^2 / n for bins 0..n/2. x is zero-padded or cropped to n, as numpy's rfft(n=) does.
  void power_spectrum(std::span<const double> x, std::span<double> out);

 private:
  void complex_fft(std::vector<std::complex<double>>& a) const;
  int n_, half_;
  std::vector<std::complex<double>> twiddle_;  // exp(-2 pi i k / half), k < half/2
  std::vector<std::complex<double>> post_;     // exp(-2 pi i k / n), k <= half
  std::vector<int> bitrev_;
  std::vector<std::complex<double>> buf_;
};

// Triangular mel filters over the rfft bins, stored sparsely (each row covers [first, first+w)).
struct MelFilterbank {
  struct Row {
    int first = 0;
    std::vector<double> weights;
  };
  int bins = 0;
  std::vector<Row> rows;
  // Index of the first filter whose weights are all zero, or -1 when every filter has some weight.
  int first_empty_row() const;
};

// low/high in Hz (high > 0; callers resolve "0 means fs/2" first).
MelFilterbank mel_filterbank(int num_filters, int fft_length, int sample_rate, double low_hz,
                             double high_hz);

struct FramingSpec {
  double frame_length;
  double frame_stride;
  int fft_length;
  int num_filters;
  double low_frequency;
  double high_frequency;  // 0 means fs/2
};

// The framing of a block's parameters (MfccParams or MfeParams), and of a front end's active
// block: one place that reads these fields, for the offline, streaming and C front ends.
template <class P>
FramingSpec framing_of(const P& p) {
  return {p.frame_length, p.frame_stride,  p.fft_length,
          p.num_filters,  p.low_frequency, p.high_frequency};
}
inline FramingSpec framing_of(const FrontEndConfig& c) {
  return c.block == "mfe" ? framing_of(c.mfe) : framing_of(c.mfcc);
}

// One frame's power spectrum, energy and mel energies. mel_energies() runs it over every frame;
// the streaming front end runs it on frames as their samples arrive, so both agree bit for bit.
class FrameAnalyzer {
 public:
  FrameAnalyzer(int sample_rate, const FramingSpec& s);
  int frame_length() const { return flen_; }
  int stride() const { return stride_; }
  int filters() const { return static_cast<int>(fb_.rows.size()); }
  // frame: frame_length() pre-emphasised samples. Writes filters() mel energies and the frame
  // energy, zeros replaced by 1e-10.
  void analyse(std::span<const double> frame, double* mel, double* energy);

 private:
  int flen_, stride_;
  MelFilterbank fb_;
  RealFft fft_;
  std::vector<double> power_;
};

// MFCC of one frame before CMVN: c[0] = ln(frame energy), c[k] = orthonormal DCT-II row k of the
// log mel energies (scipy dct(type=2, norm='ortho')).
class Cepstrum {
 public:
  Cepstrum(int num_filters, int num_cepstral);
  void compute(const double* mel, double energy, double* c);

 private:
  int nf_, nc_;
  std::vector<double> dct_;  // rows 1..nc-1; row 0 is never used
  std::vector<double> logmel_;
};

// MFE value of one mel energy: dB, mapped from [floor_db, 12 dB] onto [0, 1], quantised to 1/256.
double mfe_value(double mel, double floor_db);

// Sliding-window cepstral mean and variance normalisation (speechpy cmvnw, variance on), in place
// on a rows x cols frame-major matrix. win must be odd.
void sliding_cmvn(std::vector<double>& m, int rows, int cols, int win);
}  // namespace dkws::dsp
