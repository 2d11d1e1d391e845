// A minimal NumPy .npy (format version 1.0) encoder, so exported features load with np.load() in
// other frameworks without any conversion step.
#pragma once
#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include <fmt/core.h>

namespace dkws::cli {

// dtype strings for the element types we export; '<' because the bytes are written as they lie
// in memory, which the static_assert below pins to little-endian.
template <class T>
constexpr const char* npy_descr();
template <>
constexpr const char* npy_descr<float>() {
  return "<f4";
}
template <>
constexpr const char* npy_descr<int32_t>() {
  return "<i4";
}

// The whole file: magic, version, header length, a Python dict literal padded with spaces so the
// data starts at a multiple of 64 bytes (what NumPy itself writes), then C-order data.
template <class T>
std::string npy_bytes(const std::vector<size_t>& shape, const T* data) {
  static_assert(std::endian::native == std::endian::little, "npy writer assumes little-endian");
  std::string dims;
  size_t count = 1;
  for (size_t d : shape) {
    dims += fmt::format("{}, ", d);
    count *= d;
  }
  if (shape.size() > 1)
    dims.resize(dims.size() - 2);  // "(N, D)"; a 1-tuple keeps its comma
  else if (!dims.empty())
    dims.pop_back();  // "(N,)"
  std::string dict = fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': ({}), }}",
                                 npy_descr<T>(), dims);
  const size_t prefix = 10;  // magic (6) + version (2) + header length (2)
  dict.append(63 - (prefix + dict.size()) % 64, ' ');
  dict += '\n';
  const auto header_len = uint16_t(dict.size());
  std::string out("\x93NUMPY\x01\x00", 8);
  out += char(header_len & 0xff);
  out += char(header_len >> 8);
  out += dict;
  const size_t bytes = count * sizeof(T);
  const size_t at = out.size();
  out.resize(at + bytes);
  if (bytes) std::memcpy(out.data() + at, data, bytes);
  return out;
}

}  // namespace dkws::cli
