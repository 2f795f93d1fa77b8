// `prunesim finetune` and the built-in recovery of `prune --finetune`, run as a user would: the
// zeros survive training bit for bit, a pruned model recovers, bad input is one line + exit 2 +
// no file, and an interrupted run leaves nothing behind.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/cli_fixture.h"
#include "prune/onnx_io.h"
#include "prune/pruning.h"

namespace prunesim::testing {
namespace {

class Finetune : public CliFixture {
 protected:
  void SetUp() override {
    CliFixture::SetUp();
    // Three classes for the five samples of x.npy.
    save_npy(Tensor({5}, {0, 1, 2, 1, 0}), path("y.npy"));
    ASSERT_EQ(
        run("prune " + model_ + " --scheme magnitude --sparsity 0.5 --onnx-out " + path("p.onnx"))
            .code,
        0);
  }
  static std::vector<uint8_t> zeros(const Graph& g) {
    std::vector<uint8_t> z;
    for (const auto& l : prunable_layers(g))
      for (float v : g.init(l.weight).f) z.push_back(v == 0.f);
    return z;
  }
};

TEST_F(Finetune, HoldsTheZeroPatternAndMovesTheRest) {
  const auto r = run("finetune " + path("p.onnx") + " --data " + path("x.npy") + " --labels " +
                     path("y.npy") + " --epochs 4 --lr 0.05 --batch 2 --val-split 0 --threads 1 " +
                     "-o " + path("ft.onnx") + " --report " + path("ft.json"));
  ASSERT_EQ(r.code, 0) << r.err;
  const Graph before = load_onnx(path("p.onnx")), after = load_onnx(path("ft.onnx"));
  EXPECT_EQ(zeros(before), zeros(after));
  bool moved = false;
  for (const auto& l : prunable_layers(before))
    moved = moved || before.init(l.weight).f != after.init(l.weight).f;
  EXPECT_TRUE(moved) << "training changed no weight";
  const std::string rep = slurp(path("ft.json"));
  EXPECT_NE(rep.find("\"metric\": \"top1\""), std::string::npos) << rep;
  EXPECT_NE(r.out.find("weight sparsity 50.0 %"), std::string::npos) << r.out;
}

TEST_F(Finetune, MaskFromAnotherModelIsHeldOnThisOnesWeights) {
  const auto r = run("finetune " + model_ + " --mask-from " + path("p.onnx") + " --data " +
                     path("x.npy") + " --labels " + path("y.npy") +
                     " --epochs 2 --lr 0.01 --batch 5 --val-split 0 -o " + path("ft.onnx"));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(zeros(load_onnx(path("p.onnx"))), zeros(load_onnx(path("ft.onnx"))));
}

TEST_F(Finetune, SameSeedOneThreadIsDeterministic) {
  const std::string args = " --data " + path("x.npy") + " --labels " + path("y.npy") +
                           " --epochs 3 --lr 0.05 --batch 2 --val-split 0.2 --threads 1 --seed 9";
  ASSERT_EQ(run("finetune " + path("p.onnx") + args + " -o " + path("a.onnx")).code, 0);
  ASSERT_EQ(run("finetune " + path("p.onnx") + args + " -o " + path("b.onnx")).code, 0);
  const Graph a = load_onnx(path("a.onnx")), b = load_onnx(path("b.onnx"));
  for (const auto& [name, t] : a.initializers) EXPECT_EQ(t.f, b.init(name).f) << name;
}

TEST_F(Finetune, DistillsWithoutLabels) {
  const auto r =
      run("finetune " + path("p.onnx") + " --teacher " + model_ + " --data " + path("x.npy") +
          " --epochs 3 --lr 0.01 --batch 5 --val-split 0 --json -o " + path("ft.onnx"));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("\"against\": \"teacher\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"loss\": \"kl\""), std::string::npos) << r.out;
}

TEST_F(Finetune, TablesOutWritesInt8TablesOfTheTrainedModel) {
  const auto r = run("finetune " + path("p.onnx") + " --data " + path("x.npy") + " --labels " +
                     path("y.npy") + " --epochs 1 --batch 5 --val-split 0 --qat --calib " +
                     path("calib.npy") + " --tables-out " + path("t.pwt"));
  ASSERT_EQ(r.code, 0) << r.err;
  const auto t = run("tables inspect " + path("t.pwt"));
  EXPECT_EQ(t.code, 0) << t.err;
}

TEST_F(Finetune, BadInputIsOneLineExitTwoAndNoOutput) {
  const std::string base = "finetune " + path("p.onnx") + " --data " + path("x.npy");
  const std::string out = " -o " + path("ft.onnx");
  save_npy(Tensor({4}, {0, 1, 2, 1}), path("y4.npy"));
  expect_bad(base + " --labels " + path("y4.npy") + out, "4 labels for 5 samples", path("ft.onnx"));
  save_npy(Tensor({5, 7}, std::vector<float>(35, 0.f)), path("y57.npy"));
  expect_bad(base + " --labels " + path("y57.npy") + out, "labels must be class ids",
             path("ft.onnx"));
  save_npy(Tensor({5}, {0, 1, 2, 3, 0}), path("y9.npy"));
  expect_bad(base + " --labels " + path("y9.npy") + out, "not a class id", path("ft.onnx"));
  expect_bad(base + " --labels " + path("y.npy") + " --epochs 0" + out, "epochs", path("ft.onnx"));
  expect_bad(base + " --labels " + path("y.npy") + " --lr -1" + out, "lr must be positive",
             path("ft.onnx"));
  expect_bad(base + " --labels " + path("y.npy") + " --batch 0" + out, "batch", path("ft.onnx"));
  expect_bad(base + " --labels " + path("y.npy") + " --lr 1e30 --optimizer sgd --val-split 0" + out,
             "try a smaller lr", path("ft.onnx"));
  // A mask source of another architecture: the weight shapes differ.
  ASSERT_EQ(
      run("prune " + model_ + " --scheme channel --sparsity 0.5 --onnx-out " + path("ch.onnx"))
          .code,
      0);
  expect_bad("finetune " + model_ + " --mask-from " + path("ch.onnx") + " --data " + path("x.npy") +
                 " --labels " + path("y.npy") + out,
             "differs from", path("ft.onnx"));
  // A table made from another model.
  ASSERT_EQ(run("prune " + model_ + " --scheme channel --sparsity 0.5 --calib " +
                path("calib.npy") + " -o " + path("ch.pwt"))
                .code,
            0);
  expect_bad("finetune " + model_ + " --tables " + path("ch.pwt") + " --data " + path("x.npy") +
                 " --labels " + path("y.npy") + out,
             "ch.pwt", path("ft.onnx"));
  expect_bad(base + " --labels " + path("y.npy") + " --tables-out " + path("t.pwt"),
             "needs --calib", path("t.pwt"));
}

TEST_F(Finetune, InterruptedRunLeavesNoOutput) {
  // A long run (many epochs on the digits model), interrupted after it started training.
  const std::string zoo = std::string(PRUNESIM_SOURCE_DIR) + "/zoo/digits_dscnn/";
  const std::string out = path("long.onnx");
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const std::string err = path("long.err");
    if (!std::freopen(err.c_str(), "w", stderr)) _exit(99);
    execl(PRUNESIM_BIN, PRUNESIM_BIN, "finetune", (zoo + "digits_dscnn.onnx").c_str(), "--data",
          (zoo + "eval.npy").c_str(), "--labels", (zoo + "eval_labels.npy").c_str(), "--epochs",
          "100000", "--batch", "8", "--quiet", "-o", out.c_str(), static_cast<char*>(nullptr));
    _exit(98);
  }
  ASSERT_TRUE(wait_until_catches(pid, SIGINT)) << "prunesim never installed its SIGINT guard";
  // Then into the work itself (data loaded, training started), which is what is interrupted.
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  kill(pid, SIGINT);
  int st = 0;
  waitpid(pid, &st, 0);
  ASSERT_TRUE(WIFEXITED(st));
  EXPECT_EQ(WEXITSTATUS(st), 130);
  EXPECT_FALSE(fs::exists(out));
  for (const auto& e : fs::directory_iterator(dir_))
    EXPECT_EQ(e.path().string().find(".tmp."), std::string::npos) << e.path();
  EXPECT_NE(slurp(path("long.err")).find("interrupted"), std::string::npos);
}

