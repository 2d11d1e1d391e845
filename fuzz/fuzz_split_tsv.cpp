// Fuzz target: split TSVs and manifests (CSV/TSV whose header names path, label, speaker and split
// columns; a headerless split TSV), which share one reader. Any input must either read (clips and
// per-line problems) or throw dkws::Error.
#include <cstddef>
#include <cstdint>

#include "data/data_internal.hpp"
#include "dkws/error.hpp"
#include "fuzz_input_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto& path = dkws::fuzz::input_file(data, size, ".tsv");
  try {
    dkws::DatasetIndex index;
    dkws::data::read_manifest(path, "", index);
  } catch (const dkws::Error& e) {
    dkws::fuzz::rejected(e);
  }
  return 0;
}
