// The FPGA-SoC pipeline from the command line: simulate on the zoo U-Net (report file, bit-exact
// masks), a classifier and a 1-D net in tensor input mode (placement per layer, class ids),
// config --dump, compare (the before/after table), and the bad-input contract (exit 2, one line
// naming the problem, no report left behind).
#include <map>
#include <nlohmann/json.hpp>

#include "common/cli_fixture.h"

namespace prunesim::testing {
namespace {

std::string zoo(const std::string& f) {
  return std::string(PRUNESIM_SOURCE_DIR) + "/zoo/hsi_unet/" + f;
}

class FpgaSocCli : public CliFixture {
 protected:
  // A small 2-D classifier: Conv 3->8 + Relu, MaxPool 2, AveragePool 2, GlobalAveragePool,
  // Flatten, Gemm 8->4, Softmax (on the PS); its pruned tables as `net2d.pwt`, inputs x2d.npy.
  std::string classifier() {
    ModelBuilder b;
    b.input("x", {-1, 3, 8, 8});
    b.init("w", {8, 3, 3, 3}, ramp(216, 41));
    b.init("b", {8}, ramp(8, 42));
    b.init("fw", {4, 8}, ramp(32, 43));
    b.init("fb", {4}, ramp(4, 44));
    auto* c = b.node("Conv", {"x", "w", "b"}, {"c"}, "conv1");
    ModelBuilder::attr(c, "pads", std::vector<int64_t>{1, 1, 1, 1});
    b.node("Relu", {"c"}, {"r"}, "relu1");
    auto* p = b.node("MaxPool", {"r"}, {"p"}, "pool1");
    ModelBuilder::attr(p, "kernel_shape", std::vector<int64_t>{2, 2});
    ModelBuilder::attr(p, "strides", std::vector<int64_t>{2, 2});
    auto* a = b.node("AveragePool", {"p"}, {"a"}, "avg1");
    ModelBuilder::attr(a, "kernel_shape", std::vector<int64_t>{2, 2});
    ModelBuilder::attr(a, "strides", std::vector<int64_t>{2, 2});
    b.node("GlobalAveragePool", {"a"}, {"g"}, "gap");
    b.node("Flatten", {"g"}, {"f"}, "flat");
    auto* fc = b.node("Gemm", {"f", "fw", "fb"}, {"y"}, "fc");
    ModelBuilder::attr(fc, "transB", 1);
    b.node("Softmax", {"y"}, {"prob"}, "softmax");
    b.output("prob");
    const std::string m = path("net2d.onnx");
    std::ofstream(m, std::ios::binary) << b.bytes();
    save_npy(Tensor({16, 3, 8, 8}, ramp(16 * 192, 45)), path("calib2d.npy"));
    save_npy(Tensor({3, 3, 8, 8}, ramp(3 * 192, 46)), path("x2d.npy"));
    const std::string t = path("net2d.pwt");
    const Result r = run("prune " + m + " --scheme magnitude --sparsity 0.5 --calib " +
                         path("calib2d.npy") + " -o " + t);
    EXPECT_EQ(r.code, 0) << r.err;
    return t;
  }
};

TEST_F(FpgaSocCli, ClassifierRunsInTensorMode) {
  const std::string t = classifier(), rep = path("cls.json"), ids = path("ids.npy");
  for (const char* mode : {"cycle", "analytical"}) {
    Result r = run("simulate --arch fpga-soc --tables " + t + " --input " + path("x2d.npy") +
                   " --report " + rep + " --output " + ids + " --mode " + mode + " --stats");
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("class ids bit-exact with"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("on_ps"), std::string::npos) << r.out;  // the stats table's placement
    const auto j = nlohmann::json::parse(slurp(rep));
    EXPECT_EQ(j["input_mode"], "tensor");
    EXPECT_EQ(j["postprocess"], "argmax");
    EXPECT_TRUE(j["bit_exact"].get<bool>());
    EXPECT_EQ(j["dpu"]["layers_on_ps"], 1);
    EXPECT_EQ(j["dpu"]["free_moves"], 1);
    std::map<std::string, std::string> where;
    for (const auto& l : j["layers"]) {
      where[l["name"].get<std::string>()] =
          l["placement"].get<std::string>() + "/" + l["engine"].get<std::string>();
      if (l["placement"] == "ps") {  // costed: A53 cycles, time and energy of its own
        EXPECT_GT(l["ps_cycles"].get<int64_t>(), 0);
        EXPECT_GT(l["cycles"].get<double>(), 0);
        EXPECT_GT(l["energy_j"].get<double>(), 0);
        EXPECT_NE(l["ps_reason"].get<std::string>().find("softmax"), std::string::npos);
      }
    }
    EXPECT_EQ(where["conv1"], "dpu/conv");
    EXPECT_EQ(where["avg1"], "dpu/pool");
    EXPECT_EQ(where["gap"], "dpu/pool");
    EXPECT_EQ(where["flat"], "dpu/move");
    EXPECT_EQ(where["fc"], "dpu/conv");
    EXPECT_EQ(where["softmax"], "ps/ps");
    EXPECT_GT(j["dpu_time"]["ps_layers_s"].get<double>(), 0);
    // No demosaic/normalise/crop kernels on the PL in tensor mode; quantize runs on the PS.
    EXPECT_FALSE(j["resources"]["blocks"].contains("pl.demosaic"));
    EXPECT_TRUE(j["resources"]["blocks"].contains("pl.argmax"));
    EXPECT_EQ(j["stages"][1]["name"], "quantize (PS)");
    const Tensor m = load_npy(ids);
    EXPECT_EQ(m.shape, (Shape{3}));  // one class id per sample
  }
}

TEST_F(FpgaSocCli, OneDimensionalNetAndRawCodes) {
  // The fixture's Conv1d net: the DPU runs it as height-1 2-D layers; postprocess=none keeps the
  // output codes ([N, 3] dequantized as --output, codes as --output-int8).
  const std::string t = path("net.pwt"), rep = path("r.json"), y = path("y.npy"),
                    codes = path("codes.npy");
  ASSERT_EQ(run("prune " + model_ + " --scheme magnitude --sparsity 0 --calib " +
                path("calib.npy") + " -o " + t)
                .code,
            0);
  Result r = run("simulate --arch fpga-soc --tables " + t + " --input " + path("x.npy") +
                 " --mode analytical --set postprocess=none --report " + rep + " --output " + y +
                 " --output-int8 " + codes);
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(slurp(rep));
  EXPECT_TRUE(j["bit_exact"].get<bool>());
  EXPECT_EQ(j["dpu"]["layers_on_ps"], 0);
  EXPECT_EQ(load_npy(codes).shape, (Shape{5, 3}));
  // The same codes as the integer reference executor's.
  const std::string ref = path("ref.npy");
  ASSERT_EQ(run("infer " + t + " --input " + path("x.npy") + " --output " + path("rf.npy") +
                " --output-int8 " + ref)
                .code,
            0);
  EXPECT_EQ(load_npy(codes).i, load_npy(ref).i);
}

TEST_F(FpgaSocCli, SimulateWritesReportAndMasks) {
  const std::string rep = path("soc.json"), masks = path("masks.npy");
  Result r = run("simulate --arch fpga-soc --tables " + zoo("unet_pruned.pwt") + " --input " +
                 zoo("frames.npy") + " --report " + rep + " --output " + masks +
                 " --set ps_clock_hz=1.2e9 --set place.demosaic=ps");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("bit-exact"), std::string::npos) << r.out;
  const auto j = nlohmann::json::parse(slurp(rep));
  EXPECT_EQ(j["arch"], "fpga-soc");
  EXPECT_TRUE(j["bit_exact"].get<bool>());
  EXPECT_GT(j["throughput_fps"].get<double>(), 0);
  EXPECT_EQ(j["config"]["place.demosaic"], "ps");
  const Tensor m = load_npy(masks);
  EXPECT_EQ(m.shape, (Shape{6, 24, 48}));
}

TEST_F(FpgaSocCli, ConfigDump) {
  Result r = run("config --dump fpga-soc");
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* k :
       {"dpu", "B3136", "ps_clock_hz", "place.demosaic", "pl.lanes", "ddr.bandwidth_gbs", "input",
        "tensor", "postprocess", "place.quantize", "ps.cpe.softmax", "ps.cpm.layer"})
    EXPECT_NE(r.out.find(k), std::string::npos) << k;
}

