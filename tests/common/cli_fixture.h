// Shared fixture of the CLI tests: a temporary folder with a small conv net (Conv 2->4, Relu,
// MaxPool, Flatten, Gemm -> 3) and data, a runner for the built prunesim, and the bad-input
// check every subcommand must pass (exit 2, one line naming the problem, no output left).
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "common/onnx_builder.h"
#include "prune/npy.h"

namespace prunesim::testing {

namespace fs = std::filesystem;

struct Result {
  int code = -1;
  std::string out, err;
};

inline std::string slurp(const fs::path& p) {
  std::ifstream f(p);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// Lines a sanitizer runtime prints on stderr that are no finding (the ASan+UBSan build of
// scripts/test.sh --sanitize): SystemC's coroutines switch stacks with swapcontext, and ASan says
// once per process that it does not fully support it. Dropped, so that the "exactly one line"
// checks hold in both builds; a real report (ERROR, runtime error) is never matched here.
inline std::string drop_sanitizer_noise(const std::string& err) {
  std::string out, line;
  std::istringstream in(err);
  while (std::getline(in, line)) {
    // ... and, when an exception unwinds on a coroutine stack, ASan's three-line note that it
    // ignores __asan_handle_no_return there (no report follows it in this suite).
    if (line.find("WARNING: ASan doesn't fully support makecontext/swapcontext") !=
            std::string::npos ||
        line.find("WARNING: ASan is ignoring requested __asan_handle_no_return") !=
            std::string::npos ||
        line == "False positive error reports may follow" ||
        line == "For details see https://github.com/google/sanitizers/issues/189")
      continue;
    out += line + "\n";
  }
  if (!err.empty() && err.back() != '\n' && !out.empty()) out.pop_back();
  return out;
}

// Waits until process `pid` has installed a handler for `sig` (its SigCgt mask in
// /proc/<pid>/status), so a test's signal reaches prunesim's interruption guard and not the
// default action while the process is still loading its libraries (slow under load). False after
// timeout_ms or when the process has gone.
inline bool wait_until_catches(pid_t pid, int sig, int timeout_ms = 60000) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < end) {
    std::ifstream f("/proc/" + std::to_string(pid) + "/status");
    if (!f) return false;
    std::string line;
    while (std::getline(f, line))
      if (line.rfind("SigCgt:", 0) == 0) {
        const unsigned long long mask = std::stoull(line.substr(7), nullptr, 16);
        if (mask & (1ULL << (sig - 1))) return true;
      }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

class CliFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    // Suite, test and process in the name: tests of the same name in two suites (Cli and Prune
    // both have UnknownScheme) run at once under ctest -j, and one's TearDown must not delete the
    // other's folder (its shell redirections then fail with exit 2 and an empty stderr).
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string id = std::string(info->test_suite_name()) + "." + info->name();
    std::replace(id.begin(), id.end(), '/', '_');
    dir_ = fs::temp_directory_path() /
           ("prunesim_cli_" + id + "_" + std::to_string(static_cast<long>(::getpid())));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    // A small conv net: Conv(2->4,k3,pad1) + Relu + MaxPool(2) + Flatten + Gemm(->3).
    ModelBuilder b;
    b.input("x", {-1, 2, 8});
    b.init("w", {4, 2, 3}, ramp(24, 1));
    b.init("b", {4}, ramp(4, 2));
    b.init("fw", {3, 16}, ramp(48, 3));
    b.init("fb", {3}, ramp(3, 4));
    auto* c = b.node("Conv", {"x", "w", "b"}, {"c"}, "conv1");
    ModelBuilder::attr(c, "pads", std::vector<int64_t>{1, 1});
    b.node("Relu", {"c"}, {"r"}, "relu1");
    auto* p = b.node("MaxPool", {"r"}, {"p"}, "pool1");
    ModelBuilder::attr(p, "kernel_shape", std::vector<int64_t>{2});
    ModelBuilder::attr(p, "strides", std::vector<int64_t>{2});
    b.node("Flatten", {"p"}, {"f"}, "flat");
    auto* fc = b.node("Gemm", {"f", "fw", "fb"}, {"y"}, "fc");
    ModelBuilder::attr(fc, "transB", 1);
    b.output("y");
    model_ = (dir_ / "net.onnx").string();
    std::ofstream(model_, std::ios::binary) << b.bytes();
    x_ = Tensor({5, 2, 8}, ramp(80, 5));
    save_npy(x_, path("x.npy"));
    save_npy(Tensor({16, 2, 8}, ramp(256, 6)), path("calib.npy"));
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  Result run(const std::string& args) const {
    const std::string out = path("stdout.txt"), err = path("stderr.txt");
    const std::string cmd = std::string(PRUNESIM_BIN) + " " + args + " >" + out + " 2>" + err;
    const int st = std::system(cmd.c_str());
    Result r;
    r.code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    r.out = slurp(out);
    r.err = drop_sanitizer_noise(slurp(err));
    return r;
  }

  // Bad input: exit 2, exactly one line on stderr that contains `needle`, no output file.
  void expect_bad(const std::string& args, const std::string& needle,
                  const std::string& output = "") {
    Result r = run(args);
    EXPECT_EQ(r.code, 2) << args << "\n" << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_NE(r.err.find(needle), std::string::npos) << "want '" << needle << "' in: " << r.err;
    if (!output.empty()) {
      EXPECT_FALSE(fs::exists(output)) << output << " left behind";
    }
    for (const auto& e : fs::directory_iterator(dir_))
      EXPECT_EQ(e.path().string().find(".tmp."), std::string::npos) << e.path() << " left behind";
  }

  fs::path dir_;
  std::string model_;
  Tensor x_;
};

// The bundled ds_cae1 encoder pruned for the RAMAN-like core (balanced, 50 %), as `table`.
class RamanEncoderFixture : public CliFixture {
 protected:
  const std::string zoo = std::string(PRUNESIM_SOURCE_DIR) + "/zoo/ds_cae1/";
  std::string table;
  void SetUp() override {
    CliFixture::SetUp();
    table = path("enc.pwt");
    const auto r = run("prune " + zoo + "encoder.onnx --scheme balanced --sparsity 0.5 --calib " +
                       zoo + "calib.npy --target raman -o " + table);
    ASSERT_EQ(r.code, 0) << r.err;
  }
};

}  // namespace prunesim::testing
