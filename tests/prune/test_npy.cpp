// .npy reader/writer: round trips of every written dtype, reference files built byte by byte as
// numpy writes them, and every malformed-input case naming the file and the fault.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "prune/errors.h"
#include "prune/npy.h"

namespace prunesim {
namespace {

std::string tmp_path(const std::string& name) {
  return ::testing::TempDir() + "prunesim_npy_" + name + ".npy";
}

void write_bytes(const std::string& path, const std::string& b) {
  std::ofstream f(path, std::ios::binary);
  f.write(b.data(), static_cast<std::streamsize>(b.size()));
}

// A file as numpy.save writes it: magic, version, little-endian header length, the dict padded
// with spaces so the data starts on a 64-byte boundary, '\n', then the payload.
std::string npy_file(const std::string& dict, const std::string& payload, int major = 1) {
  std::string out("\x93NUMPY", 6);
  out.push_back(static_cast<char>(major));
  out.push_back(0);
  const size_t pre = major == 1 ? 10 : 12;
  std::string h = dict;
  while ((pre + h.size() + 1) % 64) h.push_back(' ');
  h.push_back('\n');
  for (size_t k = 0; k < (major == 1 ? 2u : 4u); ++k)
    out.push_back(static_cast<char>((h.size() >> (8 * k)) & 0xff));
  return out + h + payload;
}

std::string load_error(const std::string& name, const std::string& bytes) {
  const std::string p = tmp_path(name);
  write_bytes(p, bytes);
  try {
    load_npy(p);
  } catch (const InputError& e) {
    std::remove(p.c_str());
    return e.what();
  }
  std::remove(p.c_str());
  return "(no error)";
}

TEST(Npy, ReadsHandWrittenFloat32) {
  // np.array([[1.0, -2.0, 0.5]], dtype='<f4'): 0x3f800000, 0xc0000000, 0x3f000000.
  const std::string payload("\x00\x00\x80\x3f\x00\x00\x00\xc0\x00\x00\x00\x3f", 12);
  const std::string p = tmp_path("f4");
  write_bytes(p, npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3), }", payload));
  const Tensor t = load_npy(p);
  EXPECT_EQ(t.dtype, DType::F32);
  EXPECT_EQ(t.shape, (Shape{1, 3}));
  ASSERT_EQ(t.f.size(), 3u);
  EXPECT_EQ(t.f[0], 1.f);
  EXPECT_EQ(t.f[1], -2.f);
  EXPECT_EQ(t.f[2], 0.5f);
  std::remove(p.c_str());
}

TEST(Npy, ReadsFloat64NarrowedAndVersion2And3) {
  // 1.5 as float64 is 0x3ff8000000000000; -0.25 is 0xbfd0000000000000.
  const std::string payload("\x00\x00\x00\x00\x00\x00\xf8\x3f\x00\x00\x00\x00\x00\x00\xd0\xbf", 16);
  for (int major : {1, 2, 3}) {
    const std::string p = tmp_path("f8v" + std::to_string(major));
    write_bytes(
        p, npy_file("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", payload, major));
    const Tensor t = load_npy(p);
    EXPECT_EQ(t.dtype, DType::F64);
    EXPECT_EQ(t.shape, (Shape{2}));
    EXPECT_EQ(t.f, (std::vector<float>{1.5f, -0.25f}));
    std::remove(p.c_str());
  }
}

TEST(Npy, ReadsIntegerAndBoolDtypes) {
  struct Case {
    const char* descr;
    std::string payload;
    DType dtype;
    std::vector<int64_t> values;
  };
  const std::vector<Case> cases = {
      {"|i1", std::string("\x80\xff\x7f", 3), DType::I8, {-128, -1, 127}},
      {"|u1", std::string("\x00\xff\x80", 3), DType::U8, {0, 255, 128}},
      {"<i4",
       std::string("\xff\xff\xff\xff\x00\x00\x00\x80\x2a\x00\x00\x00", 12),
       DType::I32,
       {-1, -2147483648LL, 42}},
      {"<i8",
       std::string("\xfe\xff\xff\xff\xff\xff\xff\xff\x00\x00\x00\x00\x01\x00\x00\x00"
                   "\x07\x00\x00\x00\x00\x00\x00\x00",
                   24),
       DType::I64,
       {-2, 4294967296LL, 7}},
      {"|b1", std::string("\x01\x00\x01", 3), DType::BOOL, {1, 0, 1}},
  };
  for (const auto& c : cases) {
    const std::string p = tmp_path(std::string("int_") + c.descr[1] + c.descr[2]);
    write_bytes(p, npy_file(std::string("{'descr': '") + c.descr +
                                "', 'fortran_order': False, 'shape': (3,), }",
                            c.payload));
    const Tensor t = load_npy(p);
    EXPECT_EQ(t.dtype, c.dtype) << c.descr;
    EXPECT_EQ(t.i, c.values) << c.descr;
    EXPECT_TRUE(t.f.empty());
    const Tensor tf = load_npy_as_float(p);
    EXPECT_EQ(tf.dtype, DType::F32);
    ASSERT_EQ(tf.f.size(), 3u);
    EXPECT_EQ(tf.f[0], static_cast<float>(c.values[0])) << c.descr;
    std::remove(p.c_str());
  }
}

TEST(Npy, AcceptsKeyOrderDoubleQuotesScalarAndEmpty) {
  const std::string p = tmp_path("variants");
  write_bytes(p, npy_file("{\"shape\": (), \"fortran_order\": False, \"descr\": \"<i4\"}",
                          std::string("\x05\x00\x00\x00", 4)));
  Tensor t = load_npy(p);
  EXPECT_TRUE(t.shape.empty());
  EXPECT_EQ(t.i, (std::vector<int64_t>{5}));
  write_bytes(p, npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 4), }", ""));
  t = load_npy(p);
  EXPECT_EQ(t.shape, (Shape{0, 4}));
  EXPECT_TRUE(t.f.empty());
  std::remove(p.c_str());
}