TEST_F(Finetune, PruneFinetuneRecoversAndKeepsTheSparsity) {
  const std::string zoo = std::string(PRUNESIM_SOURCE_DIR) + "/zoo/digits_dscnn/";
  const std::string common = "prune " + zoo +
                             "digits_dscnn.onnx --scheme magnitude --sparsity 0.8 " + "--data " +
                             zoo + "eval.npy --labels " + zoo + "eval_labels.npy --json";
  const auto once = run(common);
  ASSERT_EQ(once.code, 0) << once.err;
  // zoo/*/train.npy are generated by scripts/setup.sh (scripts/zoo/make_train_splits.py).
  const auto res = run(common + " --finetune epochs=3,lr=2e-3,batch=32,threads=1 --train-data " +
                       zoo + "train.npy --train-labels " + zoo + "train_labels.npy --quiet");
  auto top1 = [](const std::string& js) {
    const auto p = js.find("\"pruned\"");
    const auto t = js.find("\"top1\":", p);
    return std::stod(js.substr(t + 7));
  };
  EXPECT_GT(top1(res.out), top1(once.out) + 0.02) << res.out;
  EXPECT_NE(res.out.find("\"finetune\""), std::string::npos);
  EXPECT_NE(res.out.find("\"sparsity\": 0.8"), std::string::npos);
}

