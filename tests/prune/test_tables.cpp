// Weight tables (.pwt): CRC32, round trips of every encoding on every weight layout (Conv,
// depthwise, grouped ConvTranspose, Gemm both ways, MatMul) at sparsities from 0 to 0.9, with
// identical int8 weights and identical run_int8 outputs; determinism; auto selection; the
// storage formulas of docs/weight-tables.md; and every kind of damaged file or bad request.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "common/onnx_builder.h"
#include "prune/balanced.h"
#include "prune/errors.h"
#include "prune/executor.h"
#include "prune/pruning.h"
#include "prune/quant.h"
#include "prune/tables.h"

namespace fs = std::filesystem;

namespace prunesim {
namespace {

using testing::ModelBuilder;
using testing::ramp;

// ------------------------------------------------------------------ the test network
// x[1,4,6,6] -> conv1 (8x4x3x3, pad 1) -> relu -> dw (8x1x3x3, group 8) -> relu
// -> up (ConvTranspose 8x2x2x2, group 2, stride 2: 4 channels, 12x12) -> GlobalAveragePool
// -> Reshape [1,4] -> fc1 (Gemm, B [4,6], transB 0) -> relu -> Add constant [6]
// -> fc2 (Gemm, B [6,6] square, transB 1) -> mm (MatMul, B [6,4]) -> y[1,4]
Graph test_graph() {
  ModelBuilder b;
  b.input("x", {1, 4, 6, 6});
  b.init("w1", {8, 4, 3, 3}, ramp(288, 1));
  b.init("b1", {8}, ramp(8, 2));
  b.init("wd", {8, 1, 3, 3}, ramp(72, 3));
  b.init("wt", {8, 2, 2, 2}, ramp(64, 4));
  b.init("bt", {4}, ramp(4, 5));
  b.init_i64("shape", {2}, {1, 4});
  b.init("f1", {4, 6}, ramp(24, 6));
  b.init("k6", {6}, ramp(6, 7));
  b.init("f2", {6, 6}, ramp(36, 8));
  b.init("fb2", {6}, ramp(6, 9));
  b.init("m3", {6, 4}, ramp(24, 10));
  auto* c = b.node("Conv", {"x", "w1", "b1"}, {"c1"}, "conv1");
  ModelBuilder::attr(c, "pads", std::vector<int64_t>{1, 1, 1, 1});
  b.node("Relu", {"c1"}, {"r1"}, "relu1");
  auto* d = b.node("Conv", {"r1", "wd"}, {"c2"}, "dw");
  ModelBuilder::attr(d, "pads", std::vector<int64_t>{1, 1, 1, 1});
  ModelBuilder::attr(d, "group", 8);
  b.node("Relu", {"c2"}, {"r2"}, "relu2");
  auto* t = b.node("ConvTranspose", {"r2", "wt", "bt"}, {"u"}, "up");
  ModelBuilder::attr(t, "strides", std::vector<int64_t>{2, 2});
  ModelBuilder::attr(t, "group", 2);
  b.node("GlobalAveragePool", {"u"}, {"gap"}, "gap");
  b.node("Reshape", {"gap", "shape"}, {"flat"}, "flat");
  b.node("Gemm", {"flat", "f1"}, {"g1"}, "fc1");
  b.node("Relu", {"g1"}, {"r3"}, "relu3");
  b.node("Add", {"r3", "k6"}, {"a"}, "addk");
  auto* g2 = b.node("Gemm", {"a", "f2", "fb2"}, {"g2"}, "fc2");
  ModelBuilder::attr(g2, "transB", 1);
  b.node("MatMul", {"g2", "m3"}, {"y"}, "mm");
  b.output("y");
  return b.graph();
}

Tensor calib_data() {
  return Tensor({16, 4, 6, 6}, ramp(16 * 144, 11));
}
Tensor eval_data() {
  return Tensor({5, 4, 6, 6}, ramp(5 * 144, 12));
}

// Index of matrix element (row = output channel, col = reduction) in the initializer, written
// from the layouts in pruning.h/quant.h independently of the library's implementation.
int64_t init_index(const Graph& g, const PrunableLayer& l, int64_t r, int64_t c) {
  const Node* n = nullptr;
  for (const Node& x : g.nodes)
    if (x.name == l.node) n = &x;
  if (l.op == "Conv") return r * l.cols + c;
  if (l.op == "ConvTranspose") {
    const int64_t mpg = l.shape[1], cpg = l.shape[0] / l.group;
    const int64_t ksz = l.cols / cpg;
    const int64_t ci = (r / mpg) * cpg + c / ksz;
    return (ci * mpg + r % mpg) * ksz + c % ksz;
  }
  const bool nk = l.op == "Gemm" && n->attr_i("transB", 0) != 0;
  return nk ? r * l.cols + c : c * l.rows + r;
}

// A mask built on the matrix view by keep(row, col), stored in the initializer layout.
template <typename Keep>
std::vector<uint8_t> matrix_mask(const Graph& g, const PrunableLayer& l, Keep keep) {
  std::vector<uint8_t> m(static_cast<size_t>(l.rows * l.cols), 0);
  for (int64_t r = 0; r < l.rows; ++r)
    for (int64_t c = 0; c < l.cols; ++c)
      m[static_cast<size_t>(init_index(g, l, r, c))] = keep(r, c) ? 1 : 0;
  return m;
}

MaskMap random_masks(const Graph& g, double sparsity, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  MaskMap m;
  for (const auto& l : prunable_layers(g))
    m[l.weight] = matrix_mask(g, l, [&](int64_t, int64_t) { return u(rng) >= sparsity; });
  return m;
}

// Balanced masks with the geometry of prune/balanced.h, plus the notes the balanced scheme
// writes. pattern: per (cluster, column) k random slots; lfsr: lfsr_slot_mask.
MaskMap balanced_masks(const Graph& g, const std::string& variant, double sparsity, int64_t pes,
                       int64_t cluster, nlohmann::json* notes, uint32_t seed) {
  std::mt19937 rng(seed);
  MaskMap m;
  for (const auto& l : prunable_layers(g)) {
    const BalancedGeometry geo = balanced_geometry(l, {pes, cluster});
    const int64_t k =
        std::max<int64_t>(0, geo.slots - std::llround(sparsity * static_cast<double>(geo.slots)));
    std::vector<uint8_t> slots(static_cast<size_t>(geo.cols * geo.pes * geo.slots), 0);
    const uint16_t lseed = static_cast<uint16_t>(1 + rng() % 65535);
    if (variant == "lfsr") {
      slots = lfsr_slot_mask(geo, k, lseed);
    } else {
      for (int64_t c = 0; c < geo.cols; ++c)
        for (int64_t q = 0; q < geo.clusters(); ++q) {
          std::vector<int64_t> idx(static_cast<size_t>(geo.slots));
          for (int64_t j = 0; j < geo.slots; ++j) idx[static_cast<size_t>(j)] = j;
          std::shuffle(idx.begin(), idx.end(), rng);
          for (int64_t t = 0; t < k; ++t)
            for (int64_t p = q * geo.cluster; p < geo.cluster_end(q); ++p)
              slots[static_cast<size_t>((c * geo.pes + p) * geo.slots +
                                        idx[static_cast<size_t>(t)])] = 1;
        }
    }
    m[l.weight] = matrix_mask(g, l, [&](int64_t r, int64_t c) {
      const int64_t p = r % geo.pes, j = r / geo.pes;
      return slots[static_cast<size_t>((c * geo.pes + p) * geo.slots + j)] != 0;
    });
    nlohmann::json b = {{"pes", geo.pes},
                        {"cluster", geo.cluster},
                        {"k", k},
                        {"variant", variant},
                        {"slots", geo.slots}};
    if (variant == "lfsr") b["seed"] = lseed;
    (*notes)["layers"][l.node]["balanced"] = b;
  }
  return m;
}

// keep at most n of every m consecutive reduction weights; `fewer` drops one more kept weight
// in some groups so the encoder's padding is exercised.
MaskMap nm_masks(const Graph& g, int64_t n, int64_t mm, bool fewer, nlohmann::json* notes,
                 uint32_t seed) {
  std::mt19937 rng(seed);
  MaskMap out;
  for (const auto& l : prunable_layers(g)) {
    std::vector<uint8_t> keep(static_cast<size_t>(l.rows * l.cols), 0);
    for (int64_t r = 0; r < l.rows; ++r)
      for (int64_t c0 = 0; c0 < l.cols; c0 += mm) {
        const int64_t len = std::min(mm, l.cols - c0);
        std::vector<int64_t> idx(static_cast<size_t>(len));
        for (int64_t j = 0; j < len; ++j) idx[static_cast<size_t>(j)] = j;
        std::shuffle(idx.begin(), idx.end(), rng);
        int64_t want = std::min(n, len);
        if (fewer && want > 0 && rng() % 2) --want;
        for (int64_t t = 0; t < want; ++t)
          keep[static_cast<size_t>(r * l.cols + c0 + idx[static_cast<size_t>(t)])] = 1;
      }
    out[l.weight] = matrix_mask(
        g, l, [&](int64_t r, int64_t c) { return keep[static_cast<size_t>(r * l.cols + c)] != 0; });
    (*notes)["layers"][l.node]["nm"] = {{"n", n}, {"m", mm}};
  }
  return out;
}

struct Pruned {
  Graph g;
  MaskMap masks;
  QuantizedModel q;
};

// Masked float graph (pruned weights exactly 0) quantized on the calibration set.
Pruned make(const Graph& g, MaskMap masks) {
  Pruned p;
  p.g = apply_masks(g, masks);
  p.masks = std::move(masks);
  p.q = quantize(p.g, calib_data());
  return p;
}

TableOptions forced(const std::string& e) {
  TableOptions o;
  o.encoding = e;
  return o;
}

// A target as the simulator hands it over (the raman core's list, Arch::encodings(); this layer
// cannot reach the architectures, so the list is written out).
TableOptions raman_target() {
  TableOptions o;
  o.target = "raman";
  o.accepts = {"balanced", "bitmap", "csr", "dense"};
  return o;
}

void expect_same_model(const QuantizedModel& a, const QuantizedModel& b) {
  ASSERT_EQ(a.layers.size(), b.layers.size());
  for (size_t k = 0; k < a.layers.size(); ++k) {
    const QLayer &x = a.layers[k], &y = b.layers[k];
    SCOPED_TRACE(x.name);
    EXPECT_EQ(x.kind, y.kind);
    EXPECT_EQ(x.name, y.name);
    EXPECT_EQ(x.op, y.op);
    EXPECT_EQ(x.node, y.node);
    EXPECT_EQ(x.fused, y.fused);
    EXPECT_EQ(x.inputs, y.inputs);
    EXPECT_EQ(x.output, y.output);
    EXPECT_EQ(x.weight_shape, y.weight_shape);
    EXPECT_EQ(x.weight, y.weight);
    EXPECT_EQ(x.weight_scale, y.weight_scale);
    EXPECT_EQ(x.const_operand, y.const_operand);
    EXPECT_EQ(x.bias, y.bias);
    ASSERT_EQ(x.requant.size(), y.requant.size());
    for (size_t r = 0; r < x.requant.size(); ++r) {
      EXPECT_EQ(x.requant[r].multiplier, y.requant[r].multiplier);
      EXPECT_EQ(x.requant[r].shift, y.requant[r].shift);
    }
    EXPECT_EQ(x.act_min, y.act_min);
    EXPECT_EQ(x.act_max, y.act_max);
    EXPECT_EQ(x.lut, y.lut);
    EXPECT_EQ(x.exp_lut, y.exp_lut);
    EXPECT_EQ(x.acc_bound, y.acc_bound);
  }
  EXPECT_EQ(a.scales, b.scales);
  EXPECT_EQ(a.ranges, b.ranges);
  EXPECT_EQ(a.input, b.input);
  EXPECT_EQ(a.output, b.output);
  EXPECT_EQ(a.input_scale, b.input_scale);
  EXPECT_EQ(a.output_scale, b.output_scale);
  EXPECT_EQ(a.calib_samples, b.calib_samples);
  EXPECT_EQ(a.options.percentile, b.options.percentile);
  EXPECT_EQ(a.graph.shapes, b.graph.shapes);
  EXPECT_EQ(a.graph.opset, b.graph.opset);
  ASSERT_EQ(a.graph.nodes.size(), b.graph.nodes.size());
  for (size_t k = 0; k < a.graph.nodes.size(); ++k) {
    EXPECT_EQ(a.graph.nodes[k].name, b.graph.nodes[k].name);
    EXPECT_EQ(a.graph.nodes[k].inputs, b.graph.nodes[k].inputs);
    EXPECT_EQ(a.graph.nodes[k].attrs.size(), b.graph.nodes[k].attrs.size());
  }
}

// Round trip through bytes: same model, same int8 outputs; returns the summary.
TableSummary round_trip(const Pruned& p, const nlohmann::json& notes, const TableOptions& o,
                        bool masks_exact) {
  TableSummary ws, rs;
  const std::string bytes = table_bytes(p.q, p.masks, notes, o, "t.pwt", &ws);
  MaskMap back;
  const QuantizedModel q2 = parse_tables(bytes, "t.pwt", &rs, &back);
  expect_same_model(p.q, q2);
  EXPECT_EQ(q2.graph.source, "t.pwt");
  const Tensor x = eval_data();
  const Int8Result a = run_int8(p.q, x), b = run_int8(q2, x);
  EXPECT_EQ(a.output_int8.i, b.output_int8.i);
  EXPECT_EQ(a.output_float.f, b.output_float.f);
  if (masks_exact) {
    EXPECT_EQ(back, p.masks);
  }
  EXPECT_EQ(rs.file_bytes, static_cast<int64_t>(bytes.size()));
  EXPECT_EQ(rs.source_model, "test.onnx");
  EXPECT_EQ(rs.version, 1);
  EXPECT_EQ(ws.layers.size(), rs.layers.size());
  for (size_t k = 0; k < rs.layers.size() && k < ws.layers.size(); ++k) {
    EXPECT_EQ(ws.layers[k].encoding, rs.layers[k].encoding);
    EXPECT_EQ(ws.layers[k].value_bytes, rs.layers[k].value_bytes);
    EXPECT_EQ(ws.layers[k].meta_bytes, rs.layers[k].meta_bytes);
    EXPECT_EQ(ws.layers[k].meta_bits, rs.layers[k].meta_bits);
    EXPECT_EQ(ws.layers[k].nnz, rs.layers[k].nnz);
    EXPECT_EQ(ws.layers[k].offset, rs.layers[k].offset);
    EXPECT_EQ(ws.layers[k].crc, rs.layers[k].crc);
    EXPECT_TRUE(rs.layers[k].crc_ok);
  }
  return rs;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

#define EXPECT_INPUT_ERROR(stmt, ...)                                                             \
  do {                                                                                            \
    const std::string msg_ = error_of([&] { stmt; });                                             \
    EXPECT_FALSE(msg_.empty()) << "no InputError from " #stmt;                                    \
    for (const std::string& needle_ : std::vector<std::string>{__VA_ARGS__})                      \
      EXPECT_NE(msg_.find(needle_), std::string::npos) << "want '" << needle_ << "' in " << msg_; \
  } while (0)

// ------------------------------------------------------------------------------ tests

TEST(TablesCrc, CheckValue) {
  const std::string s = "123456789";
  EXPECT_EQ(crc32(s.data(), s.size()), 0xCBF43926u);
  EXPECT_EQ(crc32("", 0), 0u);
  // Incremental use gives the same value as one pass.
  EXPECT_EQ(crc32(s.data() + 4, 5, crc32(s.data(), 4)), 0xCBF43926u);
}

TEST(Tables, RegistryAndTargets) {
  EXPECT_EQ(encoding_names(),
            (std::vector<std::string>{"dense", "bitmap", "csr", "rle", "balanced", "nm"}));
  for (const auto& n : encoding_names()) {
    EXPECT_EQ(find_encoding(n)->name(), n);
    EXPECT_EQ(find_encoding(find_encoding(n)->id()), find_encoding(n));
  }
  EXPECT_EQ(find_encoding("zip"), nullptr);
  // The encodings' own parameters: declared where they are used, with their flags.
  ASSERT_EQ(find_encoding("csr")->params().size(), 1u);
  EXPECT_EQ(find_encoding("csr")->params()[0].name, "index_bits");
  EXPECT_EQ(encoding_flag("csr", "index_bits"), "--csr-index-bits");
  EXPECT_EQ(encoding_flag("rle", "run_bits"), "--rle-run-bits");
  EXPECT_TRUE(find_encoding("dense")->params().empty());
}

// The test's layout function agrees with PrunableLayer::index wherever the latter is
// unambiguous (see the square-Gemm note in test SquareGemmLayoutFollowsTransB).
TEST(Tables, LayoutsMatchPrunableLayerIndex) {
  const Graph g = test_graph();
  int checked = 0;
  for (const auto& l : prunable_layers(g)) {
    if (l.shape.size() == 2 && l.shape[0] == l.shape[1]) continue;
    for (int64_t r = 0; r < l.rows; ++r)
      for (int64_t c = 0; c < l.cols; ++c) ASSERT_EQ(init_index(g, l, r, c), l.index(r, c));
    ++checked;
  }
  EXPECT_EQ(checked, 5);
}

TEST(Tables, RoundTripEveryGenericEncodingAtEverySparsity) {
  const Graph g = test_graph();
  for (double s : {0.0, 0.3, 0.5, 0.9}) {
    SCOPED_TRACE("sparsity " + std::to_string(s));
    const Pruned p = make(g, random_masks(g, s, 100 + static_cast<uint32_t>(s * 10)));
    for (const std::string e : {"dense", "bitmap", "csr", "rle", "auto"}) {
      SCOPED_TRACE(e);
      round_trip(p, {}, forced(e), e != "dense" && e != "auto");
    }
    TableOptions o = forced("csr");
    o.encoding_params["csr"]["index_bits"] = 16;
    round_trip(p, {}, o, true);
    for (int r : {1, 3, 8, 16}) {
      o = forced("rle");
      o.encoding_params["rle"]["run_bits"] = r;
      round_trip(p, {}, o, true);
    }
  }
}

TEST(Tables, LayersWithoutMaskUseNonZeroWeights) {
  const Graph g = test_graph();
  Pruned p = make(g, random_masks(g, 0.5, 7));
  MaskMap partial = p.masks;
  partial.erase("w1");
  partial.erase("f2");
  Pruned q = p;
  q.masks = partial;
  const TableSummary s = round_trip(q, {}, forced("bitmap"), false);
  // w1 is stored by its non-zero weights only.
  EXPECT_EQ(s.layers[0].stored, s.layers[0].nnz);
}

TEST(Tables, RoundTripBalancedBothVariants) {
  const Graph g = test_graph();
  for (const std::string v : {"pattern", "lfsr"})
    for (double s : {0.0, 0.5, 0.75}) {
      SCOPED_TRACE(v + " sparsity " + std::to_string(s));
      nlohmann::json notes;
      const Pruned p = make(g, balanced_masks(g, v, s, 2, 2, &notes, 5));
      const TableSummary rs = round_trip(p, notes, forced("balanced"), true);
      for (const auto& l : rs.layers) {
        EXPECT_EQ(l.encoding, "balanced");
        EXPECT_EQ(l.params["variant"], v);
        EXPECT_EQ(l.params["pes"], 2);
      }
      round_trip(p, notes, raman_target(), false);
    }
}

// Clusters that do not divide the PEs in use: the last cluster of 8 PEs in clusters of 3 has 2
// PEs and shares its own pattern; the table round-trips and the raman target accepts it.
TEST(Tables, RoundTripBalancedWithAShortLastCluster) {
  const Graph g = test_graph();
  for (const std::string v : {"pattern", "lfsr"}) {
    SCOPED_TRACE(v);
    nlohmann::json notes;
    const Pruned p = make(g, balanced_masks(g, v, 0.5, 8, 3, &notes, 17));
    const TableSummary rs = round_trip(p, notes, forced("balanced"), true);
    for (const auto& l : rs.layers) EXPECT_EQ(l.params["cluster"], 3) << l.name;
    round_trip(p, notes, raman_target(), false);
  }
}

TEST(Tables, RoundTripNmWithPaddingAndTailGroups) {
  const Graph g = test_graph();
  // dw has 9 reduction weights per channel: groups of 4 leave a tail of 1.
  for (auto nm : {std::pair<int64_t, int64_t>{2, 4}, {1, 4}, {4, 8}, {1, 1}})
    for (bool fewer : {false, true}) {
      SCOPED_TRACE(std::to_string(nm.first) + ":" + std::to_string(nm.second) +
                   (fewer ? " fewer" : ""));
      nlohmann::json notes;
      const Pruned p = make(g, nm_masks(g, nm.first, nm.second, fewer, &notes, 9));
      // Padding adds stored slots, so the decoded masks equal the originals only without it.
      const TableSummary rs = round_trip(p, notes, forced("nm"), !fewer);
      for (const auto& l : rs.layers) EXPECT_EQ(l.encoding, "nm");
      round_trip(p, notes, TableOptions{}, false);
    }
}

// The schemes of prune/src/schemes produce notes the encoders accept. fc2 is left out: it is a
// square Gemm with transB = 1, where PrunableLayer::index reads the matrix transposed.
TEST(Tables, SchemesNotesAreAccepted) {
  const Graph g = test_graph();
  const std::vector<std::string> layers = {"conv1", "dw", "up", "fc1", "mm"};
  for (const std::string variant : {"pattern", "lfsr"}) {
    SCOPED_TRACE(variant);
    SchemeOptions o;
    o.sparsity = 0.5;
    o.params.set("pes", 2);
    o.params.set("cluster", 2);
    o.params.set("variant", variant);
    o.seed = 3;
    SchemeResult r = make_scheme("balanced")->apply(g, layers, o, {});
    Pruned p;
    p.g = r.graph;
    p.masks = r.masks;
    p.q = quantize(p.g, calib_data());
    const TableSummary s = round_trip(p, r.notes, TableOptions{}, false);
    for (const auto& l : s.layers) {
      if (l.name == "fc2") continue;
      EXPECT_EQ(l.encoding, "balanced") << l.name;
    }
  }
  SchemeOptions o;
  o.params.set("n", 2);
  o.params.set("m", 4);
  SchemeResult r = make_scheme("nm")->apply(g, layers, o, {});
  Pruned p;
  p.g = r.graph;
  p.masks = r.masks;
  p.q = quantize(p.g, calib_data());
  TableOptions nm = forced("nm");
  // fc2 has no nm notes: forcing nm fails there, naming it.
  EXPECT_INPUT_ERROR(table_bytes(p.q, p.masks, r.notes, nm, "t.pwt"), "t.pwt", "layer 'fc2'", "nm");
  const TableSummary s = round_trip(p, r.notes, TableOptions{}, false);
  EXPECT_EQ(s.layers.size(), 6u);
}

TEST(Tables, SquareGemmLayoutFollowsTransB) {
  // fc2 has transB = 1, so its B [6, 6] is [N, K]. Keeping B[n][0] for every n is "keep 1 of 6"
  // along each output channel's reduction; keeping B[0][k] for every k is six in one group. A
  // square shape cannot tell the two readings apart: only the attribute can.
  const Graph g = test_graph();
  nlohmann::json notes;
  for (const auto& l : prunable_layers(g))
    notes["layers"][l.node]["nm"] = {{"n", l.node == "fc2" ? 1 : 6}, {"m", 6}};
  MaskMap right, wrong;
  right["f2"].assign(36, 0);
  wrong["f2"].assign(36, 0);
  for (size_t n = 0; n < 6; ++n) {
    right["f2"][n * 6] = 1;
    wrong["f2"][n] = 1;
  }
  const Pruned pr = make(g, right);
  MaskMap back;
  const std::string bytes = table_bytes(pr.q, pr.masks, notes, forced("nm"), "t.pwt");
  const QuantizedModel q2 = parse_tables(bytes, "t.pwt", nullptr, &back);
  EXPECT_EQ(back["f2"], right["f2"]);
  expect_same_model(pr.q, q2);
  const Pruned pw = make(g, wrong);
  EXPECT_INPUT_ERROR(table_bytes(pw.q, pw.masks, notes, forced("nm"), "t.pwt"), "layer 'fc2'",
                     "keeps 6");
}

TEST(Tables, ByteIdenticalForIdenticalInputs) {
  const Graph g = test_graph();
  nlohmann::json notes;
  const MaskMap masks = balanced_masks(g, "pattern", 0.5, 2, 2, &notes, 21);
  const Pruned a = make(g, masks), b = make(g, masks);
  const std::string x = table_bytes(a.q, a.masks, notes, TableOptions{});
  EXPECT_EQ(x, table_bytes(b.q, b.masks, notes, TableOptions{}));
  const fs::path dir = fs::temp_directory_path() / "prunesim_tables_det";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string f1 = (dir / "a.pwt").string(), f2 = (dir / "b.pwt").string();
  write_tables(a.q, a.masks, notes, TableOptions{}, f1);
  write_tables(b.q, b.masks, notes, TableOptions{}, f2);
  auto slurp = [](const std::string& p) {
    std::ifstream f(p, std::ios::binary);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
  };
  EXPECT_EQ(slurp(f1), slurp(f2));
  EXPECT_EQ(slurp(f1), x);
  EXPECT_TRUE(is_table_file(f1));
  // The file on disk reads back like the bytes.
  TableSummary s;
  const QuantizedModel q = read_tables(f1, &s);
  expect_same_model(a.q, q);
  EXPECT_EQ(q.graph.source, f1);
  fs::remove_all(dir);
}

TEST(Tables, AutoPicksTheSmallestAcceptedEncoding) {
  const Graph g = test_graph();
  for (double s : {0.0, 0.5, 0.9}) {
    for (const TableOptions& target : {TableOptions{}, raman_target()}) {
      nlohmann::json notes;
      const Pruned p = make(g, balanced_masks(g, "pattern", s, 2, 2, &notes, 31));
      TableOptions ao;
      ao.target = target.target;
      ao.accepts = target.accepts;
      TableSummary auto_s;
      table_bytes(p.q, p.masks, notes, ao, "t.pwt", &auto_s);
      for (const auto& name : encoding_names()) {
        if (!target.accepts.empty() &&
            std::find(target.accepts.begin(), target.accepts.end(), name) == target.accepts.end()) {
          for (const auto& l : auto_s.layers) EXPECT_NE(l.encoding, name);
          continue;
        }
        TableSummary fs_;
        TableOptions fo = forced(name);
        fo.target = target.target;
        fo.accepts = target.accepts;
        if (!error_of([&] { table_bytes(p.q, p.masks, notes, fo, "t.pwt", &fs_); }).empty())
          continue;  // not applicable to some layer (nm without notes)
        for (size_t k = 0; k < auto_s.layers.size(); ++k)
          EXPECT_LE(auto_s.layers[k].value_bytes + auto_s.layers[k].meta_bytes,
                    fs_.layers[k].value_bytes + fs_.layers[k].meta_bytes)
              << auto_s.layers[k].name << " auto " << auto_s.layers[k].encoding << " vs " << name;
      }
    }
  }
  // Dense weights with no notes: dense is smallest (bitmap would add a bit per weight).
  const Pruned d = make(g, {});
  TableSummary s;
  table_bytes(d.q, {}, {}, TableOptions{}, "t.pwt", &s);
  for (const auto& l : s.layers)
    if (l.nnz == l.total) {
      EXPECT_EQ(l.encoding, "dense") << l.name;
    }
}

// The storage formulas of docs/weight-tables.md, checked on conv1 (rows 8, cols 36).
TEST(Tables, StorageFormulas) {
  const Graph g = test_graph();
  const Pruned p = make(g, random_masks(g, 0.75, 41));
  int64_t kept = 0;
  for (uint8_t v : p.masks.at("w1")) kept += v;
  const int64_t rows = 8, cols = 36, total = 288;
  auto conv1 = [&](const TableOptions& o, const nlohmann::json& notes = {}) {
    TableSummary s;
    table_bytes(p.q, p.masks, notes, o, "t.pwt", &s);
    return s.layers.at(0);
  };
  auto l = conv1(forced("dense"));
  EXPECT_EQ(l.value_bytes, total);
  EXPECT_EQ(l.meta_bits, 0);
  l = conv1(forced("bitmap"));
  EXPECT_EQ(l.value_bytes, kept);
  EXPECT_EQ(l.meta_bits, total);
  l = conv1(forced("csr"));
  int pb = 1;
  while ((kept >> pb) != 0) ++pb;
  EXPECT_EQ(l.meta_bits, (rows + 1) * pb + kept * 8);
  EXPECT_EQ(l.meta_bytes, (l.meta_bits + 7) / 8);
  TableOptions r3 = forced("rle");
  r3.encoding_params["rle"]["run_bits"] = 3;
  l = conv1(r3);
  int64_t codes = 0, gap = 0;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) {
      if (!p.masks.at("w1")[static_cast<size_t>(r * cols + c)]) {
        ++gap;
        continue;
      }
      codes += gap / 7 + 1;
      gap = 0;
    }
  EXPECT_EQ(l.meta_bits, 3 * codes);
  EXPECT_EQ(l.value_bytes, kept);

  nlohmann::json bn;
  const Pruned b = make(g, balanced_masks(g, "pattern", 0.5, 2, 2, &bn, 43));
  TableSummary s;
  table_bytes(b.q, b.masks, bn, forced("balanced"), "t.pwt", &s);
  // pes 2, cluster 2 -> 1 cluster, slots 4, k 2: cols * clusters * slots bits.
  EXPECT_EQ(s.layers[0].meta_bits, cols * 1 * 4);
  EXPECT_EQ(s.layers[0].value_bytes, cols * 2 * 2);
  nlohmann::json ln;
  const Pruned lf = make(g, balanced_masks(g, "lfsr", 0.5, 2, 2, &ln, 43));
  table_bytes(lf.q, lf.masks, ln, forced("balanced"), "t.pwt", &s);
  EXPECT_EQ(s.layers[0].meta_bits, 16);
  EXPECT_EQ(s.layers[0].params["seed"], ln["layers"]["conv1"]["balanced"]["seed"]);
  nlohmann::json nn;
  const Pruned n = make(g, nm_masks(g, 2, 4, true, &nn, 45));
  table_bytes(n.q, n.masks, nn, forced("nm"), "t.pwt", &s);
  // 9 groups of 4 per row, 2 stored each, 2-bit positions.
  EXPECT_EQ(s.layers[0].stored, rows * 9 * 2);
  EXPECT_EQ(s.layers[0].meta_bits, rows * 9 * 2 * 2);
}

// The worked example of docs/weight-tables.md §4, byte for byte.
std::string hex(const std::string& b) {
  std::string r;
  char buf[4];
  for (unsigned char c : b) {
    std::snprintf(buf, sizeof buf, "%s%02X", r.empty() ? "" : " ", c);
    r += buf;
  }
  return r;
}

TEST(Tables, DocWorkedExample) {
  WeightMatrix w;
  w.rows = 4;
  w.cols = 8;
  const int8_t v[4][8] = {{12, 0, 0, -5, 0, 7, 1, 0},
                          {-3, 0, 0, 8, 0, -1, 4, 0},
                          {0, 6, -7, 0, 2, 0, 0, -9},
                          {0, 3, 5, 0, -4, 0, 0, 10}};
  for (auto& row : v)
    for (int8_t x : row) {
      w.values.push_back(x);
      w.mask.push_back(x != 0);
    }
  const std::string kept = "0C FB 07 01 FD 08 FF 04 06 F9 02 F7 03 05 FC 0A";
  auto enc = [&](const std::string& name, const EncodeContext& given) {
    // The encoding's own params: its defaults, with those of `given` it declares.
    EncodeContext c = given;
    c.params = ParamValues(find_encoding(name)->params());
    for (const auto& [key, v] : given.params.json().items())
      if (c.params.has(key)) c.params.set(key, v);
    EncodedLayer e;
    EXPECT_EQ(find_encoding(name)->encode(w, c, &e), "") << name;
    WeightMatrix back;
    back.rows = w.rows;
    back.cols = w.cols;
    find_encoding(name)->decode(e, &back, name);
    EXPECT_EQ(back.values, w.values) << name;
    return e;
  };
  EncodeContext c;
  EncodedLayer e = enc("dense", c);
  EXPECT_EQ(hex(e.values),
            "0C 00 00 FB 00 07 01 00 FD 00 00 08 00 FF 04 00 00 06 F9 00 02 00 00 F7 00 03 05 00 "
            "FC 00 00 0A");
  e = enc("bitmap", c);
  EXPECT_EQ(hex(e.values), kept);
  EXPECT_EQ(hex(e.meta), "69 69 96 96");
  e = enc("csr", c);
  EXPECT_EQ(e.meta_bits, 153);
  EXPECT_EQ(hex(e.meta), "80 20 06 01 06 0A 0C 00 06 0A 0C 02 04 08 0E 02 04 08 0E 00");
  c.params.set("index_bits", 4);
  e = enc("csr", c);
  EXPECT_EQ(e.meta_bits, 89);
  EXPECT_EQ(hex(e.meta), "80 20 06 61 CA 60 CA 42 E8 42 E8 00");
  c.params.set("run_bits", 2);
  e = enc("rle", c);
  EXPECT_EQ(hex(e.meta), "18 19 92 91");
  EXPECT_EQ(hex(e.values), kept);
  c.params.set("run_bits", 0);
  e = enc("rle", c);
  EXPECT_EQ(hex(e.params), "01 00 00 00");  // auto width: 1 bit ties 2 bits at 32, narrower wins
  EXPECT_EQ(e.meta_bits, 32);
  c.notes = {{"balanced", {{"pes", 2}, {"cluster", 2}, {"k", 1}, {"variant", "pattern"}}}};
  e = enc("balanced", c);
  EXPECT_EQ(hex(e.meta), "69 96");
  EXPECT_EQ(hex(e.values), "0C FD 06 03 F9 05 FB 08 02 FC 07 FF 01 04 F7 0A");
  EXPECT_EQ(hex(e.params), "00 00 00 00 02 00 00 00 02 00 00 00 02 00 00 00 01 00 00 00");
  c.notes = {{"nm", {{"n", 2}, {"m", 4}}}};
  e = enc("nm", c);
  EXPECT_EQ(hex(e.meta), "9C 9C C9 C9");
  EXPECT_EQ(hex(e.values), kept);
  // The lfsr variant: seed 0xACE1 and the slots it regenerates.
  BalancedGeometry geo;
  geo.pes = 2;
  geo.cluster = 2;
  geo.slots = 2;
  geo.rows = 4;
  geo.cols = 8;
  const auto slots = lfsr_slot_mask(geo, 1, 0xACE1);
  std::vector<int> first;
  for (size_t gidx = 0; gidx < 8; ++gidx) first.push_back(slots[gidx * 2] ? 0 : 1);
  EXPECT_EQ(first, (std::vector<int>{0, 0, 0, 0, 1, 1, 1, 0}));
  uint16_t x = 0xACE1;
  std::vector<uint16_t> states;
  for (int k = 0; k < 6; ++k) states.push_back(x = lfsr16_step(x));
  EXPECT_EQ(states, (std::vector<uint16_t>{0xE270, 0x7138, 0x389C, 0x1C4E, 0x0E27, 0xB313}));
  for (int64_t r = 0; r < 4; ++r)
    for (int64_t col = 0; col < 8; ++col)
      w.mask[static_cast<size_t>(r * 8 + col)] =
          slots[static_cast<size_t>((col * 2 + r % 2) * 2 + r / 2)];
  for (size_t k = 0; k < w.values.size(); ++k)
    if (!w.mask[k]) w.values[k] = 0;
  c.notes = {
      {"balanced", {{"pes", 2}, {"cluster", 2}, {"k", 1}, {"variant", "lfsr"}, {"seed", 0xACE1}}}};
  e = enc("balanced", c);
  EXPECT_EQ(hex(e.meta), "E1 AC");
  EXPECT_EQ(hex(e.params).substr(0, 2), "01");
}

// ------------------------------------------------------------------------ bad inputs

class TablesBad : public ::testing::Test {
 protected:
  void SetUp() override {
    g_ = test_graph();
    p_ = make(g_, random_masks(g_, 0.5, 77));
    bytes_ = table_bytes(p_.q, p_.masks, {}, forced("csr"), "net.pwt", &sum_);
  }
  static void put_u32(std::string& b, size_t at, uint32_t v) {
    for (int k = 0; k < 4; ++k) b[at + k] = static_cast<char>((v >> (8 * k)) & 0xFF);
  }
  Graph g_;
  Pruned p_;
  std::string bytes_;
  TableSummary sum_;
};

TEST_F(TablesBad, BadMagic) {
  std::string b = bytes_;
  b[1] = 'X';
  EXPECT_INPUT_ERROR(parse_tables(b, "net.pwt"), "net.pwt", "bad magic");
}

TEST_F(TablesBad, UnsupportedVersion) {
  std::string b = bytes_;
  b[8] = 4;
  put_u32(b, 44, crc32(b.data(), 44));  // a well-formed future file
  EXPECT_INPUT_ERROR(parse_tables(b, "net.pwt"), "net.pwt", "unsupported weight-table version 4");
}

TEST_F(TablesBad, HeaderAndModelCrc) {
  std::string b = bytes_;
  b[13] ^= 0x01;
  EXPECT_INPUT_ERROR(parse_tables(b, "net.pwt"), "net.pwt", "header CRC");
  b = bytes_;
  b[60] ^= 0x40;
  EXPECT_INPUT_ERROR(parse_tables(b, "net.pwt"), "net.pwt", "model section", "CRC mismatch");
}

TEST_F(TablesBad, FlippedByteInEachLayerNamesTheLayer) {
  ASSERT_EQ(sum_.layers.size(), 6u);
  const std::vector<size_t> at_offsets = {0, 5, 20, 70};
  for (const auto& l : sum_.layers) {
    for (size_t d : at_offsets) {
      std::string b = bytes_;
      b[static_cast<size_t>(l.offset) + d] ^= 0x10;
      EXPECT_INPUT_ERROR(parse_tables(b, "net.pwt"), "net.pwt", "layer '" + l.name + "'",
                         "byte " + std::to_string(l.offset), "CRC mismatch");
    }
    // The last value byte and the CRC itself.
    const size_t end = static_cast<size_t>(
        (&l == &sum_.layers.back() ? static_cast<int64_t>(bytes_.size()) : (&l + 1)->offset));
    for (size_t at : {end - 5, end - 1}) {
      std::string b = bytes_;
      b[at] ^= 0x01;
      EXPECT_INPUT_ERROR(parse_tables(b, "net.pwt"), "net.pwt", "layer '" + l.name + "'",
                         "CRC mismatch");
    }
  }
}

TEST_F(TablesBad, TruncatedAtManyPoints) {
  std::vector<size_t> cuts = {0, 4, 9, 20, 47, 48, 100, bytes_.size() - 1, bytes_.size() - 4};
  for (const auto& l : sum_.layers) {
    cuts.push_back(static_cast<size_t>(l.offset));
    cuts.push_back(static_cast<size_t>(l.offset) + 30);
  }
  for (size_t cut : cuts) {
    SCOPED_TRACE(cut);
    EXPECT_INPUT_ERROR(parse_tables(bytes_.substr(0, cut), "net.pwt"), "net.pwt");
    if (cut >= 48) EXPECT_INPUT_ERROR(parse_tables(bytes_.substr(0, cut), "net.pwt"), "truncated");
  }
  EXPECT_INPUT_ERROR(parse_tables(bytes_ + "junk", "net.pwt"), "net.pwt", "trailing");
}

// A file whose CRCs are right but whose lengths disagree (as a buggy writer could make).
TEST_F(TablesBad, InconsistentLengthsWithValidCrc) {
  std::string b = bytes_;
  const size_t off = static_cast<size_t>(sum_.layers[0].offset);
  const size_t end = static_cast<size_t>(sum_.layers[1].offset);
  // Claim one more metadata bit than the section's bytes hold.
  uint64_t bits = 0;
  for (int k = 0; k < 8; ++k) bits |= uint64_t{static_cast<uint8_t>(b[off + 56 + k])} << (8 * k);
  bits = ((bits + 7) / 8) * 8 + 1;
  for (int k = 0; k < 8; ++k) b[off + 56 + k] = static_cast<char>((bits >> (8 * k)) & 0xFF);
  put_u32(b, end - 4, crc32(b.data() + off, end - off - 4));
  EXPECT_INPUT_ERROR(parse_tables(b, "net.pwt"), "net.pwt", "layer 'conv1'", "inconsistent");
}

TEST_F(TablesBad, ForcedEncodingNotApplicable) {
  EXPECT_INPUT_ERROR(table_bytes(p_.q, p_.masks, {}, forced("nm"), "o.pwt"), "o.pwt",
                     "layer 'conv1'", "'nm' does not apply");
  EXPECT_INPUT_ERROR(table_bytes(p_.q, p_.masks, {}, forced("balanced"), "o.pwt"), "o.pwt",
                     "layer 'conv1'", "'balanced' does not apply");
  TableOptions c4 = forced("csr");
  c4.encoding_params["csr"]["index_bits"] = 4;
  EXPECT_INPUT_ERROR(table_bytes(p_.q, p_.masks, {}, c4, "o.pwt"), "o.pwt", "layer 'conv1'",
                     "does not fit in 4 bits");
  // Balanced notes that the mask does not honour.
  nlohmann::json notes;
  balanced_masks(g_, "pattern", 0.5, 2, 2, &notes, 1);
  EXPECT_INPUT_ERROR(table_bytes(p_.q, p_.masks, notes, forced("balanced"), "o.pwt"), "o.pwt",
                     "layer 'conv1'", "not balanced");
  TableOptions bad;
  bad.encoding = "zip";
  EXPECT_INPUT_ERROR(table_bytes(p_.q, p_.masks, {}, bad, "o.pwt"), "o.pwt", "unknown encoding");
  bad = raman_target();
  bad.encoding = "rle";
  EXPECT_INPUT_ERROR(table_bytes(p_.q, p_.masks, {}, bad, "o.pwt"), "not accepted by target",
                     "it decodes balanced, bitmap, csr, dense");
  bad = TableOptions{};
  bad.encoding_params["csr"]["index_bits"] = 5;
  EXPECT_INPUT_ERROR(table_bytes(p_.q, p_.masks, {}, bad, "o.pwt"), "--csr-index-bits");
  bad = TableOptions{};
  bad.encoding_params["csr"]["colour"] = 5;
  EXPECT_INPUT_ERROR(table_bytes(p_.q, p_.masks, {}, bad, "o.pwt"), "--csr-colour");
  bad = TableOptions{};
  bad.encoding_params["rle"]["run_bits"] = 17;
  EXPECT_INPUT_ERROR(table_bytes(p_.q, p_.masks, {}, bad, "o.pwt"), "--rle-run-bits");
}

TEST_F(TablesBad, MasksThatLoseWeights) {
  MaskMap m = p_.masks;
  // Drop a weight that is non-zero in the quantized model.
  const QLayer& L = p_.q.layers[0];
  size_t at = 0;
  while (L.weight[at] == 0) ++at;
  m["w1"][at] = 0;
  EXPECT_INPUT_ERROR(table_bytes(p_.q, m, {}, TableOptions{}, "o.pwt"), "o.pwt", "layer 'conv1'",
                     "drops non-zero");
  m = p_.masks;
  m["w1"].pop_back();
  EXPECT_INPUT_ERROR(table_bytes(p_.q, m, {}, TableOptions{}, "o.pwt"), "entries");
  m = p_.masks;
  m["nope"] = {1};
  EXPECT_INPUT_ERROR(table_bytes(p_.q, m, {}, TableOptions{}, "o.pwt"), "mask 'nope'");
}

TEST_F(TablesBad, NoFileLeftBehindOnWriteErrors) {
  const fs::path dir = fs::temp_directory_path() / "prunesim_tables_bad";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string out = (dir / "o.pwt").string();
  EXPECT_INPUT_ERROR(write_tables(p_.q, p_.masks, {}, forced("nm"), out), out);
  EXPECT_INPUT_ERROR(write_tables(p_.q, p_.masks, {}, TableOptions{}, (dir / "no/o.pwt").string()),
                     "no/o.pwt");
  EXPECT_TRUE(fs::is_empty(dir));
  // And a damaged file on disk names its path.
  std::string b = bytes_;
  b[static_cast<size_t>(sum_.layers[2].offset) + 40] ^= 0x01;
  std::ofstream(out, std::ios::binary) << b;
  EXPECT_INPUT_ERROR(read_tables(out), out, "layer 'up'");
  EXPECT_INPUT_ERROR(read_tables((dir / "missing.pwt").string()), "missing.pwt");
  EXPECT_FALSE(is_table_file((dir / "missing.pwt").string()));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace prunesim
