// The streaming front end: the offline MFCC/MFE of the last window, computed one slice at a time.
//
// Why it equals the offline features bit for bit: it runs the same per-frame code (dsp::
// FrameAnalyzer, dsp::Cepstrum, dsp::mfe_value, dsp::preemphasise) on the same double values, and
// redoes per window exactly the two steps that depend on the whole window:
//   - pre-emphasis wraps around (numpy.roll): the window's first `shift` samples are emphasised
//     against its LAST samples, so frames starting before `shift` differ from window to window
//     and are recomputed for each one (one frame with the defaults);
//   - MFCC's sliding CMVN (win_size 101 > 50 frames) normalises every frame by statistics over the
//     whole window, mirrored at its ends, so it is recomputed on the window's raw cepstra.
// Every other frame depends only on its own samples and their predecessors, which are the same in
// the stream as in the window; those frames are analysed once, when their last sample arrives, and
// kept in a ring.
//
// Frames of successive windows sit on different grids when the hop is not a multiple of the frame
// stride (250 ms hop, 20 ms stride: windows start 12.5 frames apart). Frames are therefore kept on
// the grid of gcd(hop, stride) samples, which holds the frames of every window (twice the frames
// of one grid with the defaults, still only the new ones per slice).
#include <algorithm>
#include <cmath>
#include <numeric>
#include <optional>

#include <fmt/core.h>

#include "dkws/error.hpp"
#include "dkws/stream.hpp"
#include "dsp/front_end_steps.hpp"

namespace dkws {

struct StreamingFrontEnd::Impl {
  FrontEndConfig cfg;
  bool mfe = false;
  int hop = 0, window = 0;  // samples
  int flen = 0, stride = 0, frames = 0, coeffs = 0;
  int shift = 0;      // pre-emphasis shift within the window (0 .. window-1)
  double cof = 0.98;  // MFCC pre-emphasis coefficient
  int grid = 0;       // gcd(hop, stride): every window's frames start on it
  dsp::FrameAnalyzer analyzer;
  std::optional<dsp::Cepstrum> cepstrum;

  // Positions u count samples from the start of the virtual zero prefix: window k (after k
  // pushes) covers u in [k*hop, k*hop + window).
  long long pushes = 0;
  std::vector<float> win;   // the current window's samples
  long long next_grid = 0;  // next grid frame position to analyse
  int ring_size = 0;
  std::vector<double> ring;  // ring_size x coeffs raw per-frame features
  std::vector<long long> ring_pos;
  size_t analysed = 0;

  std::vector<double> x, prev, y, mel, raw;  // scratch
  FeatureMatrix out;

  Impl(const FrontEndConfig& c, int hop_samples)
      : cfg(c), analyzer(c.sample_rate, dsp::framing_of(c)) {
    mfe = cfg.block == "mfe";
    hop = hop_samples;
    window = static_cast<int>(std::llround(cfg.window_seconds * cfg.sample_rate));
    flen = analyzer.frame_length();
    stride = analyzer.stride();
    frames = cfg.frames();
    coeffs = cfg.coeffs();
    if (mfe) {
      shift = 1;
    } else {
      shift = cfg.mfcc.pre_shift % window;
      cof = cfg.mfcc.pre_cof;
      cepstrum.emplace(cfg.mfcc.num_filters, cfg.mfcc.num_cepstral);
    }
    grid = std::gcd(hop, stride);
    win.assign(static_cast<size_t>(window), 0.f);
    ring_size = (window - flen) / grid + 2;
    ring.assign(static_cast<size_t>(ring_size) * coeffs, 0.0);
    ring_pos.assign(static_cast<size_t>(ring_size), -1);
    x.resize(static_cast<size_t>(flen));
    prev.resize(static_cast<size_t>(flen));
    y.resize(static_cast<size_t>(flen));
    mel.resize(static_cast<size_t>(analyzer.filters()));
    raw.resize(static_cast<size_t>(frames) * coeffs);
    out.frames = frames;
    out.coeffs = coeffs;
    out.data.resize(raw.size());
  }

