// Fuzz target: sweep search space files (`dkws sweep --space`): JSON with comments, parameter
// ranges and choices, every value checked as a run config. Any input must either load or throw
// dkws::Error; a loaded space must give sampled and grid trial configs.
#include <cstddef>
#include <cstdint>

#include "dkws/error.hpp"
#include "dkws/sweep.hpp"
#include "fuzz_input_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto& path = dkws::fuzz::input_file(data, size, ".json");
  try {
    const dkws::sweep::SearchSpace space = dkws::sweep::load_space(path);
    for (const auto& hp : dkws::sweep::sample_configs(space, "random", 4, 1)) space.config_for(hp);
    const size_t points = space.grid_size();  // 0 when a range has no steps
    if (points > 0 && points <= 64)
      for (const auto& hp : dkws::sweep::sample_configs(space, "grid", 0, 1)) space.config_for(hp);
  } catch (const dkws::Error& e) {
    dkws::fuzz::rejected(e);
  }
  return 0;
}
