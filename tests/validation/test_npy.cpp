// .npy I/O: header bytes against the published format (numpy/lib/format.py, version
// 1.0), bit-exact round trips, and clear errors for malformed files.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>

#include "validation/generators.hpp"
#include "validation/npy.hpp"

namespace triscan::validation {
namespace {

std::string temp_path(const std::string& name) {
  return ::testing::TempDir() + "triscan_npy_" + name + ".npy";
}

std::string read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

TEST(Npy, HeaderMatchesThePublishedFormatByteForByte) {
  // np.save of a (2, 3) float64 array writes: magic "\x93NUMPY", version 1.0, header
  // length 118 (little-endian "v\0"), the dict exactly as below, spaces, and '\n', so the
  // data starts at byte 128 (a multiple of 64).
  const std::string dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }";
  const std::string expected = std::string("\x93NUMPY\x01\x00v\x00", 10) + dict + std::string(58, ' ') + "\n";
  EXPECT_EQ(npy_header(NpyType::f8, {2, 3}), expected);
  // One-element tuples keep their comma; a scalar has shape ().
  const std::string h1 = npy_header(NpyType::i4, {5});
  EXPECT_EQ(h1.size(), 128u);
  EXPECT_EQ(h1.substr(10, 57), "{'descr': '<i4', 'fortran_order': False, 'shape': (5,), }");
  const std::string h0 = npy_header(NpyType::f4, {});
  EXPECT_EQ(h0.substr(10, 55), "{'descr': '<f4', 'fortran_order': False, 'shape': (), }");
  for (const auto& h : {expected, h1, h0, npy_header(NpyType::i8, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11})}) {
    EXPECT_EQ(h.size() % 64, 0u);
    EXPECT_EQ(h.back(), '\n');
    EXPECT_EQ(std::size_t(static_cast<unsigned char>(h[8]) | static_cast<unsigned char>(h[9]) << 8), h.size() - 10);
  }
  EXPECT_THROW(npy_header(NpyType::f8, {2, -1}), std::invalid_argument);
}

TEST(Npy, DataIsLittleEndianIeee) {
  const std::string path = temp_path("le");
  write_npy(path, {2}, {1.0, -2.0});
  const std::string bytes = read_bytes(path);
  ASSERT_EQ(bytes.size(), 128u + 16u);
  // 1.0 = 0x3FF0000000000000, -2.0 = 0xC000000000000000, least significant byte first.
  EXPECT_EQ(bytes.substr(128), std::string("\0\0\0\0\0\0\xF0\x3F\0\0\0\0\0\0\0\xC0", 16));
  NpyArray i4{{3}, std::vector<std::int32_t>{1, -1, 0x01020304}};
  write_npy(path, i4);
  EXPECT_EQ(read_bytes(path).substr(128), std::string("\x01\0\0\0\xFF\xFF\xFF\xFF\x04\x03\x02\x01", 12));
  std::remove(path.c_str());
}