TEST_F(Finetune, DistillMixesTheTeacherIntoALabelledLoss) {
  const std::string base = "finetune " + path("p.onnx") + " --data " + path("x.npy") +
                           " --labels " + path("y.npy") +
                           " --epochs 3 --lr 0.05 --batch 2 --val-split 0 --threads 1 ";
  ASSERT_EQ(run(base + "-o " + path("a.onnx")).code, 0);
  const auto r = run(base + "--distill 0.5 --teacher " + model_ + " --json -o " + path("b.onnx"));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("\"distill\": 0.5"), std::string::npos) << r.out;
  // The teacher term changes the gradients, so the weights end elsewhere; the zeros stay.
  const Graph a = load_onnx(path("a.onnx")), b = load_onnx(path("b.onnx"));
  bool differ = false;
  for (const auto& l : prunable_layers(a))
    differ = differ || a.init(l.weight).f != b.init(l.weight).f;
  EXPECT_TRUE(differ);
  EXPECT_EQ(zeros(a), zeros(b));
  // Without a teacher there is nothing to mix in; out of range is refused.
  expect_bad(base + "--distill 0.5 -o " + path("c.onnx"), "--teacher", path("c.onnx"));
  expect_bad(base + "--distill 2 --teacher " + model_ + " -o " + path("c.onnx"), "distill",
             path("c.onnx"));
  // Class weights weigh class ids only; shifting targets shaped like the output is refused.
  save_npy(Tensor({5, 3}, std::vector<float>(15, 0.5f)), path("t.npy"));
  expect_bad("prune " + model_ + " --scheme magnitude --sparsity 0.5 --train-data " +
                 path("x.npy") + " --train-labels " + path("t.npy") +
                 " --finetune epochs=1,class_weight=sqrt --onnx-out " + path("c.onnx"),
             "class_weight", path("c.onnx"));
  expect_bad("prune " + model_ + " --scheme magnitude --sparsity 0.5 --train-data " +
                 path("x.npy") + " --train-labels " + path("t.npy") +
                 " --finetune epochs=1,shift=1 --onnx-out " + path("c.onnx"),
             "shift", path("c.onnx"));
}

