// The per-operation-rounding copy of the C front end (strict_frontend.c).
#pragma once
#include "deploy/c/kws_frontend.h"

extern "C" {
size_t strict_fe_scratch_floats(const kws_fe_t* fe);
void strict_fe_window(const kws_fe_t* fe, const int16_t* pcm, size_t n, float* feat,
                      float* scratch);
}