TEST(Npy, RoundTripsEveryTypeBitExactly) {
  const std::string path = temp_path("roundtrip");
  const double inf = std::numeric_limits<double>::infinity();
  const std::vector<double> f8 = {0.0, -0.0, 1.0 / 3.0, 4.9e-324, 1.7976931348623157e308, -inf, inf, 1e-300};
  NpyArray a{{2, 4}, f8};
  write_npy(path, a);
  NpyArray b = read_npy(path);
  EXPECT_EQ(b.shape, a.shape);
  ASSERT_EQ(b.type(), NpyType::f8);
  const auto& got = std::get<std::vector<double>>(b.data);
  for (std::size_t i = 0; i < f8.size(); ++i)
    EXPECT_EQ(std::memcmp(&got[i], &f8[i], 8), 0) << "element " << i;
  // NaN payload survives too.
  write_npy(path, NpyArray{{1}, std::vector<double>{std::nan("")}});
  EXPECT_TRUE(std::isnan(read_npy(path).as_double()[0]));

  const std::vector<float> f4 = {1.5f, -0.0f, 1e-45f, 3.4e38f};
  write_npy(path, NpyArray{{4}, f4});
  EXPECT_EQ(std::get<std::vector<float>>(read_npy(path).data), f4);
  const std::vector<std::int64_t> i8 = {std::numeric_limits<std::int64_t>::min(), -1, 0, std::numeric_limits<std::int64_t>::max()};
  write_npy(path, NpyArray{{2, 2}, i8});
  EXPECT_EQ(std::get<std::vector<std::int64_t>>(read_npy(path).data), i8);
  const std::vector<std::int32_t> i4 = {std::numeric_limits<std::int32_t>::min(), 7, std::numeric_limits<std::int32_t>::max()};
  write_npy(path, NpyArray{{3}, i4});
  EXPECT_EQ(std::get<std::vector<std::int32_t>>(read_npy(path).data), i4);
  // Empty and scalar arrays.
  write_npy(path, NpyArray{{0, 3}, std::vector<double>{}});
  EXPECT_EQ(read_npy(path).shape, (std::vector<std::int64_t>{0, 3}));
  write_npy(path, NpyArray{{}, std::vector<double>{2.5}});
  EXPECT_EQ(read_npy(path).as_double(), std::vector<double>{2.5});
  // Conversions from double on write.
  write_npy(path, {3}, {1.0, 2.0, -3.0}, NpyType::i8);
  EXPECT_EQ(std::get<std::vector<std::int64_t>>(read_npy(path).data), (std::vector<std::int64_t>{1, 2, -3}));
  write_npy(path, {1}, {0.1}, NpyType::f4);
  EXPECT_EQ(std::get<std::vector<float>>(read_npy(path).data)[0], 0.1f);
  std::remove(path.c_str());
}

TEST(Npy, ReadsVersion2HeadersAndPythonSpacingVariants) {
  // Version 2.0: 4-byte header length. Keys in another order, double quotes, no
  // trailing comma: all valid Python literals that NumPy can write or accept.
  std::string dict = "{\"shape\": (2,), \"fortran_order\": False, \"descr\": \"<i8\"}";
  dict += std::string(64 - (12 + dict.size() + 1) % 64, ' ') + "\n";
  std::string bytes = std::string("\x93NUMPY\x02\x00", 8);
  const auto len = static_cast<std::uint32_t>(dict.size());
  for (int i = 0; i < 4; ++i) bytes.push_back(static_cast<char>((len >> (8 * i)) & 0xff));
  bytes += dict + std::string("\x05\0\0\0\0\0\0\0\xFB\xFF\xFF\xFF\xFF\xFF\xFF\xFF", 16);
  const NpyArray a = parse_npy(bytes);
  EXPECT_EQ(a.shape, (std::vector<std::int64_t>{2}));
  EXPECT_EQ(std::get<std::vector<std::int64_t>>(a.data), (std::vector<std::int64_t>{5, -5}));
}

void expect_invalid(const std::string& bytes, const std::string& field) {
  try {
    parse_npy(bytes, "test.npy");
    ADD_FAILURE() << "accepted a file with a bad " << field;
  } catch (const std::invalid_argument& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("test.npy"), std::string::npos) << msg;
    EXPECT_NE(msg.find(field), std::string::npos) << "message '" << msg << "' does not name " << field;
  }
}

std::string file_with(const std::string& dict_body, std::size_t data_bytes) {
  std::string dict = dict_body;
  dict += std::string(64 - (10 + dict.size() + 1) % 64, ' ') + "\n";
  std::string out = std::string("\x93NUMPY\x01\x00", 8);
  out.push_back(static_cast<char>(dict.size() & 0xff));
  out.push_back(static_cast<char>(dict.size() >> 8));
  return out + dict + std::string(data_bytes, '\0');
}

