// The prunesim program as a user runs it: exit codes, one-line errors naming the file, and no
// output file left behind on failure.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/cli_fixture.h"
#include "prune/executor.h"
#include "prune/metrics.h"
#include "prune/npy.h"
#include "prune/quant.h"
#include "prune/tables.h"

namespace fs = std::filesystem;
using namespace prunesim;
using prunesim::testing::ModelBuilder;
using prunesim::testing::ramp;
using Cli = prunesim::testing::CliFixture;
using prunesim::testing::Result;
using prunesim::testing::slurp;

TEST_F(Cli, VersionAndHelp) {
  Result r = run("--version");
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("prunesim 0."), std::string::npos) << r.out;
  for (const char* sub : {"inspect", "infer", "eval"}) {
    Result h = run(std::string(sub) + " --help");
    EXPECT_EQ(h.code, 0) << sub;
    EXPECT_NE(h.out.find("--"), std::string::npos) << sub;
  }
}

TEST_F(Cli, InspectTableAndJson) {
  Result r = run("inspect " + model_);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("conv1"), std::string::npos);
  EXPECT_NE(r.out.find("[1, 4, 8]"), std::string::npos) << r.out;
  // conv: 4*8*2*3 = 192 MACs, fc: 3*16 = 48 MACs; params: 24+4+48+3 = 79
  EXPECT_NE(r.out.find("total: 79 parameters, 240 MACs"), std::string::npos) << r.out;
  Result j = run("inspect " + model_ + " --json");
  ASSERT_EQ(j.code, 0) << j.err;
  auto doc = nlohmann::json::parse(j.out);
  EXPECT_EQ(doc["total_macs"], 240);
  EXPECT_EQ(doc["total_params"], 79);
  ASSERT_EQ(doc["layers"].size(), 5u);
  EXPECT_EQ(doc["layers"][0]["op"], "Conv");
  EXPECT_EQ(doc["layers"][0]["macs"], 192);
}

TEST_F(Cli, InferFloatMatchesLibrary) {
  Result r = run("infer " + model_ + " --input " + path("x.npy") + " --output " + path("y.npy"));
  ASSERT_EQ(r.code, 0) << r.err;
  Tensor y = load_npy(path("y.npy"));
  Tensor want = run_float(load_onnx(model_), x_);
  EXPECT_EQ(y.shape, (Shape{5, 3}));
  EXPECT_EQ(y.f, want.f);
}

TEST_F(Cli, InferInt8IsTheIntegerReference) {
  Result r = run("infer " + model_ + " --int8 --calib " + path("calib.npy") + " --input " +
                 path("x.npy") + " --output " + path("y.npy") + " --output-int8 " + path("q.npy"));
  ASSERT_EQ(r.code, 0) << r.err;
  Graph g = load_onnx(model_);
  QuantizedModel qm = quantize(g, load_npy(path("calib.npy")));
  Int8Result want = run_int8(qm, x_);
  Tensor q = load_npy(path("q.npy"));
  EXPECT_EQ(q.dtype, DType::I8);
  EXPECT_EQ(q.i, want.output_int8.i);
  EXPECT_EQ(load_npy(path("y.npy")).f, want.output_float.f);
}

TEST_F(Cli, EvalReportsFloatAndInt8) {
  Tensor labels = Tensor::ints({5}, {0, 1, 2, 1, 0});
  save_npy(labels, path("labels.npy"));
  Result r = run("eval " + model_ + " --data " + path("x.npy") + " --labels " + path("labels.npy") +
                 " --int8 --calib " + path("calib.npy") + " --json");
  ASSERT_EQ(r.code, 0) << r.err;
  auto doc = nlohmann::json::parse(r.out);
  EXPECT_EQ(doc["samples"], 5);
  const double t = doc["float"]["top1"];
  EXPECT_GE(t, 0.0);
  EXPECT_LE(t, 1.0);
  EXPECT_TRUE(doc["int8"].contains("top1"));
}

