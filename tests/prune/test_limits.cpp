// base/limits.h: the overflow-checked size arithmetic, the memory cap, UTF-8 checks and the JSON
// entry point every reader of user files goes through (docs/reliability.md).
#include <gtest/gtest.h>

#include <cstdlib>
#include <limits>

#include "base/limits.h"
#include "common/input_error.h"

namespace prunesim {
namespace {

using test::error_of;

TEST(Limits, CheckedArithmeticRefusesWrapAndNegatives) {
  int64_t r = 7;
  EXPECT_TRUE(checked_mul(int64_t{1} << 31, int64_t{1} << 31, &r));
  EXPECT_EQ(r, int64_t{1} << 62);
  r = 7;
  EXPECT_FALSE(checked_mul(int64_t{1} << 32, int64_t{1} << 32, &r));
  EXPECT_EQ(r, 7);  // untouched on failure
  EXPECT_FALSE(checked_mul(-1, 5, &r));
  EXPECT_TRUE(checked_mul(0, std::numeric_limits<int64_t>::max(), &r));
  EXPECT_EQ(r, 0);
  EXPECT_FALSE(checked_add(std::numeric_limits<int64_t>::max(), 1, &r));
  EXPECT_TRUE(checked_add(40, 2, &r));
  EXPECT_EQ(r, 42);
  // The Reshape of issue 16: 2^32 * 2^32 wraps to 0 in plain int64 arithmetic.
  EXPECT_FALSE(checked_numel({int64_t{1} << 32, int64_t{1} << 32, 1}, &r));
  EXPECT_FALSE(checked_numel({2, -5}, &r));
  EXPECT_TRUE(checked_numel({2, 3, 4}, &r));
  EXPECT_EQ(r, 24);
}

TEST(Limits, MemoryCapDefaultOverrideAndMessage) {
  ::unsetenv("PRUNESIM_MAX_BYTES");
  EXPECT_EQ(memory_cap_bytes(), uint64_t{4} << 30);
  ::setenv("PRUNESIM_MAX_BYTES", "512M", 1);
  EXPECT_EQ(memory_cap_bytes(), uint64_t{512} << 20);
  // 512 Mi floats fit 2 GiB but not 512 MiB.
  const std::string e = error_of([] {
    check_shape_alloc("m.onnx", "input 'x'", {1, 512, 1024, 1024}, 4);
  });
  EXPECT_NE(e.find("m.onnx: input 'x': shape [1, 512, 1024, 1024] needs 2.15e+09 bytes"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("512 MiB"), std::string::npos) << e;
  EXPECT_EQ(error_of([] { check_shape_alloc("m", "p", {1, 256, 1024, 512}, 4); }), "");
  ::setenv("PRUNESIM_MAX_BYTES", "lots", 1);
  EXPECT_NE(error_of([] { memory_cap_bytes(); }).find("PRUNESIM_MAX_BYTES"), std::string::npos);
  ::unsetenv("PRUNESIM_MAX_BYTES");
  EXPECT_NE(error_of([] {
              check_shape_alloc("m", "p", {1 << 30, 1 << 30, 1 << 30}, 1);
            }).find("more than 2^63 elements"),
            std::string::npos);
}

TEST(Limits, Utf8ValidationAndEscape) {
  EXPECT_TRUE(valid_utf8("conv1"));
  EXPECT_TRUE(valid_utf8("r\xC3\xA9seau \xE2\x86\x92 \xF0\x9F\x98\x80"));  // é → 😀
  EXPECT_FALSE(valid_utf8("rel\xFF"));
  EXPECT_FALSE(valid_utf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(valid_utf8("\xED\xA0\x80"));      // a surrogate
  EXPECT_FALSE(valid_utf8("\xF4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(valid_utf8("\xE2\x86"));          // truncated
  EXPECT_EQ(utf8_escape("rel\xFFu \xC3\xA9"), "rel\\xFFu \xC3\xA9");
}

TEST(Limits, JsonInputDepthNumbersAndSyntax) {
  EXPECT_EQ(parse_json_input("{\"a\": [1, 2.5, \"[[[\"]}", "f.json")["a"][1], 2.5);
  const std::string deep = std::string(65, '[') + std::string(65, ']');
  EXPECT_NE(error_of([&] {
              parse_json_input(deep, "f.json");
            }).find("f.json: byte 64: JSON nested more than 64 levels deep"),
            std::string::npos);
  EXPECT_EQ(
      error_of([] { parse_json_input(std::string(64, '[') + std::string(64, ']'), "f.json"); }),
      "");
  EXPECT_NE(error_of([] {
              parse_json_input("{\"x\": 1e400}", "f.json");
            }).find("f.json: byte 6: invalid JSON: number overflow parsing '1e400'"),
            std::string::npos);
  EXPECT_NE(error_of([] { parse_json_input("{\"x\": ", "f.json"); }).find("f.json: byte "),
            std::string::npos);
}

}  // namespace
}  // namespace prunesim
