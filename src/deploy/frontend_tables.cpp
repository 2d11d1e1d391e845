// Tables for the C MFCC front end: FFT twiddles and bit reversal, the sparse mel filterbank and the
// orthonormal DCT-II rows, all from the same definitions the C++ front end (src/dsp) uses.
#include "deploy/frontend_tables.hpp"

#include <cmath>
#include <numbers>

#include <fmt/core.h>

#include "dkws/error.hpp"
#include "dsp/front_end_steps.hpp"

namespace dkws::deploy {

FrontEndTables::FrontEndTables(const FrontEndConfig& cfg) {
  if (cfg.block != "mfcc")
    throw Error(
        fmt::format("export: front_end.block '{}' has no C implementation (mfcc only)", cfg.block));
  const MfccParams& p = cfg.mfcc;
  if (p.pre_shift != 1)
    throw Error(fmt::format("export: front_end pre_shift {} has no C implementation (1 only)",
                            p.pre_shift));
  cfg.validate();
  const int rate = cfg.sample_rate, n = p.fft_length, half = n / 2;
  const double pi = std::numbers::pi;
  for (int k = 0; k < std::max(1, half / 2); ++k) {
    twiddle.push_back(float(std::cos(-2 * pi * k / half)));
    twiddle.push_back(float(std::sin(-2 * pi * k / half)));
  }
  for (int k = 0; k <= half; ++k) {
    post.push_back(float(std::cos(-2 * pi * k / n)));
    post.push_back(float(std::sin(-2 * pi * k / n)));
  }
  int bits = 0;
  while ((1 << bits) < half) ++bits;
  for (int i = 0; i < half; ++i) {
    int r = 0;
    for (int b = 0; b < bits; ++b) r |= ((i >> b) & 1) << (bits - 1 - b);
    bitrev.push_back(uint16_t(r));
  }
  const double high = p.high_frequency > 0 ? p.high_frequency : rate / 2.0;
  const dsp::MelFilterbank fb = dsp::mel_filterbank(p.num_filters, n, rate, p.low_frequency, high);
  for (const auto& row : fb.rows) {
    fb_first.push_back(int16_t(row.first));
    fb_len.push_back(int16_t(row.weights.size()));
    for (double w : row.weights) fb_weights.push_back(float(w));
  }
  const int nf = p.num_filters, nc = p.num_cepstral;
  for (int k = 1; k < nc; ++k)
    for (int i = 0; i < nf; ++i)
      dct.push_back(float(std::sqrt(2.0 / nf) * std::cos(pi * k * (2 * i + 1) / (2.0 * nf))));

  fe.window_samples = int(std::llround(cfg.window_seconds * rate));
  fe.frame_len = dsp::seconds_to_samples(p.frame_length, rate);
  fe.frame_stride = dsp::seconds_to_samples(p.frame_stride, rate);
  fe.frames = cfg.frames();
  fe.fft_len = n;
  fe.num_filters = nf;
  fe.num_cepstral = nc;
  fe.cmvn_win = p.win_size;
  fe.pre_cof = float(p.pre_cof);
  fe.twiddle = twiddle.data();
  fe.post = post.data();
  fe.bitrev = bitrev.data();
  fe.fb_first = fb_first.data();
  fe.fb_len = fb_len.data();
  fe.fb_weights = fb_weights.data();
  fe.dct = dct.data();
}

}  // namespace dkws::deploy