TEST(Npy, MalformedFilesAreRejectedNamingTheField) {
  const std::string good = file_with("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", 16);
  EXPECT_NO_THROW(parse_npy(good, "test.npy"));
  expect_invalid("\x93NUMPX\x01\x00", "magic");
  expect_invalid("PK\x03\x04 not npy at all", "magic");
  std::string v4 = good;
  v4[6] = '\x04';
  expect_invalid(v4, "version");
  expect_invalid(good.substr(0, 40), "truncated header");
  expect_invalid(good.substr(0, good.size() - 1), "data size");
  expect_invalid(good + "x", "data size");
  expect_invalid(file_with("{'descr': '>f8', 'fortran_order': False, 'shape': (2,), }", 16), "descr");
  expect_invalid(file_with("{'descr': '<c16', 'fortran_order': False, 'shape': (2,), }", 32), "descr");
  expect_invalid(file_with("{'descr': '<f8', 'fortran_order': True, 'shape': (2,), }", 16), "fortran_order");
  expect_invalid(file_with("{'descr': '<f8', 'fortran_order': Maybe, 'shape': (2,), }", 16), "fortran_order");
  expect_invalid(file_with("{'descr': '<f8', 'fortran_order': False, 'shape': (-2,), }", 16), "shape");
  expect_invalid(file_with("{'descr': '<f8', 'fortran_order': False, 'shape': [2], }", 16), "shape");
  expect_invalid(file_with("{'descr': '<f8', 'fortran_order': False}", 16), "shape");
  expect_invalid(file_with("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), 'extra': 1}", 16), "extra");
  expect_invalid(file_with("['descr', '<f8']", 16), "header");
}

TEST(Npy, IoAndShapeErrors) {
  EXPECT_THROW(read_npy("/nonexistent/dir/file.npy"), std::runtime_error);
  EXPECT_THROW(write_npy("/nonexistent/dir/file.npy", {1}, {1.0}), std::runtime_error);
  EXPECT_THROW(write_npy(temp_path("bad"), {2, 2}, {1.0, 2.0, 3.0}), std::invalid_argument);
  EXPECT_THROW(write_npy(temp_path("bad"), {1}, {0.5}, NpyType::i4), std::invalid_argument);
  EXPECT_THROW(write_npy(temp_path("bad"), {1}, {3e9}, NpyType::i4), std::invalid_argument);
  // A malformed file on disk: the message names the path.
  write_bytes(temp_path("bad"), "not a numpy file");
  try {
    read_npy(temp_path("bad"));
    ADD_FAILURE() << "accepted a non-npy file";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find(temp_path("bad")), std::string::npos) << e.what();
  }
  std::remove(temp_path("bad").c_str());
}

TEST(Npy, SaveNpyWritesEveryTensorAndTheMatrix) {
  const std::string dir = ::testing::TempDir() + "triscan_save_npy";
  GeneratorParams p;
  p.name = "gated";
  p.n = 12;
  p.seed = 3;
  p.dk = 4;
  p.dv = 2;
  const Generated g = generate(p);
  const auto paths = save_npy(dir, g);
  EXPECT_EQ(paths.size(), g.tensors.size() + 1) << "generator=gated n=12 seed=3";
  const NpyArray L = read_npy(dir + "/L.npy");
  EXPECT_EQ(L.shape, (std::vector<std::int64_t>{12, 12}));
  EXPECT_EQ(L.as_double(), std::vector<double>(g.L.data(), g.L.data() + 144));
  for (const auto& [name, t] : g.tensors) {
    const NpyArray a = read_npy(dir + "/" + name + ".npy");
    EXPECT_EQ(a.shape, std::vector<std::int64_t>(t.shape.begin(), t.shape.end())) << name;
    EXPECT_EQ(a.as_double(), t.data) << name;
  }
  // f4: each value rounded to nearest float.
  save_npy(dir, g, NpyType::f4);
  const auto k4 = std::get<std::vector<float>>(read_npy(dir + "/k.npy").data);
  for (std::size_t i = 0; i < k4.size(); ++i) EXPECT_EQ(k4[i], static_cast<float>(g.tensors.at("k").data[i]));
  EXPECT_THROW(save_npy(dir, g, NpyType::i4), std::invalid_argument);

  ChunkLayout l;
  l.length = 20;
  l.heads = 2;
  l.chunk = 8;
  l.cu_seqlens = {0, 5, 20};
  const ChunkProblem cp = make_chunk_problem(p, l);
  save_npy(dir, cp);
  EXPECT_EQ(std::get<std::vector<std::int64_t>>(read_npy(dir + "/cu_seqlens.npy").data), l.cu_seqlens);
  EXPECT_EQ(read_npy(dir + "/A.npy").shape, (std::vector<std::int64_t>{1, 20, 2, 8}));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace triscan::validation
