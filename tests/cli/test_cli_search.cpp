// `prunesim search` as a user runs it on the ds_cae1 encoder: the outputs (points CSV, front JSON,
// hypervolume CSV, plot), bad input refused before any work (exit 2, one line, nothing written),
// a constraint no point meets (the closest miss said at the end, exit 2), a run killed with
// SIGKILL and resumed equal to an uninterrupted one, and the same front at 1 and 2 MPI ranks.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "common/cli_fixture.h"

namespace fs = std::filesystem;
using prunesim::testing::Result;
using prunesim::testing::slurp;

namespace {

using Search = prunesim::testing::CliFixture;

const std::string kZoo = std::string(PRUNESIM_SOURCE_DIR) + "/zoo/ds_cae1/";

std::string base_args(const std::string& pop_gens = "--pop 8 --gens 2") {
  return "search --model " + kZoo + "encoder.onnx --calib " + kZoo + "calib.npy --data " + kZoo +
         "sample.npy --no-recheck " + pop_gens;
}

TEST_F(Search, WritesPointsFrontHypervolumeAndRechecksTheFront) {
  const std::string csv = path("p.csv"), front = path("f.json"), hv = path("hv.csv");
  const Result r =
      run("search --model " + kZoo + "encoder.onnx --calib " + kZoo + "calib.npy --data " + kZoo +
          "sample.npy --pop 8 --gens 2 -o " + csv + " --front " + front + " --hv " + hv);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_NE(r.out.find("nsga2: 24 evaluations"), std::string::npos) << r.out;
  const auto j = nlohmann::json::parse(slurp(front));
  EXPECT_EQ(j["evaluations"], 24);
  EXPECT_EQ(j["history"].size(), 3u);
  ASSERT_FALSE(j["front"].empty());
  for (const auto& p : j["front"]) {
    // The front was rerun in cycle mode, which the analytical twin equals exactly.
    EXPECT_EQ(p["cycle_mode_cycles"], p["cycles"]);
    EXPECT_EQ(p["layers"].size(), 8u);
  }
  const std::string points = slurp(csv);
  EXPECT_EQ(points.rfind("index,generation,part,sparsity_actual,", 0), 0u);
  EXPECT_EQ(std::count(points.begin(), points.end(), '\n'), 1 + j["distinct_points"].get<long>());
  EXPECT_EQ(slurp(hv).rfind("generation,evaluations,distinct_points,hypervolume\n0,8,", 0), 0u);
}

TEST_F(Search, BadInputIsOneLineExitTwoNoOutput) {
  const std::string csv = path("p.csv");
  expect_bad(base_args() + " --set pe_count=32:16:4 -o " + csv, "empty range", csv);
  expect_bad(base_args() + " --objectives energy,speed -o " + csv, "unknown objective 'speed'",
             csv);
  expect_bad(base_args() + " --objectives energy -o " + csv, "two to four objectives", csv);
  expect_bad(base_args() + " --algo annealing -o " + csv, "--algo annealing: unknown", csv);
  expect_bad(base_args("--pop 10") + " -o " + csv, "multiple of 4", csv);
  expect_bad(base_args() + " --latency-budget -1 -o " + csv, "--latency-budget: must be", csv);
  std::ofstream(path("bad.ck")) << "not json";
  expect_bad(base_args() + " --checkpoint " + path("bad.ck") + " --resume -o " + csv,
             "unreadable checkpoint", csv);
  expect_bad(base_args() + " --checkpoint " + path("none.ck") + " --resume -o " + csv,
             "cannot read the checkpoint", csv);
  expect_bad(base_args() + " --resume -o " + csv, "--resume: needs --checkpoint", csv);
  expect_bad(base_args() + " --sparsity 0 -o " + csv, "nothing to search", csv);
}

TEST_F(Search, FinetuneRecoversEveryPrunedFrontPointAndHoldsItsStructure) {
  const std::string csv = path("p.csv"), front = path("f.json");
  // Distillation from the dense encoder (no labels) on the 64 evaluation windows: a test-sized
  // training set; the one-shot points at 50-90 % are far below the dense model's fidelity.
  const Result r = run(base_args("--pop 8 --gens 1") + " --sparsity 0.5:0.9:0.2 --finetune " +
                       "epochs=3,lr=0.002,seed=1 --train-data " + kZoo + "eval.npy -o " + csv +
                       " --front " + front);
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(slurp(front));
  size_t tuned = 0, better = 0;
  for (const auto& p : j["front"]) {
    bool pruned = false;
    for (const auto& l : p["layers"]) pruned |= l["sparsity"].get<double>() > 0;
    ASSERT_EQ(p.contains("finetuned"), pruned) << p.dump();
    if (!pruned) continue;
    ++tuned;
    ASSERT_TRUE(p["finetuned"].contains("fidelity")) << p.dump();
    // The pruning structure is held through training: the same weights are zero.
    EXPECT_EQ(p["finetuned"]["sparsity_actual"], p["sparsity_actual"]);
    better += p["finetuned"]["fidelity"].get<double>() > p["fidelity"].get<double>();
    EXPECT_NE(r.out.find("fine-tuned: sparsity"), std::string::npos) << r.out;
  }
  ASSERT_GT(tuned, 0u);
  EXPECT_EQ(better, tuned) << "fine-tuning should recover every one-shot front point here";
  // The CSV carries the tuned figures of exactly those points.
  const std::string points = slurp(csv);
  EXPECT_NE(points.find(",fidelity_finetuned,energy_j_finetuned,"), std::string::npos);

  const std::string bad = path("bad.csv");
  expect_bad(base_args() + " --finetune epochs=2 -o " + bad, "--finetune: needs --train-data", bad);
  expect_bad(base_args() + " --train-data " + kZoo + "eval.npy -o " + bad,
             "only used with --finetune", bad);
  expect_bad(
      base_args() + " --finetune epochs=2,colour=red --train-data " + kZoo + "eval.npy -o " + bad,
      "colour", bad);
}

// Per-layer channel ratios: the channel scheme removes channels physically (fewer MACs, fewer
// cycles), the cycle-mode recheck still equals the twin on the smaller layers, and the layers it
// cannot touch are named once at the start.
TEST_F(Search, ChannelRatiosShrinkLayersAndTheInertOnesAreNamedOnce) {
  const std::string csv = path("p.csv"), front = path("f.json");
  const Result r = run("search --model " + kZoo + "encoder.onnx --calib " + kZoo +
                       "calib.npy --data " + kZoo + "sample.npy --pop 8 --gens 1 --schemes " +
                       "channel --sparsity 0.5 -o " + csv + " --front " + front);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_EQ(r.err.rfind("warning: --schemes channel: /0/Conv, /5/Conv, /10/Conv, /15/Conv, "
                        "/16/Conv: removes nothing there",
                        0),
            0u)
      << r.err;
  const auto j = nlohmann::json::parse(slurp(front));
  bool shrunk = false;
  for (const auto& p : j["front"]) {
    EXPECT_EQ(p["cycle_mode_cycles"], p["cycles"]);
    for (const auto& l : p["layers"])
      if (l["name"] == "/1/Conv" && l["sparsity"] == 0.5) {
        EXPECT_LT(p["macs"].get<long>(), 445216) << p.dump();
        shrunk = true;
      }
  }
  EXPECT_TRUE(shrunk) << "no front point prunes /1/Conv's channels";
}

TEST_F(Search, AConstraintNoPointMeetsIsSaidAtTheEndWithExitTwo) {
  const std::string csv = path("p.csv");
  const Result r = run(base_args() + " --latency-budget 1e-9 -o " + csv);
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err.rfind("warning: no evaluated point meets the constraints; the closest misses "
                        "by latency ",
                        0),
            0u)
      << r.err;
  EXPECT_NE(r.err.find("over the 0.001 us budget"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  // The points were evaluated and written, none feasible.
  std::ifstream in(csv);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line.rfind("index,", 0), 0u);
  int rows = 0;
  while (std::getline(in, line)) {
    ++rows;
    EXPECT_NE(line.find(",0,0,,"), std::string::npos) << line;  // feasible 0, front 0
  }
  EXPECT_GE(rows, 8);
}

// SIGKILL in the middle of a run, --resume, and the CSV equals the uninterrupted run's.
TEST_F(Search, KilledAndResumedEqualsUninterrupted) {
  const std::string args = "search --model " + kZoo + "encoder.onnx --calib " + kZoo +
                           "calib.npy --data " + kZoo +
                           "sample.npy --pop 8 --gens 12 --no-recheck --seed 3";
  const std::string whole = path("whole.csv"), cut = path("cut.csv"), ck = path("run.ck");
  ASSERT_EQ(run(args + " -o " + whole).code, 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const std::string cmd = std::string(PRUNESIM_BIN) + " " + args + " --checkpoint " + ck +
                            " -o " + cut + " >/dev/null 2>&1";
    execl("/bin/sh", "sh", "-c", ("exec " + cmd).c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  // Wait for the first checkpoint, then kill: the run is in a later generation.
  for (int k = 0; k < 400 && !fs::exists(ck); ++k)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  kill(pid, SIGKILL);
  int st = 0;
  waitpid(pid, &st, 0);
  ASSERT_TRUE(WIFSIGNALED(st)) << "the run ended before it was killed; make it longer";
  ASSERT_TRUE(fs::exists(ck));
  EXPECT_FALSE(fs::exists(cut));
  const size_t saved = nlohmann::json::parse(slurp(ck))["points"].size();
  const Result r = run(args + " --checkpoint " + ck + " --resume -o " + cut);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(slurp(cut), slurp(whole));
  EXPECT_GT(saved, 0u);
}

TEST_F(Search, SameFrontAtOneAndTwoMpiRanks) {
  if (std::system("command -v mpirun >/dev/null 2>&1") != 0) GTEST_SKIP() << "no mpirun";
  const std::string mpi = "mpirun --allow-run-as-root --oversubscribe -np ";
  const std::string args = " " + std::string(PRUNESIM_BIN) + " " + base_args("--pop 8 --gens 3");
  std::string out[2];
  for (int n : {1, 2}) {
    out[n - 1] = path("m" + std::to_string(n) + ".csv");
    const std::string cmd = mpi + std::to_string(n) + args + " -o " + out[n - 1] + " --front " +
                            out[n - 1] + ".json >" + path("mpi.log") + " 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << slurp(path("mpi.log"));
  }
  EXPECT_EQ(slurp(out[0]), slurp(out[1]));
  auto front = [](const std::string& p) {
    auto j = nlohmann::json::parse(slurp(p));
    return j["front"].dump() + j["history"].dump();
  };
  EXPECT_EQ(front(out[0] + ".json"), front(out[1] + ".json"));
  // And the same as without mpirun.
  const std::string plain = path("plain.csv");
  ASSERT_EQ(run(base_args("--pop 8 --gens 3") + " -o " + plain).code, 0);
  EXPECT_EQ(slurp(plain), slurp(out[0]));
}

TEST_F(Search, PlotsBothFronts) {
  if (std::system("/usr/bin/python3 -c 'import matplotlib' 2>/dev/null") != 0)
    GTEST_SKIP() << "no matplotlib";
  const std::string csv = path("p.csv"), png = path("f.png");
  const Result r =
      run(base_args() + " --latency-budget 0.0258 --min-fidelity 2 -o " + csv + " --plot " + png);
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string b = slurp(png);
  ASSERT_GT(b.size(), 1000u);
  EXPECT_EQ(b.substr(1, 3), "PNG");
}

}  // namespace
