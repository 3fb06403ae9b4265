// NumPy .npy reader and writer (format spec: numpy/lib/format.py). Elements are encoded
// byte by byte in little-endian order, so the files are the same on any host.
#include "validation/npy.hpp"

#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>

namespace triscan::validation {
namespace {

constexpr char magic[] = "\x93NUMPY";
constexpr std::size_t magic_len = 6;

std::size_t item_size(NpyType t) { return (t == NpyType::f8 || t == NpyType::i8) ? 8 : 4; }

template <class U>
void put_le(std::string& out, U bits) {
  for (std::size_t i = 0; i < sizeof(U); ++i) out.push_back(static_cast<char>((bits >> (8 * i)) & 0xff));
}
template <class U>
U get_le(const unsigned char* p) {
  U bits = 0;
  for (std::size_t i = 0; i < sizeof(U); ++i) bits |= static_cast<U>(static_cast<U>(p[i]) << (8 * i));
  return bits;
}

template <class T, class U>
void encode(std::string& out, const std::vector<T>& v) {
  static_assert(sizeof(T) == sizeof(U));
  for (const T& x : v) {
    U bits;
    std::memcpy(&bits, &x, sizeof bits);
    put_le(out, bits);
  }
}
template <class T, class U>
std::vector<T> decode(const unsigned char* p, std::size_t count) {
  std::vector<T> v(count);
  for (std::size_t i = 0; i < count; ++i) {
    const U bits = get_le<U>(p + i * sizeof(U));
    std::memcpy(&v[i], &bits, sizeof bits);
  }
  return v;
}

std::string shape_tuple(const std::vector<std::int64_t>& shape) {
  // Python tuple syntax: (), (5,), (2, 3)
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + (shape.size() == 1 ? ",)" : ")");
}

[[noreturn]] void malformed(const std::string& what, const std::string& msg) {
  throw std::invalid_argument(what + ": " + msg);
}

// ---- Header dict parsing: the subset of Python literal syntax that np.save writes.
struct DictParser {
  const std::string& s;
  std::size_t i = 0;
  const std::string& what;

  void skip_ws() {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n')) ++i;
  }
  bool eat(char c) {
    skip_ws();
    if (i < s.size() && s[i] == c) {
      ++i;
      return true;
    }
    return false;
  }
  void expect(char c, const char* where) {
    if (!eat(c)) malformed(what, std::string("header dict: expected '") + c + "' " + where + " in " + s);
  }
  std::string string_literal() {
    skip_ws();
    if (i >= s.size() || (s[i] != '\'' && s[i] != '"')) malformed(what, "header dict: expected a quoted string in " + s);
    const char q = s[i++];
    const std::size_t end = s.find(q, i);
    if (end == std::string::npos) malformed(what, "header dict: unterminated string in " + s);
    std::string out = s.substr(i, end - i);
    i = end + 1;
    return out;
  }
  bool boolean() {
    skip_ws();
    for (const char* word : {"True", "False"})
      if (s.compare(i, std::strlen(word), word) == 0) {
        i += std::strlen(word);
        return word[0] == 'T';
      }
    malformed(what, "header dict: 'fortran_order' must be True or False in " + s);
  }
  std::vector<std::int64_t> tuple() {
    expect('(', "to open 'shape'");
    std::vector<std::int64_t> shape;
    while (!eat(')')) {
      skip_ws();
      std::size_t j = i;
      while (j < s.size() && s[j] >= '0' && s[j] <= '9') ++j;
      if (j == i || j - i > 18) malformed(what, "field 'shape': expected a non-negative integer in " + s);
      shape.push_back(std::stoll(s.substr(i, j - i)));
      i = j;
      if (!eat(',')) {
        expect(')', "to close 'shape'");
        break;
      }
    }
    return shape;
  }
};

NpyType type_from_descr(const std::string& d, const std::string& what) {
  for (NpyType t : {NpyType::f8, NpyType::f4, NpyType::i8, NpyType::i4})
    if (d == npy_descr(t)) return t;
  malformed(what, "field 'descr' = '" + d + "' is not supported (allowed: <f8, <f4, <i8, <i4)");
}

}  // namespace

const char* npy_descr(NpyType t) {
  switch (t) {
    case NpyType::f8: return "<f8";
    case NpyType::f4: return "<f4";
    case NpyType::i8: return "<i8";
    case NpyType::i4: return "<i4";
  }
  return "?";
}

std::int64_t NpyArray::size() const {
  std::int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

std::vector<double> NpyArray::as_double() const {
  return std::visit([](const auto& v) { return std::vector<double>(v.begin(), v.end()); }, data);
}

std::string npy_header(NpyType type, const std::vector<std::int64_t>& shape) {
  for (auto d : shape)
    if (d < 0) throw std::invalid_argument("npy_header: negative dimension " + std::to_string(d) + " in shape");
  std::string dict = std::string("{'descr': '") + npy_descr(type) + "', 'fortran_order': False, 'shape': " +
                     shape_tuple(shape) + ", }";
  // magic (6) + version (2) + length (2) + dict + padding + '\n' = multiple of 64.
  const std::size_t unpadded = magic_len + 2 + 2 + dict.size() + 1;
  dict.append((64 - unpadded % 64) % 64, ' ');
  dict.push_back('\n');
  if (dict.size() > 65535) throw std::invalid_argument("npy_header: shape too long for format 1.0");
  std::string out(magic, magic_len);
  out.push_back('\x01');
  out.push_back('\x00');
  put_le(out, static_cast<std::uint16_t>(dict.size()));
  return out + dict;
}

void write_npy(const std::string& path, const NpyArray& array) {
  std::int64_t count = 0;
  std::visit([&](const auto& v) { count = static_cast<std::int64_t>(v.size()); }, array.data);
  if (count != array.size())
    throw std::invalid_argument("write_npy " + path + ": shape " + shape_tuple(array.shape) + " holds " +
                                std::to_string(array.size()) + " elements, data has " + std::to_string(count));
  std::string bytes = npy_header(array.type(), array.shape);
  switch (array.type()) {
    case NpyType::f8: encode<double, std::uint64_t>(bytes, std::get<0>(array.data)); break;
    case NpyType::f4: encode<float, std::uint32_t>(bytes, std::get<1>(array.data)); break;
    case NpyType::i8: encode<std::int64_t, std::uint64_t>(bytes, std::get<2>(array.data)); break;
    case NpyType::i4: encode<std::int32_t, std::uint32_t>(bytes, std::get<3>(array.data)); break;
  }
  std::ofstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("write_npy: cannot open '" + path + "' for writing");
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!f) throw std::runtime_error("write_npy: writing '" + path + "' failed");
}

void write_npy(const std::string& path, const std::vector<std::int64_t>& shape, const std::vector<double>& data,
               NpyType as) {
  NpyArray a{shape, {}};
  auto to_int = [&](auto tag) {
    using I = decltype(tag);
    std::vector<I> v;
    for (double x : data) {
      // Only values that are integers representable in I are converted; anything else
      // would be silently changed.
      if (!(x == std::floor(x) && std::fabs(x) <= 9.0e15 && static_cast<double>(static_cast<I>(x)) == x))
        throw std::invalid_argument("write_npy " + path + ": value " + std::to_string(x) + " is not an integer representable as " +
                                    npy_descr(as));
      v.push_back(static_cast<I>(x));
    }
    return v;
  };
  switch (as) {
    case NpyType::f8: a.data = data; break;
    case NpyType::f4: a.data = std::vector<float>(data.begin(), data.end()); break;  // rounds to nearest
    case NpyType::i8: a.data = to_int(std::int64_t{}); break;
    case NpyType::i4: a.data = to_int(std::int32_t{}); break;
  }
  write_npy(path, a);
}

NpyArray parse_npy(const std::string& bytes, const std::string& what) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  if (bytes.size() < magic_len + 4 || bytes.compare(0, magic_len, magic, magic_len) != 0)
    malformed(what, "not a .npy file (bad magic; expected \\x93NUMPY)");
  const int major = p[6], minor = p[7];
  if (!((major == 1 || major == 2 || major == 3) && minor == 0))
    malformed(what, "unsupported format version " + std::to_string(major) + "." + std::to_string(minor) +
                        " (allowed: 1.0, 2.0, 3.0)");
  const std::size_t len_bytes = major == 1 ? 2 : 4;
  if (bytes.size() < 8 + len_bytes) malformed(what, "truncated header length");
  const std::size_t header_len = major == 1 ? get_le<std::uint16_t>(p + 8) : get_le<std::uint32_t>(p + 8);
  const std::size_t data_start = 8 + len_bytes + header_len;
  if (bytes.size() < data_start) malformed(what, "truncated header (header length " + std::to_string(header_len) + ")");
  const std::string dict = bytes.substr(8 + len_bytes, header_len);
  if (dict.empty() || dict.back() != '\n') malformed(what, "header dict does not end with '\\n'");