// A second stage for --then: Gemm(3 -> 4), fed by the fixture net's [N, 3] output.
std::string write_decoder(const std::string& path) {
  ModelBuilder b;
  b.input("z", {-1, 3});
  b.init("dw", {4, 3}, ramp(12, 7));
  b.init("db", {4}, ramp(4, 8));
  auto* fc = b.node("Gemm", {"z", "dw", "db"}, {"y"}, "dec");
  ModelBuilder::attr(fc, "transB", 1);
  b.output("y");
  std::ofstream(path, std::ios::binary) << b.bytes();
  return path;
}

TEST_F(Cli, EvalThenChainsTwoStagesInFloatAndInt8) {
  const std::string dec = write_decoder(path("dec.onnx"));
  Graph a = load_onnx(model_), d = load_onnx(dec);
  Tensor calib = load_npy(path("calib.npy"));
  // Targets: the float chain's output, perturbed so SNDR is finite.
  Tensor target = run_float(d, run_float(a, x_));
  for (size_t k = 0; k < target.f.size(); ++k) target.f[k] += 0.01f * static_cast<float>(k % 3);
  save_npy(target, path("t.npy"));
  Result r = run("eval " + model_ + " --then " + dec + " --data " + path("x.npy") + " --labels " +
                 path("t.npy") + " --int8 --calib " + path("calib.npy") + " --json");
  ASSERT_EQ(r.code, 0) << r.err;
  auto doc = nlohmann::json::parse(r.out);
  EXPECT_DOUBLE_EQ(doc["float"]["sndr_db"].get<double>(),
                   sndr_db(target, run_float(d, run_float(a, x_))));
  // int8: the decoder is calibrated on the first stage's int8 output over --calib.
  QuantizedModel qa = quantize(a, calib);
  QuantizedModel qd = quantize(d, run_int8(qa, calib).output_float);
  Tensor want = run_int8(qd, run_int8(qa, x_).output_float).output_float;
  EXPECT_DOUBLE_EQ(doc["int8"]["sndr_db"].get<double>(), sndr_db(target, want));
  EXPECT_NE(doc["then_calibration"].get<std::string>().find("calib.npy"), std::string::npos);
  // The human form names both stages and prints units.
  Result h = run("eval " + model_ + " --then " + dec + " --data " + path("x.npy") + " --labels " +
                 path("t.npy"));
  ASSERT_EQ(h.code, 0) << h.err;
  EXPECT_NE(h.out.find("then"), std::string::npos) << h.out;
  EXPECT_NE(h.out.find(" dB"), std::string::npos) << h.out;
}

TEST_F(Cli, InspectOfAWeightTableSaysWhatToRun) {
  write_tables(quantize(load_onnx(model_), load_npy(path("calib.npy"))), {}, {}, TableOptions{},
               path("t.pwt"));
  expect_bad("inspect " + path("t.pwt"), "use `prunesim tables inspect");
}

