// ONNX import, shape inference, graph rewrites and per-layer accounting.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>

#include "common/onnx_builder.h"
#include "prune/errors.h"
#include "prune/executor.h"
#include "prune/graph_passes.h"
#include "prune/onnx_io.h"

using namespace prunesim;
using prunesim::testing::ModelBuilder;
using prunesim::testing::ramp;

namespace {

std::string error_of(const ModelBuilder& b) {
  try {
    b.graph();
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

float max_abs_diff(const Tensor& a, const Tensor& b) {
  EXPECT_EQ(a.shape, b.shape);
  float m = 0;
  for (size_t k = 0; k < a.f.size(); ++k) m = std::max(m, std::fabs(a.f[k] - b.f[k]));
  return m;
}

// Conv(4->6, k3, pad 1) -> BatchNormalization -> Relu on [N, 4, 10].
ModelBuilder conv_bn_relu() {
  ModelBuilder b;
  b.input("x", {-1, 4, 10});
  b.init("w", {6, 4, 3}, ramp(72, 1));
  b.init("b", {6}, ramp(6, 2));
  b.init("gamma", {6}, {1.5f, 0.5f, 2.f, 1.f, 0.8f, 1.2f});
  b.init("beta", {6}, ramp(6, 3));
  b.init("mean", {6}, ramp(6, 4));
  b.init("var", {6}, {0.5f, 1.f, 2.f, 0.25f, 1.5f, 0.9f});
  auto* c = b.node("Conv", {"x", "w", "b"}, {"c"}, "conv");
  ModelBuilder::attr(c, "pads", std::vector<int64_t>{1, 1});
  b.node("BatchNormalization", {"c", "gamma", "beta", "mean", "var"}, {"bn"}, "bn");
  b.node("Relu", {"bn"}, {"y"}, "relu");
  b.output("y");
  return b;
}

}  // namespace

TEST(Import, FoldsBatchNormWithoutChangingOutputs) {
  ModelBuilder b = conv_bn_relu();
  ImportOptions keep;
  keep.fold_batchnorm = false;
  Graph unfolded = b.graph(keep), folded = b.graph();
  ASSERT_EQ(unfolded.nodes.size(), 3u);
  ASSERT_EQ(folded.nodes.size(), 2u);
  EXPECT_EQ(folded.nodes[0].op, "Conv");
  EXPECT_EQ(folded.nodes[1].op, "Relu");
  Tensor x({2, 4, 10}, ramp(80, 9));
  const Tensor y0 = run_float(unfolded, x), y1 = run_float(folded, x);
  EXPECT_LT(max_abs_diff(y0, y1), 1e-5f);
  // The folded weights differ from the originals (the fold did something).
  EXPECT_NE(folded.init(folded.nodes[0].inputs[1]).f, unfolded.init("w").f);
}

TEST(Import, FoldsBatchNormIntoConvTransposeAndGemm) {
  for (const std::string op : {"ConvTranspose", "Gemm"}) {
    ModelBuilder b;
    const bool ct = op == "ConvTranspose";
    b.input("x", ct ? Shape{1, 3, 5} : Shape{1, 3});
    b.init("w", ct ? Shape{3, 4, 2} : Shape{4, 3}, ramp(ct ? 24 : 12, 5));
    b.init("gamma", {4}, {1.5f, 0.5f, 2.f, 1.f});
    b.init("beta", {4}, ramp(4, 3));
    b.init("mean", {4}, ramp(4, 4));
    b.init("var", {4}, {0.5f, 1.f, 2.f, 0.25f});
    auto* n = b.node(op, {"x", "w"}, {"c"}, "layer");
    if (ct)
      ModelBuilder::attr(n, "strides", std::vector<int64_t>{2});
    else
      ModelBuilder::attr(n, "transB", 1);
    b.node("BatchNormalization", {"c", "gamma", "beta", "mean", "var"}, {"y"}, "bn");
    b.output("y");
    ImportOptions keep;
    keep.fold_batchnorm = false;
    Graph g0 = b.graph(keep), g1 = b.graph();
    EXPECT_EQ(g1.nodes.size(), 1u) << op;
    Tensor x(ct ? Shape{1, 3, 5} : Shape{1, 3}, ramp(ct ? 15 : 3, 7));
    EXPECT_LT(max_abs_diff(run_float(g0, x), run_float(g1, x)), 1e-5f) << op;
  }
}

TEST(Import, ShapesAndMacsOfConvFamily) {
  ModelBuilder b;
  b.input("x", {1, 8, 20});
  b.init("dw", {8, 1, 5}, ramp(40, 1));
  b.init("pw", {4, 8, 1}, ramp(32, 2));
  b.init("up", {4, 2, 4}, ramp(32, 3));
  auto* d = b.node("Conv", {"x", "dw"}, {"a"}, "dw");
  ModelBuilder::attr(d, "group", 8);
  ModelBuilder::attr(d, "pads", std::vector<int64_t>{2, 2});
  ModelBuilder::attr(d, "strides", std::vector<int64_t>{2});
  b.node("Conv", {"a", "pw"}, {"p"}, "pw");
  auto* u = b.node("ConvTranspose", {"p", "up"}, {"u"}, "up");
  ModelBuilder::attr(u, "strides", std::vector<int64_t>{2});
  ModelBuilder::attr(u, "pads", std::vector<int64_t>{1, 1});
  auto* mp = b.node("MaxPool", {"u"}, {"y"}, "pool");
  ModelBuilder::attr(mp, "kernel_shape", std::vector<int64_t>{3});
  ModelBuilder::attr(mp, "strides", std::vector<int64_t>{2});
  ModelBuilder::attr(mp, "ceil_mode", 1);
  b.output("y");
  Graph g = b.graph();
  EXPECT_EQ(g.shape("a"), (Shape{1, 8, 10}));  // (20 + 4 - 5) / 2 + 1
  EXPECT_EQ(g.shape("p"), (Shape{1, 4, 10}));
  EXPECT_EQ(g.shape("u"), (Shape{1, 2, 20}));  // 2*(10-1) + 4 - 2
  EXPECT_EQ(g.shape("y"), (Shape{1, 2, 10}));  // ceil((20-3)/2) + 1 = 10
  auto st = layer_stats(g);
  ASSERT_EQ(st.size(), 4u);
  EXPECT_EQ(st[0].macs, 8 * 10 * 1 * 5);  // depthwise: one input channel per output
  EXPECT_EQ(st[0].params, 40);
  EXPECT_EQ(st[1].macs, 4 * 10 * 8);
  EXPECT_EQ(st[2].macs, 4 * 10 * 2 * 4);  // every input element times M/group * k
  EXPECT_EQ(st[3].macs, 0);
}

TEST(Import, RemovesIdentityAndDropoutIncludingAtTheOutput) {
  ModelBuilder b;
  b.input("x", {1, 3});
  b.node("Identity", {"x"}, {"a"}, "id");
  b.node("Relu", {"a"}, {"r"}, "relu");
  b.node("Dropout", {"r"}, {"d"}, "drop");
  b.node("Identity", {"d"}, {"y"}, "id_out");
  b.output("y");
  Graph g = b.graph();
  ASSERT_EQ(g.nodes.size(), 1u);
  EXPECT_EQ(g.nodes[0].op, "Relu");
  EXPECT_EQ(g.nodes[0].outputs[0], "y");
  Tensor y = run_float(g, Tensor({1, 3}, {-1.f, 2.f, -3.f}));
  EXPECT_EQ(y.f, (std::vector<float>{0.f, 2.f, 0.f}));
}

TEST(Import, UnsupportedOpNamesNodeAndOp) {
  ModelBuilder b;
  b.input("x", {1, 3});
  b.node("Relu", {"x"}, {"a"}, "r");
  b.node("ReduceL2", {"a"}, {"y"}, "my_l2");
  b.output("y");
  const std::string e = error_of(b);
  EXPECT_NE(e.find("test.onnx"), std::string::npos) << e;
  EXPECT_NE(e.find("node 'my_l2' (ReduceL2)"), std::string::npos) << e;
  EXPECT_NE(e.find("nearest supported form: ReduceSum, Sqrt"), std::string::npos) << e;
  EXPECT_NE(e.find("not supported"), std::string::npos) << e;
  EXPECT_THROW(b.graph(), UnsupportedError);
}

TEST(Import, UnsupportedAttributeValueNamesIt) {
  ModelBuilder b;
  b.input("x", {1, 1, 2, 2});
  b.init("scales", {4}, {1.f, 1.f, 2.f, 2.f});
  auto* n = b.node("Resize", {"x", "", "scales"}, {"y"}, "up");
  ModelBuilder::attr_s(n, "mode", "cubic");
  b.output("y");
  const std::string e = error_of(b);
  EXPECT_NE(e.find("node 'up' (Resize)"), std::string::npos) << e;
  EXPECT_NE(e.find("mode 'cubic'"), std::string::npos) << e;
}

TEST(Import, UnknownAttributeIsAnError) {
  ModelBuilder b;
  b.input("x", {1, 3});
  auto* n = b.node("Relu", {"x"}, {"y"}, "r");
  ModelBuilder::attr(n, "frobnicate", 1);
  b.output("y");
  EXPECT_NE(error_of(b).find("attribute 'frobnicate'"), std::string::npos);
}

TEST(Import, TruncatedAndEmptyFilesAreErrors) {
  const std::string bytes = conv_bn_relu().bytes();
  for (size_t cut : {bytes.size() / 2, size_t{7}, size_t{0}}) {
    try {
      parse_onnx(bytes.substr(0, cut), "cut.onnx");
      FAIL() << "no error at cut " << cut;
    } catch (const InputError& e) {
      EXPECT_EQ(std::string(e.what()).rfind("cut.onnx: ", 0), 0u) << e.what();
    }
  }
  EXPECT_THROW(load_onnx("/nonexistent/model.onnx"), InputError);
}

TEST(Import, NanWeightIsNamed) {
  ModelBuilder b;
  b.input("x", {1, 2});
  b.init("w", {2, 2}, {1.f, NAN, 0.f, 1.f});
  b.node("MatMul", {"x", "w"}, {"y"}, "mm");
  b.output("y");
  const std::string e = error_of(b);
  EXPECT_NE(e.find("initializer 'w'"), std::string::npos) << e;
  EXPECT_NE(e.find("NaN at element 1"), std::string::npos) << e;
}

TEST(Import, DanglingInputIsNamed) {
  ModelBuilder b;
  b.input("x", {1, 2});
  b.node("Add", {"x", "ghost"}, {"y"}, "add");
  b.output("y");
  const std::string e = error_of(b);
  EXPECT_NE(e.find("node 'add' (Add)"), std::string::npos) << e;
  EXPECT_NE(e.find("'ghost'"), std::string::npos) << e;
}

TEST(Import, WrongWeightShapeIsAnError) {
  ModelBuilder b;
  b.input("x", {1, 4, 10});
  b.init("w", {6, 3, 3}, ramp(54, 1));  // expects 4 input channels
  b.node("Conv", {"x", "w"}, {"y"}, "conv");
  b.output("y");
  const std::string e = error_of(b);
  EXPECT_NE(e.find("node 'conv' (Conv)"), std::string::npos) << e;
  EXPECT_NE(e.find("input channels"), std::string::npos) << e;
}

TEST(Import, SaveAndReloadGivesSameOutputs) {
  Graph g = conv_bn_relu().graph();
  const std::string path =
      (std::filesystem::temp_directory_path() / "prunesim_roundtrip.onnx").string();
  save_onnx(g, path);
  Graph h = load_onnx(path);
  std::remove(path.c_str());
  Tensor x({3, 4, 10}, ramp(120, 4));
  EXPECT_EQ(run_float(g, x).f, run_float(h, x).f);
}

TEST(Executor, BatchOfOneModelRunsLargerBatchesSampleBySample) {
  // Reshape with a hard-coded batch of 1, as many exporters write it.
  ModelBuilder b;
  b.input("x", {1, 2, 3});
  b.init_i64("shape", {2}, {1, -1});
  b.init("w", {6, 2}, ramp(12, 3));
  b.node("Reshape", {"x", "shape"}, {"f"}, "flat");
  b.node("MatMul", {"f", "w"}, {"y"}, "fc");
  b.output("y");
  Graph g = b.graph();
  Tensor x({3, 2, 3}, ramp(18, 8));
  Tensor y = run_float(g, x);
  ASSERT_EQ(y.shape, (Shape{3, 2}));
  for (int64_t n = 0; n < 3; ++n) {
    Tensor xn({1, 2, 3}, std::vector<float>(x.f.begin() + n * 6, x.f.begin() + n * 6 + 6));
    Tensor yn = run_float(g, xn);
    EXPECT_EQ(yn.f[0], y.f[static_cast<size_t>(n * 2)]);
    EXPECT_EQ(yn.f[1], y.f[static_cast<size_t>(n * 2 + 1)]);
  }
}

TEST(Executor, InputShapeCheckNamesTheDataFile) {
  Graph g = conv_bn_relu().graph();
  try {
    check_input_shape(g, Tensor({2, 5, 10}), "x.npy");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("x.npy: shape [2, 5, 10]", 0), 0u) << e.what();
  }
  EXPECT_NO_THROW(check_input_shape(g, Tensor({7, 4, 10}), "x.npy"));
}
