// The tables the C front end (c/kws_frontend.c) reads, computed once in double precision and
// rounded to float. libdkws and the exporter use this one function, so the exported C code and the
// C++ int8 reference see the same numbers.
#pragma once
#include <cstdint>
#include <vector>

#include "deploy/c/kws_frontend.h"
#include "dkws/dsp.hpp"

namespace dkws::deploy {

struct FrontEndTables {
  // Throws dkws::Error for a front end the C code does not implement (MFCC's pre_shift != 1).
  explicit FrontEndTables(const FrontEndConfig& cfg);
  FrontEndTables(const FrontEndTables&) = delete;
  FrontEndTables& operator=(const FrontEndTables&) = delete;

  std::vector<float> twiddle, post, fb_weights, dct;
  std::vector<uint16_t> bitrev;
  std::vector<int16_t> fb_first, fb_len;
  kws_fe_t fe{};  // points into the vectors above
};

}  // namespace dkws::deploy
