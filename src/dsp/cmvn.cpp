// Sliding-window cepstral mean and variance normalisation, as speechpy's cmvnw (used by Edge
// Impulse's MFCC block). Each frame is normalised by the mean and population standard deviation of
// the `win` frames centred on it; past the ends, frames are mirrored (numpy pad mode 'symmetric').
#include <cmath>

#include "dsp/dsp_internal.hpp"

namespace dkws::dsp {
namespace {

// Row of the unpadded matrix that padded position j (may be < 0 or >= rows) reads in numpy's
// 'symmetric' pad: the edge row repeats, and a pad longer than the matrix keeps bouncing, which is
// a period-2*rows reflection.
int symmetric_index(int j, int rows) {
  const int period = 2 * rows;
  int k = ((j % period) + period) % period;
  return k < rows ? k : period - 1 - k;
}

}  // namespace

void sliding_cmvn(std::vector<double>& m, int rows, int cols, int win) {
  if (rows <= 0 || cols <= 0 || win <= 0) return;
  const int half = (win - 1) / 2;
  std::vector<int> src(static_cast<size_t>(rows + 2 * half));
  for (int j = 0; j < rows + 2 * half; ++j) src[j] = symmetric_index(j - half, rows);

  // Pass 1: subtract the window mean.
  std::vector<double> centred(m.size());
  for (int i = 0; i < rows; ++i) {
    for (int c = 0; c < cols; ++c) {
      double sum = 0;
      for (int w = 0; w < win; ++w) sum += m[static_cast<size_t>(src[i + w]) * cols + c];
      centred[static_cast<size_t>(i) * cols + c] = m[static_cast<size_t>(i) * cols + c] - sum / win;
    }
  }
  // Pass 2: the mean-subtracted matrix is padded again, and each value divided by its window's
  // population std (about the window's own mean, as numpy.std does) plus 1e-10.
  for (int i = 0; i < rows; ++i) {
    for (int c = 0; c < cols; ++c) {
      double sum = 0;
      for (int w = 0; w < win; ++w) sum += centred[static_cast<size_t>(src[i + w]) * cols + c];
      const double mean = sum / win;
      double sq = 0;
      for (int w = 0; w < win; ++w) {
        const double d = centred[static_cast<size_t>(src[i + w]) * cols + c] - mean;
        sq += d * d;
      }
      m[static_cast<size_t>(i) * cols + c] =
          centred[static_cast<size_t>(i) * cols + c] / (std::sqrt(sq / win) + 1e-10);
    }
  }
}

}  // namespace dkws::dsp
