// A small real FFT (radix-2, double precision, no dependency). The n-point real transform packs
// even/odd samples into an n/2-point complex FFT and untangles the halves afterwards, which halves
// the work against a plain complex FFT of real data.
#include <cmath>
#include <numbers>

#include "dkws/error.hpp"
#include "dsp/dsp_internal.hpp"

namespace dkws::dsp {

bool is_power_of_two(long long n) {
  return n > 0 && (n & (n - 1)) == 0;
}

RealFft::RealFft(int n) : n_(n), half_(n / 2) {
  if (n < 2 || !is_power_of_two(n))
    throw Error("fft_length must be a power of two >= 2 (got " + std::to_string(n) + ")");
  const double pi = std::numbers::pi;
  twiddle_.resize(static_cast<size_t>(std::max(1, half_ / 2)));
  for (size_t k = 0; k < twiddle_.size(); ++k)
    twiddle_[k] = std::polar(1.0, -2.0 * pi * static_cast<double>(k) / half_);
  post_.resize(static_cast<size_t>(half_ + 1));
  for (int k = 0; k <= half_; ++k) post_[k] = std::polar(1.0, -2.0 * pi * k / n_);
  int bits = 0;
  while ((1 << bits) < half_) ++bits;
  bitrev_.resize(static_cast<size_t>(half_));
  for (int i = 0; i < half_; ++i) {
    int r = 0;
    for (int b = 0; b < bits; ++b) r |= ((i >> b) & 1) << (bits - 1 - b);
    bitrev_[i] = r;
  }
  buf_.resize(static_cast<size_t>(half_));
}

// In-place iterative decimation-in-time FFT of length half_ (input already in bit-reversed order).
void RealFft::complex_fft(std::vector<std::complex<double>>& a) const {
  for (int len = 2; len <= half_; len <<= 1) {
    const int step = half_ / len;
    const int h = len / 2;
    for (int i = 0; i < half_; i += len) {
      for (int j = 0; j < h; ++j) {
        const std::complex<double> u = a[i + j];
        const std::complex<double> v = a[i + j + h] * twiddle_[static_cast<size_t>(j * step)];
        a[i + j] = u + v;
        a[i + j + h] = u - v;
      }
    }
  }
}

void RealFft::power_spectrum(std::span<const double> x, std::span<double> out) {
  const size_t used = std::min(x.size(), static_cast<size_t>(n_));
  auto sample = [&](size_t i) { return i < used ? x[i] : 0.0; };
  for (int m = 0; m < half_; ++m)
    buf_[bitrev_[m]] = {sample(2 * static_cast<size_t>(m)), sample(2 * static_cast<size_t>(m) + 1)};
  complex_fft(buf_);

  // With z = even + i*odd and Z its FFT: E_k = (Z_k + conj Z_{h-k}) / 2 is the even samples'
  // spectrum, O_k = (Z_k - conj Z_{h-k}) / 2i the odd ones', and X_k = E_k + exp(-2 pi i k/n) O_k.
  const double scale = 1.0 / n_;
  for (int k = 0; k <= half_; ++k) {
    const std::complex<double> zk = buf_[static_cast<size_t>(k % half_)];
    const std::complex<double> zc = std::conj(buf_[static_cast<size_t>((half_ - k) % half_)]);
    const std::complex<double> even = 0.5 * (zk + zc);
    const std::complex<double> odd = std::complex<double>(0, -0.5) * (zk - zc);
    out[static_cast<size_t>(k)] = std::norm(even + post_[static_cast<size_t>(k)] * odd) * scale;
  }
}

}  // namespace dkws::dsp