TEST(Npy, RoundTripsEveryWrittenDtype) {
  Tensor f({2, 3}, {0.f, -1.5f, 3.25f, 1e-30f, -7e20f, 42.f});
  std::vector<Tensor> ts = {f};
  auto ints = [](DType d, std::vector<int64_t> v) {
    const int64_t n = static_cast<int64_t>(v.size());  // before v is moved from
    Tensor t = Tensor::ints({n}, std::move(v));
    t.dtype = d;
    return t;
  };
  ts.push_back(ints(DType::I8, {-128, 0, 127, -5}));
  ts.push_back(ints(DType::U8, {0, 255, 17}));
  ts.push_back(ints(DType::I32, {-2147483648LL, 2147483647LL, 0}));
  ts.push_back(ints(DType::I64, {INT64_MIN, INT64_MAX, -1, 1}));
  for (size_t k = 0; k < ts.size(); ++k) {
    const std::string p = tmp_path("rt" + std::to_string(k));
    save_npy(ts[k], p);
    const Tensor r = load_npy(p);
    EXPECT_EQ(r.dtype, ts[k].dtype) << dtype_name(ts[k].dtype);
    EXPECT_EQ(r.shape, ts[k].shape);
    EXPECT_EQ(r.f, ts[k].f);
    EXPECT_EQ(r.i, ts[k].i);
    // numpy's layout: the payload starts on a 64-byte boundary after a '\n'-terminated header.
    const std::string b = npy_bytes(ts[k]);
    const size_t hlen = static_cast<unsigned char>(b[8]) | static_cast<unsigned char>(b[9]) << 8;
    EXPECT_EQ((10 + hlen) % 64, 0u);
    EXPECT_EQ(b[9 + hlen], '\n');
    std::remove(p.c_str());
  }
}

TEST(Npy, WritesExactlyWhatNumpyWrites) {
  // np.save of np.array([1, 2], dtype=np.int8) produces this header byte for byte.
  Tensor t = Tensor::ints({2}, {1, 2});
  t.dtype = DType::I8;
  const std::string want = npy_file("{'descr': '|i1', 'fortran_order': False, 'shape': (2,), }",
                                    std::string("\x01\x02", 2));
  EXPECT_EQ(npy_bytes(t), want);
}

TEST(Npy, WriteRejectsValuesOutOfRangeAndLeavesNoFile) {
  Tensor t = Tensor::ints({2}, {1, 300});
  t.dtype = DType::I8;
  const std::string p = tmp_path("range");
  std::remove(p.c_str());
  try {
    save_npy(t, p);
    FAIL() << "no error";
  } catch (const InputError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find(p), std::string::npos) << m;
    EXPECT_NE(m.find("element 1"), std::string::npos) << m;
    EXPECT_NE(m.find("300"), std::string::npos) << m;
  }
  EXPECT_FALSE(std::ifstream(p).good());
}

struct BadCase {
  const char* name;
  std::string bytes;
  std::vector<const char*> expect;  // substrings of the message besides the file name
};

TEST(Npy, RejectsMalformedInputNamingFileAndFault) {
  const std::string ok_dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }";
  const std::string two_floats(8, '\0');
  std::string bad_version = npy_file(ok_dict, two_floats);
  bad_version[6] = 4;
  std::string long_header = npy_file(ok_dict, two_floats);
  long_header[8] = '\xff';
  long_header[9] = '\x7f';
  const std::vector<BadCase> cases = {
      {"magic", "PK\x03\x04 not numpy at all", {"header", "magic"}},
      {"empty", "", {"header", "magic"}},
      {"version", bad_version, {"header", "version 4.0"}},
      {"hlen", long_header, {"header", "runs past the end"}},
      {"fortran",
       npy_file("{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }", two_floats),
       {"header", "fortran_order"}},
      {"bigendian",
       npy_file("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", two_floats),
       {"header", "big-endian", ">f4"}},
      {"dtype",
       npy_file("{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }", two_floats),
       {"header", "unsupported dtype", "<c8"}},
      {"object",
       npy_file("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", two_floats),
       {"header", "|O"}},
      {"truncated",
       npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", two_floats),
       {"byte 136", "truncated", "needs 12 bytes", "has 8"}},
      {"extra",
       npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", two_floats),
       {"byte 132", "size mismatch", "4 bytes beyond"}},
      {"noshape",
       npy_file("{'descr': '<f4', 'fortran_order': False, }", two_floats),
       {"header", "missing 'shape'"}},
      {"badshape",
       npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (2, x), }", two_floats),
       {"header", "shape entries"}},
      {"negshape",
       npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }", two_floats),
       {"header", "shape entries"}},
      {"notdict", npy_file("descr: <f4", two_floats), {"header", "expected '{'"}},
      {"unknownkey",
       npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}", two_floats),
       {"header", "unexpected key 'x'"}},
  };
  for (const auto& c : cases) {
    const std::string m = load_error(c.name, c.bytes);
    EXPECT_NE(m.find(tmp_path(c.name)), std::string::npos) << c.name << ": " << m;
    for (const char* s : c.expect) EXPECT_NE(m.find(s), std::string::npos) << c.name << ": " << m;
  }
}

TEST(Npy, MissingFileIsAnInputError) {
  EXPECT_THROW(load_npy(tmp_path("does_not_exist")), InputError);
}

}  // namespace
}  // namespace prunesim
