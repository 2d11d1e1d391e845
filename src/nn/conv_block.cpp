#include "nn/conv_block.hpp"

#include <bit>
#include <climits>
#include <cmath>

#include "nn/dropout_bits.hpp"
#include "nn/layer_util.hpp"
#include "nn/maxpool2x2.hpp"
#include "nn/simd.hpp"

namespace dkws::nn::detail {
namespace {

// A conv output (or its gradient) of n images h x w x ch, channels-last within each row, rows
// `row` floats apart and images `item` apart (a dense tensor, or the padded grid PlanarConv
// computes on), seen as oh x ow pool windows; an odd last row or column belongs to none.
struct Pooled {
  int n, h, w, ch;
  size_t row, item;
  Pooled(int n_, int h_, int w_, int ch_, size_t row_ = 0, size_t item_ = 0)
      : n(n_),
        h(h_),
        w(w_),
        ch(ch_),
        row(row_ ? row_ : size_t(w_) * ch_),
        item(item_ ? item_ : size_t(h_) * row) {}
  int oh() const { return h / 2; }
  int ow() const { return w / 2; }
  size_t size() const { return size_t(n) * oh() * ow() * ch; }
};

inline v8f vmax(v8f a, v8f b) {  // std::max lane by lane
  return a < b ? b : a;
}

// Which of a window's four cells (scan order a0, a1, b0, b1) is the first equal to the maximum m,
// or kNoGradient where m is not positive.
inline v8i first_max_cell(v8f a0, v8f a1, v8f b0, v8f m) {
  const v8i n0 = a0 != m, n1 = n0 & (a1 != m), n2 = n1 & (b0 != m);  // lanes -1 or 0
  return m > 0.f ? -(n0 + n1 + n2) : v8i{} + kNoGradient;
}

// 16 floats from a conv output row, read as columns of C channels, split into the even (left
// cell) and odd (right cell) columns of the windows they hold: 8 pooled lanes. C divides 8.
template <int C>
inline void split_columns(const float* p, v8f& even, v8f& odd) {
  const v8f lo = load8(p), hi = load8(p + 8);
  if constexpr (C == 1) {
    even = __builtin_shufflevector(lo, hi, 0, 2, 4, 6, 8, 10, 12, 14);
    odd = __builtin_shufflevector(lo, hi, 1, 3, 5, 7, 9, 11, 13, 15);
  } else if constexpr (C == 2) {
    even = __builtin_shufflevector(lo, hi, 0, 1, 4, 5, 8, 9, 12, 13);
    odd = __builtin_shufflevector(lo, hi, 2, 3, 6, 7, 10, 11, 14, 15);
  } else {
    even = __builtin_shufflevector(lo, hi, 0, 1, 2, 3, 8, 9, 10, 11);
    odd = __builtin_shufflevector(lo, hi, 4, 5, 6, 7, 12, 13, 14, 15);
  }
}

// The inverse: 8 left-cell and 8 right-cell lanes back into 16 floats of a row.
template <int C>
inline void merge_columns(v8f even, v8f odd, float* p) {
  if constexpr (C == 1) {
    store8(p, __builtin_shufflevector(even, odd, 0, 8, 1, 9, 2, 10, 3, 11));
    store8(p + 8, __builtin_shufflevector(even, odd, 4, 12, 5, 13, 6, 14, 7, 15));
  } else if constexpr (C == 2) {
    store8(p, __builtin_shufflevector(even, odd, 0, 1, 8, 9, 2, 3, 10, 11));
    store8(p + 8, __builtin_shufflevector(even, odd, 4, 5, 12, 13, 6, 7, 14, 15));
  } else {
    store8(p, __builtin_shufflevector(even, odd, 0, 1, 2, 3, 8, 9, 10, 11));
    store8(p + 8, __builtin_shufflevector(even, odd, 4, 5, 6, 7, 12, 13, 14, 15));
  }
}

// Where 8 pooled lanes from flat index o of a pooled row read their left cells in a conv output
// row (the right cells are C further on): whole vectors only when C is a multiple of 8 or divides
// 8; other counts take the scalar loop.
template <int C>
constexpr bool kVectorPool = C > 0 && (C % 8 == 0 || 8 % C == 0);

// 8 pooled lanes from their windows' four cells (scan order a0, a1, b0, b1): z =
// dropout(relu(max)), the winner as first_max_cell, and with a mask (random words on entry) the
// dropout decision, whose scale bits replace the words (as backward reads them).
inline void pool8(v8f a0, v8f a1, v8f b0, v8f b1, uint32_t* __restrict mask,
                  const DropoutBits& keep, float* __restrict z, uint8_t* __restrict winner) {
  const v8f m = vmax(vmax(a0, a1), vmax(b0, b1));
  v8f v = m > 0.f ? m : v8f{};
  if (mask) {
    v8u words;
    std::memcpy(&words, mask, sizeof words);
    const v8u bits = (words >= keep.threshold) & keep.scale;
    std::memcpy(mask, &bits, sizeof bits);
    v *= std::bit_cast<v8f>(bits);
  }
  store8(z, v);
  const v8u8 win = narrow_u8(first_max_cell(a0, a1, b0, m));
  std::memcpy(winner, &win, sizeof win);
}

// z = dropout(relu(maxpool(y))) for pooled rows; winner as first_max_cell. relu(max) equals
// max(relu) cell for cell, so the values are those of the separate layers. With a mask, it holds
// one random word per pooled value on entry and the dropout scale bits (DropoutBits, as backward
// reads them) on return: the decision is taken here rather than in a pass of its own.
template <int C>
void pool_relu_dropout(const float* __restrict y, const Pooled& p, uint32_t* __restrict mask,
                       const DropoutBits& keep, float* __restrict z, uint8_t* __restrict winner) {
  const int c_n = C > 0 ? C : p.ch, oh = p.oh(), len = p.ow() * c_n;
  for (int i = 0; i < p.n * oh; ++i) {
    const float* a = y + size_t(i / oh) * p.item + 2 * size_t(i % oh) * p.row;
    const float* b = a + p.row;
    const size_t zo = size_t(i) * len;
    int o = 0;
    if constexpr (kVectorPool<C>) {
      for (; o + 8 <= len; o += 8) {
        v8f a0, a1, b0, b1;
        if constexpr (C % 8 == 0) {
          const int k = 2 * o - o % C;  // column 2j, channel c of pooled lane o = j*C + c
          a0 = load8(a + k), a1 = load8(a + k + C), b0 = load8(b + k), b1 = load8(b + k + C);
        } else {
          split_columns<C>(a + 2 * o, a0, a1);
          split_columns<C>(b + 2 * o, b0, b1);
        }
        pool8(a0, a1, b0, b1, mask ? mask + zo + o : nullptr, keep, z + zo + o, winner + zo + o);
      }
    }
    for (; o < len; ++o) {
      const int c = o % c_n, k = 2 * (o - c) + c;
      const float a0 = a[k], a1 = a[k + c_n], b0 = b[k], b1 = b[k + c_n];
      const float m = std::max(std::max(a0, a1), std::max(b0, b1));
      const float v = m > 0.f ? m : 0.f;
      if (mask) mask[zo + o] = keep(mask[zo + o]);
      z[zo + o] = mask ? v * std::bit_cast<float>(mask[zo + o]) : v;
      const int n0 = a0 != m, n1 = n0 & (a1 != m), n2 = n1 & (b0 != m);
      winner[zo + o] = uint8_t(m > 0.f ? n0 + n1 + n2 : kNoGradient);
    }
  }
}

// The conv output's gradient: each window's winning cell gets the pooled gradient (times the
// dropout scale), every other cell zero, as pool, ReLU and dropout backward give it.
template <int C>
void unpool_gradient(const float* __restrict dz, const Pooled& p, const uint32_t* __restrict mask,
                     const uint8_t* __restrict winner, float* __restrict dy) {
  const int c_n = C > 0 ? C : p.ch, oh = p.oh(), len = p.ow() * c_n;
  const size_t row = size_t(p.w) * c_n;  // the real part of a row
  for (int it = 0; it < p.n; ++it) {
    for (int i = 0; i < oh; ++i) {
      float* da = dy + size_t(it) * p.item + 2 * size_t(i) * p.row;
      float* db = da + p.row;
      const size_t zo = (size_t(it) * oh + i) * len;
      int o = 0;
      if constexpr (kVectorPool<C>) {
        for (; o + 8 <= len; o += 8) {
          v8f g;
          v8i win;
          pooled_gradient8(dz, mask, winner, zo + o, g, win);
          const v8f a0 = win == 0 ? g : v8f{}, a1 = win == 1 ? g : v8f{};
          const v8f b0 = win == 2 ? g : v8f{}, b1 = win == 3 ? g : v8f{};
          if constexpr (C % 8 == 0) {
            const int k = 2 * o - o % C;
            store8(da + k, a0), store8(da + k + C, a1), store8(db + k, b0), store8(db + k + C, b1);
          } else {
            merge_columns<C>(a0, a1, da + 2 * o);
            merge_columns<C>(b0, b1, db + 2 * o);
          }
        }
      }
      for (; o < len; ++o) {
        const int c = o % c_n, k = 2 * (o - c) + c;
        const float g = mask ? dz[zo + o] * std::bit_cast<float>(mask[zo + o]) : dz[zo + o];
        const uint8_t win = winner[zo + o];
        da[k] = win == 0 ? g : 0.f;
        da[k + c_n] = win == 1 ? g : 0.f;
        db[k] = win == 2 ? g : 0.f;
        db[k + c_n] = win == 3 ? g : 0.f;
      }
      if (p.w % 2) {
        std::fill(da + row - c_n, da + row, 0.f);
        std::fill(db + row - c_n, db + row, 0.f);
      }
    }
    if (p.h % 2) {
      float* last = dy + size_t(it) * p.item + size_t(p.h - 1) * p.row;
      std::fill(last, last + row, 0.f);
    }
  }
}

// The entry lists of 8 channels over windows [w0, w1), as winner_backward's scalar loop builds
// them channel by channel: each window's gradient (times its dropout scale), winner and patch
// origin are taken for the 8 channels in vectors, then each entry is written to its channel's
// list, which advances past it only where it carries gradient. The same entries in the same
// order, with 8 channels per step instead of one (the scalar loop was half the winner backward).
// dz, mask and winner point at the first of the 8 channels in [window][stride] arrays; list l
// starts at lists + l * list_stride with counts[l] entries.
void append_entries8(const float* __restrict dz, const uint32_t* __restrict mask,
                     const uint8_t* __restrict winner, const int32_t* __restrict bases, size_t w0,
                     size_t w1, size_t stride, int32_t cin, int32_t row, WinnerEntry* lists,
                     size_t list_stride, size_t* counts) {
  WinnerEntry* at[8];
  for (int l = 0; l < 8; ++l) at[l] = lists + size_t(l) * list_stride + counts[l];
  for (size_t w = w0; w < w1; ++w) {
    const size_t o = w * stride;
    v8f g;
    v8i win;
    pooled_gradient8(dz, mask, winner, o, g, win);
    // cell 0-3 in scan order: + cin for the right column, + row for the lower row (kNoGradient,
    // 4, gives cell 0 as the scalar loop's cell[win & 3] does).
    const v8i origin = bases[w] + ((-(win & 1)) & cin) + ((-((win >> 1) & 1)) & row);
    const v8i carries = (win != kNoGradient) & (g != 0.f);  // -1 where the entry counts
    int32_t org[8], step[8];
    float gs[8];
    std::memcpy(org, &origin, sizeof org);
    std::memcpy(gs, &g, sizeof gs);
    std::memcpy(step, &carries, sizeof step);
    for (int l = 0; l < 8; ++l) {
      *at[l] = {org[l], gs[l]};
      at[l] -= step[l];
    }
  }
  for (int l = 0; l < 8; ++l) counts[l] = size_t(at[l] - (lists + size_t(l) * list_stride));
}

}  // namespace

int ConvBlock2x2::match(const std::vector<Layer*>& layers, size_t first) {
  if (first + 3 > layers.size() || layers[first]->kind() != "conv2d" ||
      layers[first + 1]->kind() != "relu" || layers[first + 2]->kind() != "maxpool2d")
    return 0;
  const nlohmann::json pool = layers[first + 2]->config();
  if (pool.at("pool") != 2 || pool.at("same") != false) return 0;
  return first + 3 < layers.size() && layers[first + 3]->kind() == "dropout" ? 4 : 3;
}

ConvBlock2x2::ConvBlock2x2(Layer& conv, float dropout_rate) : rate_(dropout_rate) {
  const auto ps = conv.params();
  weight_ = ps.at(0);
  bias_ = ps.at(1);
  out_ = weight_->value.dim(0);
}

ConvGeom ConvBlock2x2::geom(const Shape& x) const {
  const Shape& w = weight_->value.shape;  // [out][kh][kw][in]
  check_input("conv2d", x, {-1, -1, w[3]});
  if (x[1] < 2 || x[2] < 2)
    throw Error(fmt::format("maxpool2d: input {}x{} is smaller than the pool 2", x[1], x[2]));
  return {x[0], x[1], x[2], w[3], w[1], w[2], (w[1] - 1) / 2, (w[2] - 1) / 2};
}

void ConvBlock2x2::forward(const float* x, const Shape& shape, Tensor& z,
                           const ForwardContext& ctx) {
  const ConvGeom g = geom(shape);
  // No window reads an odd last row or column of the conv output, so those are not computed.
  const int oh = g.h / 2 * 2, ow = g.w / 2 * 2;
  const Pooled windows{g.n, oh, ow, out_};
  resize_to(z, {g.n, windows.oh(), windows.ow(), out_});
  winner_.resize(windows.size());
  masked_ = ctx.training && rate_ > 0.f;
  if (masked_) {
    if (!ctx.rng) throw Error("dropout: a training forward needs ForwardContext::rng");
    mask_.resize(windows.size());
    ctx.rng->fill_u32(mask_.data(), mask_.size());  // the Dropout layer's draws
  }
  const DropoutBits keep(rate_);  // and its decisions, draw for draw
  uint32_t* mask = masked_ ? mask_.data() : nullptr;
  const float *w = weight_->value.ptr(), *b = bias_->value.ptr();
  // The conv's outputs are pooled as they come out, a row of pool windows (one input channel)
  // or a group of Winograd's 2x2 blocks, each a pool window, at a time: the conv output does not
  // go through memory.
  const int out = out_;
  float* zp = z.ptr();
  uint8_t* winner = winner_.data();
  const int pw = ow / 2;  // pool windows per row
  if (out % 8 == 0 &&
      engine_.forward_row_pairs(x, g, w, b, out, oh, ow, [&](const float* pair, ptrdiff_t k, int) {
        const float* lower = pair + ptrdiff_t(ow) * out;
        for (int j = 0; j < pw; ++j)
          for (int oc = 0; oc < out; oc += 8) {
            const ptrdiff_t c0 = 2 * j * out + oc, c1 = c0 + out;
            const size_t o = (size_t(k) * pw + j) * out + oc;
            pool8(load8(pair + c0), load8(pair + c1), load8(lower + c0), load8(lower + c1),
                  mask ? mask + o : nullptr, keep, zp + o, winner + o);
          }
      }))
    return;
  if (out % 8 == 0 &&
      engine_.forward_blocks(
          x, g, w, b, out, oh, ow, [&](const float* y4, ptrdiff_t first, int count) {
            for (int t = 0; t < count; ++t)
              for (int oc = 0; oc < out; oc += 8) {
                const float* s = y4 + ptrdiff_t(t) * 4 * out + oc;
                const size_t o = size_t(first + t) * out + oc;
                pool8(load8(s), load8(s + out), load8(s + 2 * out), load8(s + 3 * out),
                      mask ? mask + o : nullptr, keep, zp + o, winner + o);
              }
          }))
    return;
  y_.resize(size_t(g.n) * g.h * g.w * out_);
  const ConvEngine::View y = engine_.forward_view(x, g, w, b, out_, oh, ow, y_.data());
  const Pooled p{g.n, y.h, y.w, out_, y.row, y.item};
  dispatch_channels(out_, [&](auto c) {
    pool_relu_dropout<decltype(c)::value>(y.data, p, mask, keep, zp, winner);
  });
}

void ConvBlock2x2::backward(const Tensor& x, const Tensor& dz, Tensor* dx) {
  const ConvGeom g = geom(x.shape);
  const Pooled p{g.n, g.h, g.w, out_};
  if (dz.size() != p.size()) throw Error("conv block: backward without a matching forward");
  if (dx) dx->resize(x.shape);
  if (winner_backward(g, dz.ptr(), dx ? dx->ptr() : nullptr)) return;
  const uint32_t* mask = masked_ ? mask_.data() : nullptr;
  if (g.c == 1 && g.kh == 3 && g.kw == 3 && out_ % 8 == 0 && !dx && !PlanarConv::applies(g, out_)) {
    winner_wgrad_one_channel(engine_.padded_input(), g.n, g.hp(), g.wp(), p.oh(), p.ow(), out_,
                             dz.ptr(), mask, winner_.data(), weight_->grad.ptr(),
                             bias_->grad.ptr());
    return;
  }
  dy_.resize(size_t(g.n) * g.h * g.w * out_);
  const ConvEngine::View dy = engine_.grad_view(g, out_, dy_.data());
  const Pooled pd{g.n, g.h, g.w, out_, dy.row, dy.item};
  dispatch_channels(out_, [&](auto c) {
    unpool_gradient<decltype(c)::value>(dz.ptr(), pd, mask, winner_.data(), dy.data);
  });
  engine_.backward_view(g, weight_->value.ptr(), out_, dy, weight_->grad.ptr(), bias_->grad.ptr(),
                        dx ? dx->ptr() : nullptr);
}

bool ConvBlock2x2::winner_backward(const ConvGeom& g, const float* dz, float* dx) {
  const int cin = g.c, nv = round_up8(3 * cin) / 8, ldw = 8 * nv;
  // Patch origins are int32.
  if (g.kh != 3 || g.kw != 3 || cin < 2 || g.padded_size() >= size_t(INT32_MAX) ||
      !with_winner_kernel(nv, [](auto, auto) {}))
    return false;
  const Pooled p{g.n, g.h, g.w, out_};
  const size_t windows = size_t(p.n) * p.oh() * p.ow();
  const ptrdiff_t row = ptrdiff_t(g.wp()) * cin;
  // Each window's winning cell per channel, as a patch origin in the padded input; entries whose
  // gradient is exactly zero (dropped by dropout) carry nothing and are left out.
  // Channel by channel over blocks of windows: each list is appended from a counter in a
  // register, and a block's gradients stay in L1 while its channels are taken in turn.
  bases_.resize(windows);
  size_t wi = 0;
  for (int n = 0; n < p.n; ++n)
    for (int i = 0; i < p.oh(); ++i)
      for (int j = 0; j < p.ow(); ++j)
        bases_[wi++] = int32_t(((size_t(n) * g.hp() + 2 * i) * g.wp() + 2 * j) * cin);
  entries_.resize(size_t(out_) * windows);
  counts_.assign(size_t(out_), 0);
  const uint32_t* mask = masked_ ? mask_.data() : nullptr;
  const int32_t cell[4] = {0, cin, int32_t(row), int32_t(row) + cin};
  constexpr size_t kBlock = 64;
  for (size_t w0 = 0; w0 < windows; w0 += kBlock) {
    const size_t w1 = std::min(windows, w0 + kBlock);
    int c = 0;
    for (; c + 8 <= out_; c += 8)
      append_entries8(dz + c, mask ? mask + c : nullptr, winner_.data() + c, bases_.data(), w0, w1,
                      size_t(out_), cin, int32_t(row), entries_.data() + size_t(c) * windows,
                      windows, counts_.data() + c);
    for (; c < out_; ++c) {
      WinnerEntry* __restrict list = entries_.data() + size_t(c) * windows;
      size_t k = counts_[size_t(c)];
      for (size_t w = w0; w < w1; ++w) {
        const size_t o = w * size_t(out_) + size_t(c);
        const float gv = mask ? dz[o] * std::bit_cast<float>(mask[o]) : dz[o];
        const uint8_t win = winner_[o];
        list[k] = {bases_[w] + cell[win & 3], gv};
        k += win != kNoGradient && gv != 0.f;
      }
      counts_[size_t(c)] = k;
    }
  }

  const float* xp = engine_.padded_input();  // from the forward, ConvEngine::kSlack floats extra
  float* dw = weight_->grad.ptr();
  const float* w = weight_->value.ptr();
  const int taps = 9 * cin, rowlen = 3 * cin;
  zero_floats(dwp_, size_t(out_) * 3 * ldw);
  if (dx) {
    zero_floats(wpad_, size_t(out_) * 3 * ldw);
    for (int c = 0; c < out_; ++c)
      for (int a = 0; a < 3; ++a)
        std::copy_n(w + size_t(c) * taps + a * rowlen, rowlen,
                    wpad_.data() + (size_t(c) * 3 + a) * ldw);
    zero_floats(dxp_, g.padded_size() + ConvEngine::kSlack);
  }
  with_winner_kernel(nv, [&](auto rows, auto part) {
    constexpr int R = decltype(rows)::value, V = decltype(part)::value;
    for (int c = 0; c < out_; ++c) {
      const WinnerEntry* e = entries_.data() + size_t(c) * windows;
      const size_t count = counts_[size_t(c)];
      for (int r0 = 0; r0 < 3; r0 += R)
        for (int v0 = 0; v0 < nv; v0 += V) {
          const ptrdiff_t at = r0 * row + 8 * v0, wat = (size_t(c) * 3 + r0) * ldw + 8 * v0;
          winner_wgrad<R, V>(xp + at, row, e, count, dwp_.data() + wat, ldw);
          if (dx) winner_dgrad<R, V>(dxp_.data() + at, row, e, count, wpad_.data() + wat, ldw);
        }
    }
  });
  float* db = bias_->grad.ptr();
  for (int c = 0; c < out_; ++c) {
    const WinnerEntry* e = entries_.data() + size_t(c) * windows;
    float sum = 0.f;
    for (size_t k = 0; k < counts_[size_t(c)]; ++k) sum += e[k].g;
    db[c] += sum;
    for (int a = 0; a < 3; ++a)
      for (int k = 0; k < rowlen; ++k)
        dw[size_t(c) * taps + a * rowlen + k] += dwp_[(size_t(c) * 3 + a) * ldw + k];
  }
  if (dx) {
    const size_t xrow = size_t(g.w) * cin;
    for (int n = 0; n < g.n; ++n)
      for (int r = 0; r < g.h; ++r)
        copy_floats(dx + (size_t(n) * g.h + r) * xrow,
                    dxp_.data() + ((size_t(n) * g.hp() + r + 1) * g.wp() + 1) * cin, xrow);
  }
  return true;
}

}  // namespace dkws::nn::detail
