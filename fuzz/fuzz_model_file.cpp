// Fuzz target: the model file loader (JSON, run config, layer stack, base64 parameters). Any input
// must either load or throw dkws::Error; a loaded model must run a forward pass.
#include <cstddef>
#include <cstdint>

#include "dkws/error.hpp"
#include "dkws/model_file.hpp"
#include "fuzz_input_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto& path = dkws::fuzz::input_file(data, size, ".json");
  try {
    dkws::SavedModel m = dkws::load_model(path);
    // The input a loaded model expects: the front end's frames x coefficients.
    const auto& fe = m.config.front_end;
    dkws::nn::Tensor x({2, fe.frames() * fe.coeffs()});
    m.net.forward(x, {false, nullptr});
  } catch (const dkws::Error& e) {
    dkws::fuzz::rejected(e);
  }
  return 0;
}