TEST_F(Cli, EvalRunsAWeightTableAsInt8Only) {
  Graph a = load_onnx(model_);
  QuantizedModel qa = quantize(a, load_npy(path("calib.npy")));
  write_tables(qa, {}, {}, TableOptions{}, path("t.pwt"));
  Tensor labels = Tensor::ints({5}, {0, 1, 2, 1, 0});
  save_npy(labels, path("labels.npy"));
  Result r = run("eval " + path("t.pwt") + " --data " + path("x.npy") + " --labels " +
                 path("labels.npy") + " --json");
  ASSERT_EQ(r.code, 0) << r.err;
  auto doc = nlohmann::json::parse(r.out);
  EXPECT_FALSE(doc.contains("float"));
  Int8Result want = run_int8(read_tables(path("t.pwt")), x_);
  EXPECT_DOUBLE_EQ(doc["int8"]["top1"].get<double>(), top1(want.output_float, labels));
  Result h =
      run("eval " + path("t.pwt") + " --data " + path("x.npy") + " --labels " + path("labels.npy"));
  ASSERT_EQ(h.code, 0) << h.err;
  EXPECT_NE(h.out.find("int8 only"), std::string::npos) << h.out;
  // A table is already quantized; an ONNX stage after it needs its own calibration inputs.
  expect_bad("eval " + path("t.pwt") + " --calib " + path("calib.npy") + " --data " +
                 path("x.npy") + " --labels " + path("labels.npy"),
             "t.pwt");
  const std::string dec = write_decoder(path("dec.onnx"));
  save_npy(Tensor({5, 4}, ramp(20, 9)), path("t4.npy"));
  expect_bad("eval " + path("t.pwt") + " --then " + dec + " --data " + path("x.npy") +
                 " --labels " + path("t4.npy"),
             "--then-calib");
  Result ok = run("eval " + path("t.pwt") + " --then " + dec + " --then-calib " + path("lat.npy") +
                  " --data " + path("x.npy") + " --labels " + path("t4.npy"));
  EXPECT_EQ(ok.code, 2) << "a missing --then-calib file";
  save_npy(run_float(a, load_npy(path("calib.npy"))), path("lat.npy"));
  ok = run("eval " + path("t.pwt") + " --then " + dec + " --then-calib " + path("lat.npy") +
           " --data " + path("x.npy") + " --labels " + path("t4.npy") + " --json");
  ASSERT_EQ(ok.code, 0) << ok.err;
  EXPECT_TRUE(nlohmann::json::parse(ok.out)["int8"].contains("sndr_db"));
}

TEST_F(Cli, MissingModelFile) {
  expect_bad("inspect " + path("nope.onnx"), "nope.onnx");
}

TEST_F(Cli, CorruptModel) {
  std::ofstream(path("bad.onnx"), std::ios::binary) << "this is not protobuf \x01\x02\x03";
  expect_bad(
      "infer " + path("bad.onnx") + " --input " + path("x.npy") + " --output " + path("y.npy"),
      "bad.onnx", path("y.npy"));
}

TEST_F(Cli, TruncatedModel) {
  std::string bytes = slurp(model_);
  std::ofstream(path("cut.onnx"), std::ios::binary) << bytes.substr(0, bytes.size() - 40);
  expect_bad(
      "infer " + path("cut.onnx") + " --input " + path("x.npy") + " --output " + path("y.npy"),
      "cut.onnx", path("y.npy"));
}

TEST_F(Cli, BadNpyHeader) {
  std::ofstream(path("h.npy"), std::ios::binary) << "\x93NUMPY\x01\x00\x10\x00{'descr': garbage";
  expect_bad("infer " + model_ + " --input " + path("h.npy") + " --output " + path("y.npy"),
             "h.npy", path("y.npy"));
}

TEST_F(Cli, UnsupportedNpyDtype) {
  std::string header = "{'descr': '<c8', 'fortran_order': False, 'shape': (1, 2, 8), }";
  header.append(128 - 10 - header.size() - 1, ' ');
  header += '\n';
  std::string bytes = std::string("\x93NUMPY\x01\x00", 8);
  bytes += static_cast<char>(header.size() & 0xff);
  bytes += static_cast<char>(header.size() >> 8);
  bytes += header + std::string(16 * 8, '\0');
  std::ofstream(path("c.npy"), std::ios::binary) << bytes;
  expect_bad("infer " + model_ + " --input " + path("c.npy") + " --output " + path("y.npy"),
             "c.npy", path("y.npy"));
}

TEST_F(Cli, WrongInputShape) {
  save_npy(Tensor({2, 3, 8}), path("w.npy"));
  expect_bad("infer " + model_ + " --input " + path("w.npy") + " --output " + path("y.npy"),
             "w.npy: shape [2, 3, 8]", path("y.npy"));
}

TEST_F(Cli, NanInput) {
  Tensor t({1, 2, 8});
  t.f[5] = NAN;
  save_npy(t, path("nan.npy"));
  expect_bad("infer " + model_ + " --input " + path("nan.npy") + " --output " + path("y.npy"),
             "NaN at element 5", path("y.npy"));
}

