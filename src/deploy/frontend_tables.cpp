// Tables for the C MFCC and MFE front ends: FFT twiddles and bit reversal, the sparse mel
// filterbank and the orthonormal DCT-II rows, all from the same definitions the C++ front end
// (src/dsp) uses.
#include "deploy/frontend_tables.hpp"

#include <cmath>
#include <numbers>

#include <fmt/core.h>

#include "dkws/error.hpp"
#include "dsp/front_end_steps.hpp"

namespace dkws::deploy {

FrontEndTables::FrontEndTables(const FrontEndConfig& cfg) {
  const bool mfe = cfg.block == "mfe";
  if (!mfe && cfg.block != "mfcc")
    throw Error(
        fmt::format("export: front_end.block '{}' has no C implementation (mfcc, mfe)", cfg.block));
  if (!mfe && cfg.mfcc.pre_shift != 1)
    throw Error(fmt::format("export: front_end pre_shift {} has no C implementation (1 only)",
                            cfg.mfcc.pre_shift));
  cfg.validate();
  const dsp::FramingSpec p = dsp::framing_of(cfg);
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
  const int nf = p.num_filters, nc = mfe ? nf : cfg.mfcc.num_cepstral;
  if (!mfe)
    for (int k = 1; k < nc; ++k)
      for (int i = 0; i < nf; ++i)
        dct.push_back(float(std::sqrt(2.0 / nf) * std::cos(pi * k * (2 * i + 1) / (2.0 * nf))));
  if (dct.empty()) dct.push_back(0.f);  // MFE has none; a one-entry table keeps the C valid

  fe.window_samples = int(std::llround(cfg.window_seconds * rate));
  fe.frame_len = dsp::seconds_to_samples(p.frame_length, rate);
  fe.frame_stride = dsp::seconds_to_samples(p.frame_stride, rate);
  fe.frames = cfg.frames();
  fe.fft_len = n;
  fe.num_filters = nf;
  fe.coeffs = nc;
  // MFE pre-emphasises with 0.98 in float32 and has no CMVN (compute_mfe).
  fe.cmvn_win = mfe ? 0 : cfg.mfcc.win_size;
  fe.pre_cof = mfe ? 0.98f : float(cfg.mfcc.pre_cof);
  fe.mfe = mfe ? 1 : 0;
  fe.noise_floor_db = mfe ? float(cfg.mfe.noise_floor_db) : 0.f;
  fe.twiddle = twiddle.data();
  fe.post = post.data();
  fe.bitrev = bitrev.data();
  fe.fb_first = fb_first.data();
  fe.fb_len = fb_len.data();
  fe.fb_weights = fb_weights.data();
  fe.dct = dct.data();
}

}  // namespace dkws::deploy
