// A trial's per-clip correctness, recorded so the report can resample test clips (not only seeds)
// and redo the validation selection in every replicate. Compact: one bit per clip, base64.
#include <fmt/core.h>

#include "dkws/error.hpp"
#include "dkws/sweep_run.hpp"
#include "dkws/util.hpp"

namespace dkws::sweep {

std::string encode_clip_bits(const std::vector<bool>& correct) {
  std::vector<unsigned char> bytes((correct.size() + 7) / 8, 0);
  for (size_t i = 0; i < correct.size(); ++i)
    if (correct[i]) bytes[i / 8] |= static_cast<unsigned char>(1u << (i % 8));
  return base64_encode(bytes.data(), bytes.size());
}

std::string clip_set_fingerprint(const std::vector<std::string>& paths) {
  // FNV-1a over the paths in order, each ended by a newline: equal fingerprints mean the trials
  // were scored on the same clips in the same order, which the paired resampling relies on.
  uint64_t h = 1469598103934665603ull;
  for (const auto& p : paths) {
    for (unsigned char c : p + "\n") h = (h ^ c) * 1099511628211ull;
  }
  return fmt::format("{:016x}", h);
}

nlohmann::json clip_record(const std::vector<int>& truth, const std::vector<int>& predicted,
                           const std::vector<std::string>& paths) {
  if (truth.size() != predicted.size() || truth.size() != paths.size())
    throw Error(fmt::format("clip record: {} labels, {} predictions and {} paths differ",
                            truth.size(), predicted.size(), paths.size()));
  std::vector<bool> correct(truth.size());
  for (size_t i = 0; i < truth.size(); ++i) correct[i] = truth[i] == predicted[i];
  return {{"n", truth.size()},
          {"set", clip_set_fingerprint(paths)},
          {"correct", encode_clip_bits(correct)}};
}

}  // namespace dkws::sweep
