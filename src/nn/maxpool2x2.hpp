// The AudioClassifier's pool: 2x2, stride 2, 'valid', channels-last [N, H, W, C]. The general
// max pool records an argmax index per output in forward, a compare-and-select per cell per
// window; here forward only takes maxima (three max instructions per 4 cells), and backward finds
// each window's cell again as the first one, in scan order, equal to the output: the same cell
// the recorded argmax holds (first maximum wins ties, as in torch), for finite inputs. Backward
// then writes every cell of dx once, instead of zeroing dx and scattering into it. Evaluation
// passes, which never call backward, skip the search entirely.
// Loops run over (output column, channel) with the channel count a compile-time constant for every
// count the search space's widths give (base channels 8, 16, 24, 32, 64 times 0.25 to 2), so each
// window's channels are whole vector operations.
#pragma once
#include <algorithm>
#include <cstddef>

namespace dkws::nn::detail {

// Calls f(ChannelCount<C>{}) with C the channel count as a compile-time constant for every count
// the search space's widths give, or C = 0 (the count at run time) for any other.
template <int C>
struct ChannelCount {
  static constexpr int value = C;
};
template <class F>
void dispatch_channels(int ch, F&& f) {
  switch (ch) {
    case 1:
      return f(ChannelCount<1>{});
    case 2:
      return f(ChannelCount<2>{});
    case 4:
      return f(ChannelCount<4>{});
    case 6:
      return f(ChannelCount<6>{});
    case 8:
      return f(ChannelCount<8>{});
    case 12:
      return f(ChannelCount<12>{});
    case 16:
      return f(ChannelCount<16>{});
    case 24:
      return f(ChannelCount<24>{});
    case 32:
      return f(ChannelCount<32>{});
    case 48:
      return f(ChannelCount<48>{});
    case 64:
      return f(ChannelCount<64>{});
    default:
      return f(ChannelCount<0>{});
  }
}

struct MaxPool2x2 {
  int n, h, w, ch;  // input sizes; outputs h/2 x w/2 (an odd last row or column is dropped)

  void forward(const float* x, float* y) const {
    dispatch_channels(ch, [&](auto c) { forward_t<decltype(c)::value>(x, y); });
  }
  void backward(const float* x, const float* y, const float* dy, float* dx) const {
    dispatch_channels(ch, [&](auto c) { backward_t<decltype(c)::value>(x, y, dy, dx); });
  }

 private:
  template <int C>
  void forward_t(const float* __restrict x, float* __restrict y) const {
    const int c_n = C > 0 ? C : ch, oh = h / 2, ow = w / 2;
    const size_t row = size_t(w) * c_n;
    for (int i = 0; i < n * oh; ++i) {
      const float* __restrict a = x + (size_t(i / oh) * h + 2 * (i % oh)) * row;
      const float* __restrict b = a + row;
      float* __restrict yr = y + size_t(i) * ow * c_n;
      for (int j = 0; j < ow; ++j)
        for (int c = 0; c < c_n; ++c) {
          const size_t k = size_t(2 * j) * c_n + c;
          yr[j * c_n + c] = std::max(std::max(a[k], a[k + c_n]), std::max(b[k], b[k + c_n]));
        }
    }
  }

  template <int C>
  void backward_t(const float* __restrict x, const float* __restrict y, const float* __restrict dy,
                  float* __restrict dx) const {
    const int c_n = C > 0 ? C : ch, oh = h / 2, ow = w / 2;
    const size_t row = size_t(w) * c_n;
    for (int it = 0; it < n; ++it) {
      for (int i = 0; i < oh; ++i) {
        const size_t r0 = (size_t(it) * h + 2 * i) * row;
        const float* __restrict a = x + r0;
        const float* __restrict b = a + row;
        float* __restrict da = dx + r0;
        float* __restrict db = da + row;
        const size_t yo = (size_t(it) * oh + i) * ow * c_n;
        for (int j = 0; j < ow; ++j)
          for (int c = 0; c < c_n; ++c) {
            const size_t k = size_t(2 * j) * c_n + c;
            const float m = y[yo + j * c_n + c], g = dy[yo + j * c_n + c];
            // The first cell in scan order equal to the maximum takes the gradient: each cell
            // takes what is left, g or, once an earlier cell took it, g - g = 0 (exact for finite
            // g; a non-finite gradient has already wrecked the step). Arithmetic on what is left,
            // rather than chained conditions, keeps the loop branch-free: it vectorises for every
            // channel count (selects on the conditions measured 2.6x slower with 4 channels).
            const float g0 = a[k] == m ? g : 0.f, r1 = g - g0;
            const float g1 = a[k + c_n] == m ? r1 : 0.f, r2 = r1 - g1;
            const float g2 = b[k] == m ? r2 : 0.f;
            da[k] = g0;
            da[k + c_n] = g1;
            db[k] = g2;
            db[k + c_n] = r2 - g2;
          }
        if (w % 2) {  // the last column of both rows belongs to no window
          std::fill(da + row - c_n, da + row, 0.f);
          std::fill(db + row - c_n, db + row, 0.f);
        }
      }
      if (h % 2) {  // nor does the last row
        float* last = dx + (size_t(it) * h + h - 1) * row;
        std::fill(last, last + row, 0.f);
      }
    }
  }
};

}  // namespace dkws::nn::detail
