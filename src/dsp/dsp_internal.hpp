// What the MFCC and MFE front ends share inside src/dsp: whole-window framing and pre-emphasis,
// mel energies of every frame, and the parameter checks. The per-frame steps that other stages
// also run are in front_end_steps.hpp. Everything here works in double precision.
#pragma once
#include <span>
#include <string>
#include <vector>

#include "dkws/dsp.hpp"
#include "dsp/front_end_steps.hpp"

namespace dkws::dsp {

// Frames of `frame_len` samples every `stride` samples with no padding:
// floor((n - (frame_len - stride)) / stride), or 0 when the signal is shorter than one frame.
int frame_count(long long n_samples, int frame_len, int stride);

// y[i] = x[i] - cof * x[i - shift], with the index wrapping around (numpy.roll semantics).
std::vector<double> preemphasis(std::span<const double> x, double cof, int shift);

bool is_power_of_two(long long n);

// Per-frame mel energies and total frame energies (both with zeros replaced by 1e-10).
struct MelEnergies {
  int frames = 0;
  int filters = 0;
  std::vector<double> mel;     // frames x filters, frame-major
  std::vector<double> energy;  // per frame: sum of the power spectrum
};

MelEnergies mel_energies(std::span<const double> signal, int sample_rate, const FramingSpec& s);

// Parameter checks. Each returns an empty string when fine, else a one-line reason naming the
// parameter. check_value holds the rules for one parameter on its own (by its block name, the same
// for both blocks); the block checks add those that tie parameters to each other, to the rate and,
// when n_samples >= 0, to the signal length.
std::string check_value(const std::string& name, double value);
std::string check_mfcc(const MfccParams& p, int sample_rate, long long n_samples);
std::string check_mfe(const MfeParams& p, int sample_rate, long long n_samples);

}  // namespace dkws::dsp