TEST_F(FpgaSocCli, CompareBeforeAfter) {
  const std::string rep = path("cmp.json");
  Result r = run("compare --arch fpga-soc " + zoo("unet_base.pwt") + " " + zoo("unet_pruned.pwt") +
                 " --input " + zoo("frames.npy") + " --labels " + zoo("frame_labels.npy") +
                 " --mode analytical --report " + rep);
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* k : {"operations", "parameters", "speed-up", "24.34", "1.02", "2.86x", "mIoU",
                        "frames/s", "power"})
    EXPECT_NE(r.out.find(k), std::string::npos) << k << "\n" << r.out;
  const auto j = nlohmann::json::parse(slurp(rep));
  EXPECT_GT(j["ratios"]["speedup"].get<double>(), 1.0);
  EXPECT_LT(j["ratios"]["ops_pct"].get<double>(), 50.0);
  // Golden: scripts/zoo/hsi_synth.miou on the masks `simulate --output` writes for these frames
  // (the same rule in Python and C++; regenerate with the zoo).
  EXPECT_NEAR(j["compressed"]["miou"].get<double>(), 0.779035102046247, 1e-12);
  EXPECT_NEAR(j["base"]["miou"].get<double>(), 0.8326531564033092, 1e-12);
}

TEST_F(FpgaSocCli, CompareATableWithItself) {
  const std::string rep = path("self.json");
  Result r =
      run("compare --arch fpga-soc " + zoo("unet_pruned.pwt") + " " + zoo("unet_pruned.pwt") +
          " --input " + zoo("frames.npy") + " --mode analytical --json --report " + rep);
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(slurp(rep));
  EXPECT_DOUBLE_EQ(j["ratios"]["ops_pct"].get<double>(), 100.0);
  EXPECT_DOUBLE_EQ(j["ratios"]["params_pct"].get<double>(), 100.0);
  EXPECT_DOUBLE_EQ(j["ratios"]["speedup"].get<double>(), 1.0);
  EXPECT_EQ(nlohmann::json::parse(r.out), j);
}