// The lottery ticket rewinds its later rounds to the first round's early-epoch weights.
TEST_F(Finetune, LotteryRewindEpochRewindsToTheFirstRoundsSnapshot) {
  const std::string zoo = std::string(PRUNESIM_SOURCE_DIR) + "/zoo/digits_dscnn/";
  const std::string common = "prune " + zoo +
                             "digits_dscnn.onnx --scheme magnitude --sparsity 0.8 --schedule "
                             "lottery --rounds 3 --train-data " +
                             zoo + "train.npy --train-labels " + zoo +
                             "train_labels.npy --quiet --json --finetune "
                             "epochs=4,lr=1e-2,batch=64,threads=1 --onnx-out ";
  const auto dense = run(common + path("l1.onnx"));
  ASSERT_EQ(dense.code, 0) << dense.err;
  const auto late = run(common + path("l2.onnx") + " --rewind-epoch 2");
  ASSERT_EQ(late.code, 0) << late.err;
  for (const auto* r : {&dense, &late}) {
    const auto j = nlohmann::json::parse(r->out);
    ASSERT_EQ(j["finetune"].size(), 3u) << "one training per round";
    EXPECT_NEAR(j["total"]["sparsity"].get<double>(), 0.8, 1e-3);
  }
  // Both runs are deterministic (one thread, one seed) and share round 1; only the rewind point
  // of rounds 2 and 3 differs, so ignoring --rewind-epoch would give identical weights.
  const Graph g1 = load_onnx(path("l1.onnx")), g2 = load_onnx(path("l2.onnx"));
  bool differ = false;
  for (const auto& l : prunable_layers(g1))
    differ = differ || g1.init(l.weight).f != g2.init(l.weight).f;
  EXPECT_TRUE(differ);
  expect_bad(
      "prune " + zoo + "digits_dscnn.onnx --scheme magnitude --sparsity 0.5 --rewind-epoch 2",
      "--rewind-epoch");
  expect_bad(common + path("l3.onnx") + " --rewind-epoch 9", "epochs of a round", path("l3.onnx"));
}

// Polarization trains its gates in one pass and ends at the target in every layer: no layer is
// closed entirely (a network-wide threshold would disconnect the network).
TEST_F(Finetune, PolarizationReachesTheTargetInEveryLayer) {
  const std::string zoo = std::string(PRUNESIM_SOURCE_DIR) + "/zoo/digits_dscnn/";
  const auto r = run("prune " + zoo + "digits_dscnn.onnx --scheme polarization --sparsity 0.6 " +
                     "--train-data " + zoo + "train.npy --train-labels " + zoo +
                     "train_labels.npy --finetune epochs=3,lr=5e-3,batch=64,threads=1 --quiet " +
                     "--json --onnx-out " + path("pol.onnx"));
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_NEAR(j["polarization"][0]["reached_sparsity"].get<double>(), 0.6, 0.01);
  for (const auto& l : j["layers"]) {
    EXPECT_NEAR(l["sparsity"].get<double>(), 0.6, 0.02) << l["name"];
    EXPECT_LT(l["sparsity"].get<double>(), 1.0) << l["name"];
  }
  // Channel gates: the classifier's output channels (the classes) are never closed, and the
  // console says the total fell short because of it.
  const auto c =
      run("prune " + zoo + "digits_dscnn.onnx --scheme polarization --sparsity 0.5 " +
          "--granularity channel --train-data " + zoo + "train.npy --train-labels " + zoo +
          "train_labels.npy --finetune epochs=2,lr=5e-3,batch=64,threads=1 " + "--quiet --json");
  ASSERT_EQ(c.code, 0) << c.err;
  // Parsed into a variable: a range-for over a member of the temporary parse() returns would
  // read freed memory (ASan's finding).
  const auto cj = nlohmann::json::parse(c.out);
  for (const auto& l : cj["layers"])
    EXPECT_NEAR(l["sparsity"].get<double>(), l["name"] == "/classifier/Gemm" ? 0.0 : 0.5, 0.02)
        << l["name"];
  EXPECT_NE(c.err.find("warning: reached"), std::string::npos) << c.err;
  EXPECT_NE(c.err.find("channel gates keep"), std::string::npos) << c.err;
}

}  // namespace
}  // namespace prunesim::testing