TEST_F(Cli, CalibrationOfWrongShape) {
  save_npy(Tensor({4, 2, 9}), path("cal.npy"));
  expect_bad("infer " + model_ + " --int8 --calib " + path("cal.npy") + " --input " +
                 path("x.npy") + " --output " + path("y.npy"),
             "cal.npy", path("y.npy"));
}

TEST_F(Cli, Int8WithoutCalibration) {
  expect_bad("infer " + model_ + " --int8 --input " + path("x.npy") + " --output " + path("y.npy"),
             "--calib", path("y.npy"));
}

TEST_F(Cli, UnknownFlag) {
  expect_bad("inspect " + model_ + " --frobnicate", "frobnicate");
}

TEST_F(Cli, UnwritableOutput) {
  expect_bad(
      "infer " + model_ + " --input " + path("x.npy") + " --output " + path("no/such/dir/y.npy"),
      "y.npy");
}

TEST_F(Cli, LabelsOfWrongCount) {
  save_npy(Tensor::ints({4}, {0, 1, 2, 1}), path("l.npy"));
  expect_bad("eval " + model_ + " --data " + path("x.npy") + " --labels " + path("l.npy"), "l.npy");
}

// The ops of issue 12 at the command line: a bad Pad attribute and an op without support are one
// line naming file and node, exit 2 (float and int8); a Pad -> ReduceMean -> Mul graph runs in
// both executors.
TEST_F(Cli, PytorchOpsRunAndBadAttributesAreOneLine) {
  auto pad_net = [&](const std::string& mode, const std::string& name) {
    ModelBuilder b;
    b.input("x", {1, 2, 8});
    b.init_i64("pads", {6}, {0, 0, 1, 0, 0, 2});
    ModelBuilder::attr_s(b.node("Pad", {"x", "pads"}, {"p"}, "pad"), "mode", mode);
    auto* r = b.node("ReduceMean", {"p"}, {"m"}, "mean");
    ModelBuilder::attr(r, "axes", std::vector<int64_t>{2});
    b.node("Mul", {"p", "m"}, {"y"}, "gate");  // [1, 2, 11] x [1, 2, 1], both activations
    b.output("y");
    std::ofstream(path(name), std::ios::binary) << b.bytes();
    return path(name);
  };
  const std::string good = pad_net("reflect", "good.onnx");
  save_npy(Tensor({3, 2, 8}, ramp(48, 9)), path("x3.npy"));
  Result r = run("infer " + good + " --input " + path("x3.npy") + " --output " + path("f.npy"));
  EXPECT_EQ(r.code, 0) << r.err;
  r = run("infer " + good + " --int8 --calib " + path("x3.npy") + " --input " + path("x3.npy") +
          " --output " + path("q.npy"));
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(load_npy(path("q.npy")).shape, (Shape{3, 2, 11}));
  const std::string bad = pad_net("wrap", "bad.onnx");
  expect_bad("infer " + bad + " --input " + path("x3.npy") + " --output " + path("o.npy"),
             "bad.onnx: node 'pad' (Pad): mode 'wrap'", path("o.npy"));
  expect_bad("infer " + bad + " --int8 --calib " + path("x3.npy") + " --input " + path("x3.npy") +
                 " --output " + path("o.npy"),
             "node 'pad' (Pad)", path("o.npy"));
  ModelBuilder b;
  b.input("x", {1, 2, 8});
  b.node("ReduceL2", {"x"}, {"y"}, "norm");
  b.output("y");
  std::ofstream(path("l2.onnx"), std::ios::binary) << b.bytes();
  expect_bad(
      "infer " + path("l2.onnx") + " --input " + path("x3.npy") + " --output " + path("o.npy"),
      "node 'norm' (ReduceL2): op 'ReduceL2' is not supported (nearest supported form");
}