TEST_F(FpgaSocCli, BadInput) {
  const std::string rep = path("soc.json");
  const std::string base = "simulate --arch fpga-soc --tables " + zoo("unet_pruned.pwt") +
                           " --report " + rep + " --input ";
  expect_bad(base + zoo("frames.npy") + " --set dpu=B9999", "dpu", rep);
  expect_bad(base + zoo("frames.npy") + " --set ps_clock_hz=5e9", "ps_clock_hz", rep);
  expect_bad(base + zoo("frames.npy") + " --set dpu=B4096 --set dpu.uram=false", "BRAM", rep);
  expect_bad(base + path("x.npy"), "x.npy", rep);  // [5, 2, 8]: not raw frames
  save_npy(Tensor({1, 25, 24, 48}), path("cube.npy"));
  expect_bad(base + path("cube.npy"), "planes", rep);  // a band cube instead of raw frames
  save_npy(Tensor({1, 120, 245}), path("wide.npy"));
  expect_bad(base + path("wide.npy"), "sensor", rep);
  // A network the DPU model cannot run: the fixture's 1-D conv net.
  const std::string t = path("net.pwt");
  ASSERT_EQ(run("prune " + model_ + " --scheme magnitude --sparsity 0 --calib " +
                path("calib.npy") + " -o " + t)
                .code,
            0);
  expect_bad("simulate --arch fpga-soc --tables " + t + " --input " + zoo("frames.npy") +
                 " --report " + rep,
             "net.pwt", rep);
  // Tensor mode: a tensor that is neither the classifier's input [N, 3, 8, 8] nor raw frames.
  const std::string c = classifier();
  save_npy(Tensor({2, 3, 16, 16}), path("big.npy"));
  expect_bad(
      "simulate --arch fpga-soc --tables " + c + " --input " + path("big.npy") + " --report " + rep,
      "big.npy", rep);
  expect_bad("simulate --arch fpga-soc --tables " + c + " --input " + path("big.npy") +
                 " --set input=tensor --report " + rep,
             "big.npy", rep);
  // Forced mosaic input on a classifier: the network cannot take the sensor's frames.
  expect_bad("simulate --arch fpga-soc --tables " + c + " --input " + zoo("frames.npy") +
                 " --set input=mosaic --report " + rep,
             "net2d.pwt", rep);
  expect_bad("simulate --arch fpga-soc --tables " + c + " --input " + path("x2d.npy") +
                 " --set input=vision --report " + rep,
             "input", rep);
  expect_bad("compare --arch fpga-soc " + zoo("frames.npy") + " " + zoo("unet_pruned.pwt") +
                 " --input " + zoo("frames.npy"),
             "weight table");
}

}  // namespace
}  // namespace prunesim::testing
