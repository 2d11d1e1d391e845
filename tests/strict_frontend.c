/* The exported C front end compiled a second time, under its own names, at -O0 with
 * -ffp-contract=off (tests/CMakeLists.txt): every float operation rounds on its own, as on the
 * Cortex-M4F firmware (single-precision FPU, no vector unit). test_frontend_rounding.cpp checks
 * that libdkws's copy, which the C++ int8 reference uses, computes the very same bits. */
#define kws_fe_scratch_floats strict_fe_scratch_floats
#define kws_fe_logf strict_fe_logf
#define kws_fe_frame strict_fe_frame
#define kws_fe_cmvn strict_fe_cmvn
#define kws_fe_window strict_fe_window
#include "deploy/c/kws_frontend.c"
