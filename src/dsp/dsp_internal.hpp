// Building blocks shared by the MFCC and MFE front ends (private to src/dsp). Everything here works
// in double precision; only the public compute_* functions round to float.
#pragma once
#include <complex>
#include <span>
#include <string>
#include <vector>

#include "dkws/dsp.hpp"

namespace dkws::dsp {

// Edge Impulse's rule for seconds -> samples (implementation v2+): ceil, unless the value is within
// 0.001 of the integer below it (so 0.02 s * 16000 = 320.0000001 stays 320).
int seconds_to_samples(double seconds, int sample_rate);

// Frames of `frame_len` samples every `stride` samples with no padding:
// floor((n - (frame_len - stride)) / stride), or 0 when the signal is shorter than one frame.
int frame_count(long long n_samples, int frame_len, int stride);

// y[i] = x[i] - cof * x[i - shift], with the index wrapping around (numpy.roll semantics).
std::vector<double> preemphasis(std::span<const double> x, double cof, int shift);
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

bool is_power_of_two(long long n);

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

// Per-frame mel energies and total frame energies (both with zeros replaced by 1e-10).
struct MelEnergies {
  int frames = 0;
  int filters = 0;
  std::vector<double> mel;     // frames x filters, frame-major
  std::vector<double> energy;  // per frame: sum of the power spectrum
};

struct FramingSpec {
  double frame_length;
  double frame_stride;
  int fft_length;
  int num_filters;
  double low_frequency;
  double high_frequency;  // 0 means fs/2
};

MelEnergies mel_energies(std::span<const double> signal, int sample_rate, const FramingSpec& s);

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

// Parameter checks. Each returns an empty string when fine, else a one-line reason naming the
// parameter. check_value holds the rules for one parameter on its own (by its block name, the same
// for both blocks); the block checks add those that tie parameters to each other, to the rate and,
// when n_samples >= 0, to the signal length.
std::string check_value(const std::string& name, double value);
std::string check_mfcc(const MfccParams& p, int sample_rate, long long n_samples);
std::string check_mfe(const MfeParams& p, int sample_rate, long long n_samples);

}  // namespace dkws::dsp