  // Analyses the frame whose pre-emphasised samples are in y into raw features at dst.
  void analyse(double* dst) {
    double energy = 0;
    analyzer.analyse(y, mel.data(), &energy);
    ++analysed;
    if (mfe) {
      for (int f = 0; f < coeffs; ++f) dst[f] = dsp::mfe_value(mel[f], cfg.mfe.noise_floor_db);
    } else {
      cepstrum->compute(mel.data(), energy, dst);
    }
  }

  // Pre-emphasises the frame starting at window offset `start`; the predecessor of window offset
  // p is p - shift, wrapped into the window as numpy.roll does (only frames with start < shift
  // ever wrap).
  void emphasise(int start) {
    for (int i = 0; i < flen; ++i) {
      const int p = start + i;
      const int q = p - shift < 0 ? p - shift + window : p - shift;
      if (mfe) {
        y[i] = dsp::mfe_preemphasised(win[p], win[q]);
      } else {
        x[i] = win[p];
        prev[i] = win[q];
      }
    }
    if (!mfe) dsp::preemphasise(x, prev, cof, y);
  }

  const FeatureMatrix& push(std::span<const float> slice) {
    if (static_cast<int>(slice.size()) != hop)
      throw Error(
          fmt::format("streaming front end: slice of {} samples, expected {}", slice.size(), hop));
    if (hop >= window) {
      std::copy(slice.end() - window, slice.end(), win.begin());
    } else {
      std::copy(win.begin() + hop, win.end(), win.begin());
      std::copy(slice.begin(), slice.end(), win.end() - hop);
    }
    ++pushes;
    const long long start = pushes * hop;  // u of the window's first sample

    // New frames on the grid that no later window will need to wrap: they start at or after
    // start + shift (later windows start later still) and end inside this window.
    long long first = start + shift;
    first = (first + grid - 1) / grid * grid;
    if (next_grid < first) next_grid = first;
    for (; next_grid + flen <= start + window; next_grid += grid) {
      emphasise(static_cast<int>(next_grid - start));
      const int slot = static_cast<int>((next_grid / grid) % ring_size);
      analyse(&ring[static_cast<size_t>(slot) * coeffs]);
      ring_pos[static_cast<size_t>(slot)] = next_grid;
    }

    // Assemble the window: wrapped frames fresh, the rest from the ring.
    for (int j = 0; j < frames; ++j) {
      double* dst = &raw[static_cast<size_t>(j) * coeffs];
      const long long q = start + static_cast<long long>(j) * stride;
      if (static_cast<long long>(j) * stride < shift) {
        emphasise(j * stride);
        analyse(dst);
        continue;
      }
      const int slot = static_cast<int>((q / grid) % ring_size);
      if (ring_pos[static_cast<size_t>(slot)] != q)
        throw Error("streaming front end: internal error, frame missing from the ring");
      std::copy_n(&ring[static_cast<size_t>(slot) * coeffs], coeffs, dst);
    }
    if (!mfe && cfg.mfcc.win_size > 0) dsp::sliding_cmvn(raw, frames, coeffs, cfg.mfcc.win_size);
    for (size_t i = 0; i < raw.size(); ++i) out.data[i] = static_cast<float>(raw[i]);
    return out;
  }
};

StreamingFrontEnd::StreamingFrontEnd(const FrontEndConfig& cfg, int hop_samples) {
  cfg.validate();
  if (hop_samples < 1)
    throw Error(
        fmt::format("streaming front end: hop must be at least one sample (got {})", hop_samples));
  impl_ = std::make_unique<Impl>(cfg, hop_samples);
}
StreamingFrontEnd::~StreamingFrontEnd() = default;
StreamingFrontEnd::StreamingFrontEnd(StreamingFrontEnd&&) noexcept = default;
StreamingFrontEnd& StreamingFrontEnd::operator=(StreamingFrontEnd&&) noexcept = default;

int StreamingFrontEnd::hop_samples() const {
  return impl_->hop;
}
int StreamingFrontEnd::window_samples() const {
  return impl_->window;
}
const FeatureMatrix& StreamingFrontEnd::push(std::span<const float> slice) {
  return impl_->push(slice);
}
long long StreamingFrontEnd::samples_seen() const {
  return impl_->pushes * impl_->hop;
}
size_t StreamingFrontEnd::frames_analysed() const {
  return impl_->analysed;
}

}  // namespace dkws
