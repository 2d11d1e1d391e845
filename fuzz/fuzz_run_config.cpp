// Fuzz target: run config files (`dkws train --config`): JSON, merge over the defaults, checks.
// Any input must either load or throw dkws::Error; a loaded config must survive a --set override
// and a round trip through its JSON form.
#include <cstddef>
#include <cstdint>

#include "dkws/config.hpp"
#include "dkws/error.hpp"
#include "fuzz_input_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto& path = dkws::fuzz::input_file(data, size, ".json");
  try {
    dkws::RunConfig c = dkws::load_run_config(path);
    dkws::parse_run_config(c.to_json(), "round trip");
    dkws::apply_override(c, "train.epochs=3");
  } catch (const dkws::Error& e) {
    dkws::fuzz::rejected(e);
  }
  return 0;
}