  DictParser dp{dict, 0, what};
  dp.expect('{', "at the start of the header");
  std::string descr;
  bool fortran = false, has_descr = false, has_order = false, has_shape = false;
  std::vector<std::int64_t> shape;
  while (!dp.eat('}')) {
    const std::string key = dp.string_literal();
    dp.expect(':', ("after key '" + key + "'").c_str());
    if (key == "descr") descr = dp.string_literal(), has_descr = true;
    else if (key == "fortran_order") fortran = dp.boolean(), has_order = true;
    else if (key == "shape") shape = dp.tuple(), has_shape = true;
    else malformed(what, "header dict: unexpected key '" + key + "'");
    if (!dp.eat(',')) {
      dp.expect('}', "to close the header dict");
      break;
    }
  }
  if (!has_descr || !has_order || !has_shape)
    malformed(what, "header dict must have keys 'descr', 'fortran_order' and 'shape': " + dict);
  const NpyType type = type_from_descr(descr, what);
  if (fortran) malformed(what, "field 'fortran_order' = True is not supported (C order only)");

  NpyArray a{shape, {}};
  std::size_t count = 1;
  for (auto d : shape) {
    if (d != 0 && count > (std::size_t(1) << 40) / static_cast<std::size_t>(d))
      malformed(what, "field 'shape' " + shape_tuple(shape) + " is too large");
    count *= static_cast<std::size_t>(d);
  }
  const std::size_t need = count * item_size(type);
  if (bytes.size() - data_start != need)
    malformed(what, "data size " + std::to_string(bytes.size() - data_start) + " bytes does not match shape " +
                        shape_tuple(shape) + " of " + descr + " (" + std::to_string(need) + " bytes)");
  const unsigned char* d = p + data_start;
  switch (type) {
    case NpyType::f8: a.data = decode<double, std::uint64_t>(d, count); break;
    case NpyType::f4: a.data = decode<float, std::uint32_t>(d, count); break;
    case NpyType::i8: a.data = decode<std::int64_t, std::uint64_t>(d, count); break;
    case NpyType::i4: a.data = decode<std::int32_t, std::uint32_t>(d, count); break;
  }
  return a;
}

NpyArray read_npy(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("read_npy: cannot open '" + path + "'");
  std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (f.bad()) throw std::runtime_error("read_npy: reading '" + path + "' failed");
  return parse_npy(bytes, "read_npy '" + path + "'");
}

}  // namespace triscan::validation
