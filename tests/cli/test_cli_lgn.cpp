// `prunesim lgn train` and `lgn eval` as a user runs them on the bundled digits: a small network
// trains in seconds, its .lgn evaluates to the accuracy the training reported, and bad input (a
// corrupt or truncated .lgn, labels of the wrong count, a bad --layers) is one line, exit 2 and
// no output file.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/cli_fixture.h"

namespace prunesim::testing {
namespace {

class Lgn : public CliFixture {
 protected:
  const std::string zoo = std::string(PRUNESIM_SOURCE_DIR) + "/zoo/digits_dscnn/";
  std::string data() const {
    return "--data " + zoo + "train.npy --labels " + zoo + "train_labels.npy";
  }
  std::string train_args(const std::string& out) const {
    return "lgn train " + data() +
           " --layers 2x500 --interconnect random --tau 3 --init normal --epochs 10 --train "
           "lr=0.05 "
           "--threads 1 "
           "--quiet -o " +
           out;
  }
};

TEST_F(Lgn, TrainsEvaluatesAndAgrees) {
  const std::string net = path("net.lgn"), rep = path("train.json");
  const auto t = run(train_args(net) + " --report " + rep + " --eval-data " + zoo +
                     "eval.npy --eval-labels " + zoo + "eval_labels.npy");
  ASSERT_EQ(t.code, 0) << t.err;
  EXPECT_NE(t.out.find("1000 gates"), std::string::npos) << t.out;
  const auto tr = nlohmann::json::parse(slurp(rep));
  EXPECT_EQ(tr["gates"], 1000);
  EXPECT_EQ(tr["parameters_per_gate"], 16.0);
  // Ten epochs of two 500-gate layers are far above chance (10 %) on digits (81.6 % when written).
  EXPECT_GT(tr["eval_top1"].get<double>(), 0.6);
  // The trainer's hard-forward validation metric is the evaluator's figure on the same rows.
  EXPECT_DOUBLE_EQ(tr["best_metric"].get<double>(), tr["val_top1"].get<double>());

  const auto e = run("lgn eval " + net + " --data " + zoo + "eval.npy --labels " + zoo +
                     "eval_labels.npy --min-seconds 0.01 --json");
  ASSERT_EQ(e.code, 0) << e.err;
  const auto ev = nlohmann::json::parse(e.out);
  EXPECT_DOUBLE_EQ(ev["top1"].get<double>(), tr["eval_top1"].get<double>());
  EXPECT_EQ(ev["gates"], 1000);
  EXPECT_EQ(ev["layers"], 2);
  EXPECT_GT(ev["samples_per_s"].get<double>(), 0);

  const auto h = run("lgn eval " + net + " --data " + zoo + "eval.npy --labels " + zoo +
                     "eval_labels.npy --min-seconds 0.01");
  ASSERT_EQ(h.code, 0) << h.err;
  EXPECT_NE(h.out.find(" %"), std::string::npos) << h.out;
  EXPECT_NE(h.out.find("samples/s"), std::string::npos) << h.out;
}

TEST_F(Lgn, BadInputIsOneLineExitTwoAndNoFile) {
  const std::string out = path("never.lgn");
  expect_bad("lgn train " + data() + " --layers 4x -o " + out, "--layers", out);
  expect_bad("lgn train " + data() + " --layers 2x105 -o " + out, "multiple of 10", out);
  save_npy(Tensor({7}, {0, 1, 2, 3, 4, 5, 6}), path("seven.npy"));
  expect_bad("lgn train --data " + zoo + "train.npy --labels " + path("seven.npy") +
                 " --layers 100 -o " + out,
             "7 labels for 1400 samples", out);

  const std::string net = path("net.lgn");
  ASSERT_EQ(run(train_args(net)).code, 0);
  const std::string bytes = slurp(net);
  const std::string cut = path("cut.lgn"), bad = path("bad.lgn"), rep = path("eval.json");
  std::ofstream(cut, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  std::string flipped = bytes;
  flipped[bytes.size() / 3] = static_cast<char>(flipped[bytes.size() / 3] ^ 0x10);
  std::ofstream(bad, std::ios::binary) << flipped;
  const std::string ev = " --data " + zoo + "eval.npy --labels " + zoo + "eval_labels.npy";
  expect_bad("lgn eval " + cut + ev + " --report " + rep, cut, rep);
  expect_bad("lgn eval " + bad + ev + " --report " + rep, "CRC", rep);
  expect_bad("lgn eval " + net + " --data " + zoo + "eval.npy --labels " + path("seven.npy") +
                 " --report " + rep,
             "7 labels for 397 samples", rep);
}

TEST_F(Lgn, InterruptedTrainingLeavesNoOutput) {
  const std::string out = path("long.lgn"), err = path("long.err");
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (!std::freopen(err.c_str(), "w", stderr)) _exit(99);
    execl(PRUNESIM_BIN, PRUNESIM_BIN, "lgn", "train", "--data", (zoo + "train.npy").c_str(),
          "--labels", (zoo + "train_labels.npy").c_str(), "--layers", "2x500", "--epochs", "100000",
          "--quiet", "-o", out.c_str(), static_cast<char*>(nullptr));
    _exit(98);
  }
  ASSERT_TRUE(wait_until_catches(pid, SIGINT)) << "prunesim never installed its SIGINT guard";
  // Then into the work itself (data loaded, training started), which is what is interrupted.
  std::this_thread::sleep_for(std::chrono::milliseconds(2000));
  kill(pid, SIGINT);
  int st = 0;
  waitpid(pid, &st, 0);
  ASSERT_TRUE(WIFEXITED(st));
  EXPECT_EQ(WEXITSTATUS(st), 130);
  EXPECT_FALSE(fs::exists(out));
  for (const auto& e : fs::directory_iterator(dir_))
    EXPECT_EQ(e.path().string().find(".tmp."), std::string::npos) << e.path();
  EXPECT_NE(slurp(err).find("interrupted"), std::string::npos);
}

}  // namespace
}  // namespace prunesim::testing
