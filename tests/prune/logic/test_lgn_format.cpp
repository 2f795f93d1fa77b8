// The .lgn format: a bit-identical round trip, and every kind of damage (truncation at any length,
// a flipped byte anywhere, a wrong version, a count larger than the file) an InputError naming
// the file, never a crash or a huge allocation; a network that does not validate is not written.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "base/crc32.h"
#include "base/errors.h"
#include "logic/format.h"
#include "logic_test_nets.h"

using namespace prunesim;
using namespace prunesim::logic;
namespace fs = std::filesystem;

namespace {

std::string slurp(const std::string& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}
void spit(const std::string& p, const std::string& b) {
  std::ofstream(p, std::ios::binary) << b;
}
std::string error_of(const std::string& path) {
  try {
    read_lgn(path);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

class LgnFormat : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / "prunesim_lgn_format";
    fs::create_directories(dir_);
    std::mt19937_64 rng(11);
    net_ = test_nets::random_netlist(rng, 7, 120, 3, 4);
    path_ = (dir_ / "net.lgn").string();
    write_lgn(net_, path_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
  Netlist net_;
  std::string path_;
};

}  // namespace

TEST_F(LgnFormat, RoundTripIsBitIdentical) {
  const Netlist r = read_lgn(path_);
  EXPECT_EQ(r.inputs, net_.inputs);
  EXPECT_EQ(r.encoder.thresholds, net_.encoder.thresholds);
  ASSERT_EQ(r.gates.size(), net_.gates.size());
  for (size_t i = 0; i < r.gates.size(); ++i) {
    EXPECT_EQ(r.gates[i].a, net_.gates[i].a);
    EXPECT_EQ(r.gates[i].b, net_.gates[i].b);
    EXPECT_EQ(r.gates[i].tt, net_.gates[i].tt);
    EXPECT_EQ(r.gates[i].layer, net_.gates[i].layer);
  }
  EXPECT_EQ(r.outputs, net_.outputs);
  EXPECT_EQ(r.out_negate, net_.out_negate);
  EXPECT_EQ(r.classes, net_.classes);
  EXPECT_EQ(r.tau, net_.tau);
  EXPECT_EQ(r.meta, net_.meta);
  const std::string again = (dir_ / "again.lgn").string();
  write_lgn(r, again);
  EXPECT_EQ(slurp(again), slurp(path_));
}

TEST_F(LgnFormat, EveryTruncationIsAnInputError) {
  const std::string b = slurp(path_);
  const std::string cut = (dir_ / "cut.lgn").string();
  for (size_t len = 0; len < b.size(); len += 1 + len / 8) {
    spit(cut, b.substr(0, len));
    const std::string e = error_of(cut);
    EXPECT_NE(e.find(cut), std::string::npos) << "length " << len << ": '" << e << "'";
  }
}

TEST_F(LgnFormat, EveryFlippedByteIsAnInputError) {
  const std::string b = slurp(path_);
  const std::string bad = (dir_ / "bad.lgn").string();
  for (size_t at = 0; at < b.size(); at += 3) {
    std::string c = b;
    c[at] = static_cast<char>(c[at] ^ 0x5A);
    spit(bad, c);
    EXPECT_NE(error_of(bad), "") << "byte " << at;
  }
}

TEST_F(LgnFormat, CountsBeyondTheFileAreRefusedBeforeAllocation) {
  std::string b = slurp(path_);
  // gates = 2^32 - 1 (bytes 16..19), with a correct header CRC: only the length check stops it.
  for (int k = 16; k < 20; ++k) b[k] = static_cast<char>(0xFF);
  const uint32_t crc = crc32(b.data(), 36);
  for (int k = 0; k < 4; ++k) b[36 + k] = static_cast<char>((crc >> (8 * k)) & 0xFF);
  const std::string bad = (dir_ / "huge.lgn").string();
  spit(bad, b);
  const std::string e = error_of(bad);
  EXPECT_NE(e.find("gate table"), std::string::npos) << e;
}

TEST_F(LgnFormat, OtherVersionsAreNamed) {
  std::string b = slurp(path_);
  b[4] = 2;
  const uint32_t crc = crc32(b.data(), 36);
  for (int k = 0; k < 4; ++k) b[36 + k] = static_cast<char>((crc >> (8 * k)) & 0xFF);
  const std::string bad = (dir_ / "v2.lgn").string();
  spit(bad, b);
  EXPECT_NE(error_of(bad).find("version 2"), std::string::npos) << error_of(bad);
}

TEST_F(LgnFormat, AnInvalidNetworkIsNotWritten) {
  Netlist n = net_;
  n.gates[3].a = n.inputs + 50;  // reads a later signal
  const std::string out = (dir_ / "never.lgn").string();
  EXPECT_THROW(write_lgn(n, out), InputError);
  EXPECT_FALSE(fs::exists(out));
}
