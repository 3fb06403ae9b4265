// validation/npy.hpp — NumPy .npy files (format 1.0 written; 1.0, 2.0, 3.0 read), as
// specified in numpy/lib/format.py ("NEP 1"): the magic "\x93NUMPY", a major and minor
// version byte, a little-endian header length (uint16 in 1.0, uint32 in 2.0/3.0), then
// an ASCII Python dict literal {'descr': ..., 'fortran_order': ..., 'shape': (...), }
// padded with spaces and ended by '\n' so that the data starts at a multiple of 64
// bytes, then the elements in C order.
//
// Supported element types: '<f8', '<f4', '<i8', '<i4' (little-endian; '|' or '='
// byte-order marks are not accepted on read). Fortran-order files are rejected.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace triscan::validation {

enum class NpyType { f8, f4, i8, i4 };

const char* npy_descr(NpyType t);  // "<f8", "<f4", "<i8", "<i4"

struct NpyArray {
  std::vector<std::int64_t> shape;  // () for a scalar
  std::variant<std::vector<double>, std::vector<float>, std::vector<std::int64_t>, std::vector<std::int32_t>>
      data;

  NpyType type() const { return static_cast<NpyType>(data.index()); }
  std::int64_t size() const;  // product of the shape
  // The elements converted to double (exact for f8, f4, and integers up to 2^53).
  std::vector<double> as_double() const;
};

// The full header of a version-1.0 file: magic, version, length and the padded dict.
// Throws std::invalid_argument for a negative dimension.
std::string npy_header(NpyType type, const std::vector<std::int64_t>& shape);

// Write `array` to `path` (version 1.0). Throws std::invalid_argument when the shape
// does not match the number of elements, std::runtime_error when the file cannot be
// written.
void write_npy(const std::string& path, const NpyArray& array);
void write_npy(const std::string& path, const std::vector<std::int64_t>& shape, const std::vector<double>& data,
               NpyType as = NpyType::f8);  // converts to f4/i8/i4 when asked (i*: exact integers only)

// Read a .npy file. Throws std::runtime_error when the file cannot be opened or read,
// std::invalid_argument naming the file and the bad field (magic, version, header
// length, header dict, descr, fortran_order, shape, data size) when it is truncated,
// malformed or unsupported.
NpyArray read_npy(const std::string& path);
// The same from the file's bytes; `what` names the source in error messages.
NpyArray parse_npy(const std::string& bytes, const std::string& what = "npy data");

}  // namespace triscan::validation
