// Per-channel elementwise kernels over channels-last rows ([rows][channels], contiguous), shared by
// the wrapped layer and its candidates.
//
// Channel counts are small (1 to 64) and known only at run time, so a loop over rows with an inner
// loop over channels pays its loop overhead once per row and leaves vector lanes empty. These
// kernels instead walk the rows in chunks of a fixed width that holds whole rows (about 64 floats),
// with the per-channel vector repeated across the chunk: one long, fully vectorised loop.
#pragma once
#include <algorithm>
#include <cstddef>

namespace dkws::dendrite {

namespace channel_detail {
constexpr size_t kLanes = 64;

struct Chunking {
  size_t rows_per_chunk, width, chunks;  // width = rows_per_chunk * channels <= kLanes
  bool usable;                           // false: channels > kLanes, use the plain loop
};

inline Chunking chunking(size_t rows, size_t channels) {
  const size_t per = std::max<size_t>(1, kLanes / channels);
  return {per, per * channels, rows / per, per * channels <= kLanes && rows >= per};
}

// rep[i] = s[i % channels] for i < width.
inline void repeat(const float* s, size_t channels, size_t width, float* rep) {
  for (size_t r = 0; r < width; r += channels)
    for (size_t c = 0; c < channels; ++c) rep[r + c] = s[c];
}
}  // namespace channel_detail

// out[r][c] (+)= s[c] * in[r][c]; Accumulate selects += or =.
template <bool Accumulate>
inline void scale_rows(const float* __restrict s, const float* __restrict in, float* __restrict out,
                       size_t rows, size_t channels) {
  using namespace channel_detail;
  const Chunking ch = chunking(rows, channels);
  size_t done_rows = 0;
  if (ch.usable) {
    float rep[kLanes];
    repeat(s, channels, ch.width, rep);
    for (size_t k = 0; k < ch.chunks; ++k) {
      const float* pi = in + k * ch.width;
      float* po = out + k * ch.width;
      for (size_t i = 0; i < ch.width; ++i) po[i] = (Accumulate ? po[i] : 0.f) + rep[i] * pi[i];
    }
    done_rows = ch.chunks * ch.rows_per_chunk;
  }
  for (size_t r = done_rows; r < rows; ++r)
    for (size_t c = 0; c < channels; ++c) {
      float& o = out[r * channels + c];
      o = (Accumulate ? o : 0.f) + s[c] * in[r * channels + c];
    }
}

// out[r][c] += s[c] * in[r][c].
inline void add_scaled_rows(const float* s, const float* in, float* out, size_t rows,
                            size_t channels) {
  scale_rows<true>(s, in, out, rows, channels);
}

// out[r][c] = s[c] * (in[r][c] + b[c]).
inline void shift_scale_rows(const float* __restrict b, const float* __restrict s,
                             const float* __restrict in, float* __restrict out, size_t rows,
                             size_t channels) {
  using namespace channel_detail;
  const Chunking ch = chunking(rows, channels);
  size_t done_rows = 0;
  if (ch.usable) {
    float rep_b[kLanes], rep_s[kLanes];
    repeat(b, channels, ch.width, rep_b);
    repeat(s, channels, ch.width, rep_s);
    for (size_t k = 0; k < ch.chunks; ++k) {
      const float* pi = in + k * ch.width;
      float* po = out + k * ch.width;
      for (size_t i = 0; i < ch.width; ++i) po[i] = rep_s[i] * (pi[i] + rep_b[i]);
    }
    done_rows = ch.chunks * ch.rows_per_chunk;
  }
  for (size_t r = done_rows; r < rows; ++r)
    for (size_t c = 0; c < channels; ++c)
      out[r * channels + c] = s[c] * (in[r * channels + c] + b[c]);
}

// grad[c] += sum_r a[r][c] * b[r][c] (WithB) or sum_r a[r][c]. Summing row after row straight
// into grad[c] would be one long chain of dependent adds; the chunk-wide accumulator breaks it.
template <bool WithB>
inline void reduce_rows(const float* __restrict a, const float* __restrict b,
                        float* __restrict grad, size_t rows, size_t channels) {
  using namespace channel_detail;
  const Chunking ch = chunking(rows, channels);
  auto term = [&](size_t i) { return WithB ? a[i] * b[i] : a[i]; };
  size_t done_rows = 0;
  if (ch.usable) {
    float acc[kLanes] = {};
    for (size_t k = 0; k < ch.chunks; ++k)
      for (size_t i = 0; i < ch.width; ++i) acc[i] += term(k * ch.width + i);
    for (size_t r = 0; r < ch.rows_per_chunk; ++r)
      for (size_t c = 0; c < channels; ++c) grad[c] += acc[r * channels + c];
    done_rows = ch.chunks * ch.rows_per_chunk;
  }
  for (size_t r = done_rows; r < rows; ++r)
    for (size_t c = 0; c < channels; ++c) grad[c] += term(r * channels + c);
}

inline void accumulate_channel_dot(const float* a, const float* b, float* grad, size_t rows,
                                   size_t channels) {
  reduce_rows<true>(a, b, grad, rows, channels);
}

inline void accumulate_channel_sum(const float* a, float* sum, size_t rows, size_t channels) {
  reduce_rows<false>(a, nullptr, sum, rows, channels);
}

}  // namespace dkws::dendrite
