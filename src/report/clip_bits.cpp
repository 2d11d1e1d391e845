// Per-clip correctness records of sweep trials: decoding, counting, and weighted counting under a
// bootstrap draw of the clips.
#include <bit>

#include <fmt/core.h>

#include "dkws/error.hpp"
#include "dkws/util.hpp"
#include "report/sweep_internal.hpp"

namespace dkws {

size_t ClipBits::correct() const {
  size_t n_correct = 0;
  for (uint64_t w : words) n_correct += size_t(std::popcount(w));
  return n_correct;
}

ClipBits parse_clip_bits(const nlohmann::json& j, const std::string& where) {
  if (!j.is_object()) throw Error(where + ": must be an object {n, set, correct}");
  auto n = j.find("n");
  auto set = j.find("set");
  auto correct = j.find("correct");
  if (n == j.end() || !n->is_number_integer() || n->get<int64_t>() <= 0)
    throw Error(where + ": key 'n' must be a positive integer");
  if (set == j.end() || !set->is_string()) throw Error(where + ": key 'set' must be a string");
  if (correct == j.end() || !correct->is_string())
    throw Error(where + ": key 'correct' must be a base64 string");
  ClipBits b;
  b.n = n->get<size_t>();
  b.set = set->get<std::string>();
  b.encoded = correct->get<std::string>();
  std::vector<unsigned char> bytes;
  try {
    bytes = base64_decode(b.encoded);
  } catch (const Error& e) {
    throw Error(fmt::format("{}: key 'correct': {}", where, e.what()));
  }
  if (bytes.size() != (b.n + 7) / 8)
    throw Error(fmt::format("{}: key 'correct' holds {} bytes, {} clips need {}", where,
                            bytes.size(), b.n, (b.n + 7) / 8));
  b.words.assign((b.n + 63) / 64, 0);
  for (size_t i = 0; i < bytes.size(); ++i) b.words[i / 8] |= uint64_t(bytes[i]) << (8 * (i % 8));
  if (b.n % 64) b.words.back() &= (uint64_t(1) << (b.n % 64)) - 1;  // padding bits never count
  return b;
}

namespace sweep_detail {

double weighted_share(const ClipBits& bits, const ClipDraw& d) {
  // Each layer is a multiset "slice": a clip drawn w times is in layers 0..w-1, and the layers
  // together hold n draws, so the share is sum_k popcount(bits & layer_k) / n.
  size_t hits = 0;
  for (const auto& layer : d.layers)
    for (size_t w = 0; w < layer.size(); ++w)
      hits += size_t(std::popcount(bits.words[w] & layer[w]));
  return double(hits) / double(bits.n);
}

}  // namespace sweep_detail
}  // namespace dkws
