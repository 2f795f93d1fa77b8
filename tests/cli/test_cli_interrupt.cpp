// SIGINT/SIGTERM while a command writes: no partial or temporary file, no output of several
// written without the others, and no child process (the SystemC simulation, the RTL run, the plot
// script) running on. prunesim runs in a process group of its own, so that "no process of the
// group remains" after it exited is the test for children left behind.
//
// The window between staging and renaming is made wide with PRUNESIM_TEST_STALL_COMMIT_MS (a
// test hook of base/output.h); the simulation and RTL runs are interrupted while their trace is
// being written, which they do for seconds on the ds_cae1 encoder.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <thread>
#include <vector>

#include "common/cli_fixture.h"

namespace {

using prunesim::testing::slurp;
using prunesim::testing::fs::directory_iterator;
namespace fs = prunesim::testing::fs;

class Interrupt : public prunesim::testing::RamanEncoderFixture {
 protected:
  // Starts prunesim with `args` in a new process group; stderr to err.txt.
  pid_t spawn(const std::vector<std::string>& args, int stall_ms = 0) {
    const std::string err = path("err.txt");
    const pid_t pid = fork();
    if (pid == 0) {
      setpgid(0, 0);
      if (!std::freopen(err.c_str(), "w", stderr)) _exit(99);
      if (!std::freopen("/dev/null", "w", stdout)) _exit(99);
      if (stall_ms > 0)
        setenv("PRUNESIM_TEST_STALL_COMMIT_MS", std::to_string(stall_ms).c_str(), 1);
      std::vector<char*> argv{const_cast<char*>(PRUNESIM_BIN)};
      for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      execv(PRUNESIM_BIN, argv.data());
      _exit(98);
    }
    setpgid(pid, pid);
    return pid;
  }
  // The names under the test folder that contain ".tmp.".
  std::vector<std::string> temps() const {
    std::vector<std::string> t;
    for (const auto& e : directory_iterator(dir_))
      if (e.path().filename().string().find(".tmp.") != std::string::npos)
        t.push_back(e.path().string());
    return t;
  }
  // Waits until at least `n` temporary files exist (the command is writing), at most 60 s.
  bool wait_for_temps(size_t n) const {
    for (int i = 0; i < 3000; ++i) {
      if (temps().size() >= n) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }
  // Sends `sig` to the process (or, group = true, to its whole group as a terminal's Ctrl-C does)
  // and returns its exit status.
  int interrupt(pid_t pid, int sig, bool group = false) {
    kill(group ? -pid : pid, sig);
    int st = 0;
    waitpid(pid, &st, 0);
    return st;
  }
  // Nothing written, nothing temporary left, no process of the group alive.
  void expect_clean(pid_t pid, int st, int sig, const std::vector<std::string>& outputs) {
    ASSERT_TRUE(WIFEXITED(st)) << "status " << st;
    EXPECT_EQ(WEXITSTATUS(st), 128 + sig) << slurp(path("err.txt"));
    for (const auto& o : outputs) EXPECT_FALSE(fs::exists(o)) << o << " written";
    EXPECT_TRUE(temps().empty()) << temps().front() << " left behind";
    // A child still running would keep the group alive (give an exiting one a moment).
    bool gone = false;
    for (int i = 0; i < 100 && !gone; ++i) {
      gone = kill(-pid, 0) != 0 && errno == ESRCH;
      if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    EXPECT_TRUE(gone) << "a process of prunesim's group runs on";
    EXPECT_NE(slurp(path("err.txt")).find("interrupted"), std::string::npos)
        << slurp(path("err.txt"));
  }
  std::vector<std::string> prune_args() const {
    return {
        "prune",      zoo + "encoder.onnx", "--scheme", "balanced",     "--sparsity", "0.5",
        "--calib",    zoo + "calib.npy",    "--target", "raman",        "-o",         path("p.pwt"),
        "--onnx-out", path("p.onnx"),       "--report", path("p.json"), "--quiet"};
  }
};

TEST_F(Interrupt, PruneWritesAllThreeOutputsOrNone) {
  const std::vector<std::string> outs = {path("p.pwt"), path("p.onnx"), path("p.json")};
  // SIGTERM with the three outputs staged: none of them appears.
  pid_t pid = spawn(prune_args(), 30000);
  ASSERT_TRUE(wait_for_temps(3)) << "the three outputs were never staged";
  expect_clean(pid, interrupt(pid, SIGTERM), SIGTERM, outs);
  // SIGINT to the group, the same.
  pid = spawn(prune_args(), 30000);
  ASSERT_TRUE(wait_for_temps(3));
  expect_clean(pid, interrupt(pid, SIGINT, true), SIGINT, outs);
  // Uninterrupted, the stall ends and all three are renamed into place.
  pid = spawn(prune_args(), 200);
  int st = 0;
  waitpid(pid, &st, 0);
  ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << slurp(path("err.txt"));
  for (const auto& o : outs) EXPECT_TRUE(fs::exists(o)) << o;
  EXPECT_TRUE(temps().empty());
}

TEST_F(Interrupt, SimulateWithoutTraceWritesNothing) {
  pid_t pid = spawn({"simulate", "--arch", "raman", "--tables", table, "--input",
                     zoo + "sample.npy", "--report", path("r.json"), "--output", path("y.npy")},
                    30000);
  ASSERT_TRUE(wait_for_temps(2));
  expect_clean(pid, interrupt(pid, SIGINT), SIGINT, {path("r.json"), path("y.npy")});
}

TEST_F(Interrupt, SimulateWithTraceStopsTheSimulationAndRemovesTheTrace) {
  // Interrupted while the SystemC child writes the VCD: the parent stops the child, waits for it
  // and removes the trace; signalling the parent alone must be enough.
  const std::vector<std::string> args = {"simulate",    "--arch",   "raman",           "--tables",
                                         table,         "--input",  zoo + "calib.npy", "--vcd",
                                         path("t.vcd"), "--report", path("r.json")};
  pid_t pid = spawn(args);
  ASSERT_TRUE(wait_for_temps(1)) << "the trace was never started";
  expect_clean(pid, interrupt(pid, SIGTERM), SIGTERM, {path("t.vcd"), path("r.json")});
  pid = spawn(args);
  ASSERT_TRUE(wait_for_temps(1));
  expect_clean(pid, interrupt(pid, SIGINT, true), SIGINT, {path("t.vcd"), path("r.json")});
}

TEST_F(Interrupt, FinetuneWritesItsOutputsTogetherOrNone) {
  const std::string dz = std::string(PRUNESIM_SOURCE_DIR) + "/zoo/digits_dscnn/";
  const std::vector<std::string> outs = {path("f.onnx"), path("f.pwt"), path("f.json")};
  const pid_t pid =
      spawn({"finetune", dz + "digits_dscnn.onnx", "--data", dz + "eval.npy", "--labels",
             dz + "eval_labels.npy", "--epochs", "1", "--batch", "64", "--quiet", "--calib",
             dz + "calib.npy", "-o", outs[0], "--tables-out", outs[1], "--report", outs[2]},
            30000);
  ASSERT_TRUE(wait_for_temps(3)) << slurp(path("err.txt"));
  expect_clean(pid, interrupt(pid, SIGTERM), SIGTERM, outs);
}

TEST_F(Interrupt, SweepWritesTheCsvAndPlotTogetherOrNone) {
  const std::vector<std::string> outs = {path("s.csv"), path("s.png")};
  const pid_t pid =
      spawn({"sweep", "--arch", "raman", "--model", zoo + "encoder.onnx", "--calib",
             zoo + "calib.npy", "--data", zoo + "calib.npy", "--schemes", "magnitude", "--sparsity",
             "0.5", "-o", outs[0], "--plot", outs[1], "--mode", "analytical"},
            30000);
  ASSERT_TRUE(wait_for_temps(2)) << slurp(path("err.txt"));
  expect_clean(pid, interrupt(pid, SIGTERM), SIGTERM, outs);
}

// The search's points CSV, front JSON, hypervolume CSV and plot are one batch: all or none. Its
// checkpoint, written after every generation, is replaced whole or not at all: interrupted
// while the first one is written, no checkpoint and no temporary is left.
TEST_F(Interrupt, SearchWritesItsOutputsTogetherOrNoneAndItsCheckpointWhole) {
  const std::vector<std::string> outs = {path("s.csv"), path("s.json"), path("hv.csv"),
                                         path("s.png")};
  const std::vector<std::string> base = {"search",
                                         "--model",
                                         zoo + "encoder.onnx",
                                         "--calib",
                                         zoo + "calib.npy",
                                         "--data",
                                         zoo + "sample.npy",
                                         "--pop",
                                         "8",
                                         "--gens",
                                         "1",
                                         "--no-recheck",
                                         "-o",
                                         outs[0],
                                         "--front",
                                         outs[1],
                                         "--hv",
                                         outs[2],
                                         "--plot",
                                         outs[3]};
  pid_t pid = spawn(base, 30000);
  ASSERT_TRUE(wait_for_temps(3)) << slurp(path("err.txt"));
  expect_clean(pid, interrupt(pid, SIGINT, true), SIGINT, outs);

  std::vector<std::string> with_ck = base;
  with_ck.insert(with_ck.end(), {"--checkpoint", path("s.ck")});
  pid = spawn(with_ck, 30000);
  ASSERT_TRUE(wait_for_temps(1)) << slurp(path("err.txt"));
  std::vector<std::string> all = outs;
  all.push_back(path("s.ck"));
  expect_clean(pid, interrupt(pid, SIGTERM), SIGTERM, all);
}

TEST_F(Interrupt, VerifyTraceIsRemovedAndTheRtlRunStopped) {
  const pid_t pid = spawn({"verify", "--arch", "raman", "--tables", table, "--input",
                           zoo + "calib.npy", "--trace", path("v.vcd"), "--no-lockstep"});
  ASSERT_TRUE(wait_for_temps(1)) << slurp(path("err.txt"));
  expect_clean(pid, interrupt(pid, SIGTERM), SIGTERM, {path("v.vcd")});
}

}  // namespace

namespace {

// The processes whose command line names `needle` (the scratch folder of a Verilator build).
std::vector<std::string> processes_naming(const std::string& needle) {
  std::vector<std::string> found;
  for (const auto& e : directory_iterator("/proc")) {
    const std::string pid = e.path().filename().string();
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string cmd = slurp(e.path() / "cmdline");
    std::replace(cmd.begin(), cmd.end(), '\0', ' ');
    if (cmd.find(needle) != std::string::npos) found.push_back(pid + ": " + cmd);
  }
  return found;
}

TEST_F(Interrupt, LgnVerifyStopsVerilatorAndRemovesItsScratchFolder) {
  const std::string dz = std::string(PRUNESIM_SOURCE_DIR) + "/zoo/digits_dscnn/";
  const std::string net = path("n.lgn");
  ASSERT_EQ(run("lgn train --data " + dz + "train.npy --labels " + dz +
                "train_labels.npy --layers 2x500 --interconnect random --epochs 1 --threads 1 "
                "--quiet -o " +
                net)
                .code,
            0);
  const pid_t pid = spawn({"lgn", "verify", net, "--data", dz + "eval.npy"});
  // `lgn verify` builds in $TMPDIR/prunesim_lgn_verify_<pid>; wait until Verilator runs there.
  const std::string scratch =
      (fs::temp_directory_path() / ("prunesim_lgn_verify_" + std::to_string(pid))).string();
  bool building = false;
  for (int i = 0; i < 3000 && !building; ++i) {
    building = !processes_naming(scratch).empty();
    if (!building) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(building) << "the Verilator build never started";
  const int st = interrupt(pid, SIGTERM);
  ASSERT_TRUE(WIFEXITED(st));
  EXPECT_EQ(WEXITSTATUS(st), 128 + SIGTERM);
  EXPECT_FALSE(fs::exists(scratch)) << scratch << " left behind";
  std::vector<std::string> left;
  for (int i = 0; i < 100; ++i) {
    left = processes_naming(scratch);
    if (left.empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(left.empty()) << left.front() << " runs on";
}

}  // namespace
