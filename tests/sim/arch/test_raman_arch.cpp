// The `raman` architecture end to end: the SystemC model's outputs are bit-exact with the integer
// reference and its cycles and counts equal the analytical twin's, for every zoo model, several
// sparsities and every encoding the core decodes; plus the report contract, energy versus
// sparsity, the in-place activation memory and bad input.
#include <gtest/gtest.h>

#include <fstream>

#include "common/input_error.h"
#include "common/raman_cases.h"
#include "models/raman/counts.h"
#include "prune/errors.h"
#include "prune/quant.h"

namespace prunesim {
namespace {

using nlohmann::json;
using test::build_case;

std::vector<int8_t> reference_codes(const SimInput& in) {
  const Int8Result r = run_int8(in.model, in.input);
  std::vector<int8_t> v;
  for (int64_t x : r.output_int8.i) v.push_back(static_cast<int8_t>(x));
  return v;
}

std::vector<int8_t> codes(const Tensor& t) {
  std::vector<int8_t> v;
  for (int64_t x : t.i) v.push_back(static_cast<int8_t>(x));
  return v;
}

// Every count the model reports must match between the modes (energy is derived from them).
void expect_same_counts(const json& a, const json& c, const std::string& what) {
  ASSERT_EQ(a["layers"].size(), c["layers"].size()) << what;
  for (size_t i = 0; i < a["layers"].size(); ++i)
    for (auto it = a["layers"][i].begin(); it != a["layers"][i].end(); ++it)
      EXPECT_EQ(it.value(), c["layers"][i][it.key()])
          << what << ": layer " << a["layers"][i]["name"] << " key " << it.key();
  EXPECT_EQ(a["latency_cycles"], c["latency_cycles"]) << what;
  EXPECT_EQ(a["memory"], c["memory"]) << what;
}

struct ZooModel {
  const char* model;
  const char* calib;
  const char* input;
  // Room for the csr/bitmap images of the larger models at low sparsity; clusters of 2 divide
  // the 10-output classifiers' PE count, which the balanced pattern needs.
  std::vector<std::string> sets = {"weight_mem_bytes=65536", "cluster_size=2"};
};

// Test listings show the case, not the struct's bytes.
void PrintTo(const ZooModel& z, std::ostream* os) {
  *os << z.model;
}

class RamanZoo : public ::testing::TestWithParam<ZooModel> {};

TEST_P(RamanZoo, CycleModelIsBitExactAndEqualsAnalytical) {
  const ZooModel z = GetParam();
  const Arch& arch = get_arch("raman");
  struct Variant {
    const char* scheme;
    const char* encoding;
    const char* variant;
  };
  const Variant variants[] = {{"magnitude", "dense", "pattern"},
                              {"magnitude", "bitmap", "pattern"},
                              {"magnitude", "csr", "pattern"},
                              {"balanced", "balanced", "pattern"},
                              {"balanced", "balanced", "lfsr"}};
  int cases = 0;
  for (double s : {0.0, 0.3, 0.6, 0.9}) {
    for (const Variant& v : variants) {
      if (std::string(v.encoding) == "balanced" && s == 0.0) continue;  // nothing to balance
      const std::string what = std::string(z.model) + " " + v.scheme + "/" + v.encoding + "/" +
                               v.variant + " s=" + std::to_string(s);
      SimInput in =
          build_case(z.model, z.calib, z.input, v.scheme, s, v.encoding, z.sets, v.variant);
      const std::vector<int8_t> ref = reference_codes(in);
      in.rate_hz = 1;  // the whole CAE takes longer than the encoder's 50 ms window budget
      in.mode = "cycle";
      const SimOutput cyc = arch.simulate(in);
      in.mode = "analytical";
      const SimOutput ana = arch.simulate(in);
      EXPECT_EQ(codes(cyc.output_int8), ref) << what;
      EXPECT_TRUE(cyc.report["bit_exact_vs_reference"].get<bool>()) << what;
      expect_same_counts(ana.report, cyc.report, what);
      // Every weight layer really used the encoding asked for.
      for (const json& l : cyc.report["layers"])
        if (!l["encoding"].get<std::string>().empty()) EXPECT_EQ(l["encoding"], v.encoding) << what;
      ++cases;
    }
  }
  EXPECT_EQ(cases, 18);
}

INSTANTIATE_TEST_SUITE_P(
    Zoo, RamanZoo,
    ::testing::Values(ZooModel{"ds_cae1/encoder.onnx", "ds_cae1/calib.npy", "ds_cae1/sample.npy"},
                      ZooModel{"ds_cae1/decoder.onnx", "ds_cae1/calib.npy", "ds_cae1/sample.npy"},
                      ZooModel{"ds_cae1/ds_cae1.onnx", "ds_cae1/calib.npy", "ds_cae1/sample.npy"},
                      ZooModel{"digits_dscnn/digits_dscnn.onnx", "digits_dscnn/calib.npy",
                               "digits_dscnn/sample.npy"},
                      ZooModel{"fmnist_dscnn/fmnist_dscnn.onnx", "fmnist_dscnn/calib.npy",
                               "fmnist_dscnn/sample.npy"}),
    [](const ::testing::TestParamInfo<ZooModel>& i) {
      std::string n = i.param.model;
      n = n.substr(n.find('/') + 1);
      n = n.substr(0, n.find('.'));
      return n;
    });

// The architecture declares what its decoders take; `--target` reaches it by name and only the
// architectures that declare encodings are targets.
TEST(RamanArch, DeclaresTheEncodingsItDecodes) {
  EXPECT_EQ(get_arch("raman").encodings(),
            (std::vector<std::string>{"balanced", "bitmap", "csr", "dense"}));
  EXPECT_EQ(target_encodings("raman", "--target"), get_arch("raman").encodings());
  EXPECT_TRUE(target_encodings("", "--target").empty());
  for (const std::string bad : {"tpu", "fpga-soc"}) {
    try {
      target_encodings(bad, "--target");
      FAIL() << bad;
    } catch (const InputError& e) {
      EXPECT_EQ(std::string(e.what()),
                "--target: unknown target '" + bad + "' (known: raman, or none for any)");
    }
  }
  for (const auto& n : get_arch("raman").encodings()) EXPECT_NE(find_encoding(n), nullptr) << n;
}

TEST(RamanArch, ReportContract) {
  SimInput in = build_case("ds_cae1/encoder.onnx", "ds_cae1/calib.npy", "ds_cae1/sample.npy",
                           "balanced", 0.5, "balanced");
  in.mode = "analytical";
  const json r = get_arch("raman").simulate(in).report;
  for (const char* k : {"arch", "mode", "clock_hz", "latency_cycles", "latency_s", "energy_j",
                        "power_w", "area_mm2", "layers", "components"})
    EXPECT_TRUE(r.contains(k)) << k;
  EXPECT_EQ(r["arch"], "raman");
  EXPECT_EQ(r["mode"], "analytical");
  EXPECT_DOUBLE_EQ(r["clock_hz"].get<double>(), 2e6);
  EXPECT_DOUBLE_EQ(r["latency_s"].get<double>(), r["latency_cycles"].get<double>() / 2e6);
  double area = 0, energy = 0, layer_energy = 0, cycles = 0;
  for (const json& c : r["components"]) {
    for (const char* k : {"name", "area_mm2", "energy_j"}) EXPECT_TRUE(c.contains(k)) << k;
    area += c["area_mm2"].get<double>();
    energy += c["energy_j"].get<double>();
  }
  for (const json& l : r["layers"]) {
    for (const char* k : {"name", "cycles", "macs_dense", "macs_executed", "energy_j"})
      EXPECT_TRUE(l.contains(k)) << k;
    layer_energy += l["energy_j"].get<double>();
    cycles += l["cycles"].get<double>();
    EXPECT_LE(l["macs_executed"].get<double>(), l["macs_dense"].get<double>());
  }
  EXPECT_NEAR(area, r["area_mm2"].get<double>(), 1e-9);
  EXPECT_NEAR(energy, r["energy_j"].get<double>(), 1e-12);
  EXPECT_LT(layer_energy, r["energy_j"].get<double>());  // DMA is outside the layers
  EXPECT_DOUBLE_EQ(cycles + r["memory"]["dma_in_cycles"].get<double>() +
                       r["memory"]["dma_out_cycles"].get<double>(),
                   r["latency_cycles"].get<double>());
  // Power at the default 20 windows/s: dynamic energy x rate + leakage.
  EXPECT_DOUBLE_EQ(r["rate_hz"].get<double>(), 20.0);
  EXPECT_GT(r["power_w"].get<double>(), r["power"]["leakage_power_w"].get<double>());
}

TEST(RamanArch, EnergyFallsAsBalancedSparsityRises) {
  double last_e = 1e9, last_c = 1e18;
  for (double s : {0.0, 0.3, 0.6, 0.9}) {
    SimInput in = build_case("ds_cae1/encoder.onnx", "ds_cae1/calib.npy", "ds_cae1/sample.npy",
                             s == 0.0 ? "" : "balanced", s, s == 0.0 ? "dense" : "balanced");
    in.mode = "analytical";
    const json r = get_arch("raman").simulate(in).report;
    const double e = r["energy_j"].get<double>(), c = r["latency_cycles"].get<double>();
    EXPECT_LT(e, last_e) << "sparsity " << s;
    EXPECT_LT(c, last_c) << "sparsity " << s;
    last_e = e;
    last_c = c;
  }
}

// The timing rule of docs/raman.md, recomputed by hand for the dense pointwise layer /1/Conv of
// the encoder (96 -> 32 channels, 100 positions, 16 PEs -> 2 rows per PE, ppu_lanes 1):
// setup 4 + per position (1 init + per input channel (1 if zero else 2) + 1 flush + 32 drain).
TEST(RamanArch, PointwiseLayerCyclesFollowTheTimingRule) {
  SimInput in = build_case("ds_cae1/encoder.onnx", "ds_cae1/calib.npy", "ds_cae1/sample.npy", "",
                           0.0, "dense");
  int64_t zeros = -1, values = 0;
  run_int8(in.model, in.input, [&](const QLayer& L, const std::vector<int8_t>& c, const Shape&) {
    if (L.name == "/0/Conv") {  // its output is /1/Conv's input
      zeros = 0;
      for (int8_t v : c) zeros += v == 0;
      values = static_cast<int64_t>(c.size());
    }
  });
  ASSERT_EQ(values, 9600);
  in.mode = "cycle";
  const json r = get_arch("raman").simulate(in).report;
  const json* layer = nullptr;
  for (const json& l : r["layers"])
    if (l["name"] == "/1/Conv") layer = &l;
  ASSERT_NE(layer, nullptr);
  const int64_t expect = 4 + 100 * (1 + 1 + 32) + zeros * 1 + (values - zeros) * 2;
  EXPECT_EQ((*layer)["cycles"].get<int64_t>(), expect);
  EXPECT_EQ((*layer)["pe_stalled_cycles"].get<int64_t>(), zeros * 16);
}

TEST(RamanArch, ActivationMemoryOverlapsInPlaceAtTheLimit) {
  SimInput in = build_case("ds_cae1/encoder.onnx", "ds_cae1/calib.npy", "ds_cae1/sample.npy", "",
                           0.0, "dense");
  in.mode = "analytical";
  const json r = get_arch("raman").simulate(in).report;
  const int64_t peak = r["memory"]["act_used_bytes"],
                sep = r["memory"]["act_peak_no_overlap_bytes"];
  EXPECT_LT(peak, sep);  // overlapping IA and OA saves memory
  EXPECT_GE(static_cast<double>(sep - peak) / sep, 0.4);
  // The smallest memory that fits still computes exactly (the overlap is exercised for real).
  SimInput tight = build_case("ds_cae1/encoder.onnx", "ds_cae1/calib.npy", "ds_cae1/sample.npy", "",
                              0.0, "dense", {"act_mem_bytes=" + std::to_string(peak)});
  tight.mode = "cycle";
  const SimOutput o = get_arch("raman").simulate(tight);
  EXPECT_EQ(codes(o.output_int8), reference_codes(tight));
  SimInput less = build_case("ds_cae1/encoder.onnx", "ds_cae1/calib.npy", "ds_cae1/sample.npy", "",
                             0.0, "dense", {"act_mem_bytes=" + std::to_string(peak - 1)});
  less.mode = "analytical";
  try {
    get_arch("raman").simulate(less);
    FAIL() << "expected an error";
  } catch (const InputError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("layer '/0/Conv'"), std::string::npos) << m;
    EXPECT_NE(m.find("short by 1 B"), std::string::npos) << m;
  }
}

using test::error_of;

TEST(RamanArch, BadInputIsAnInputErrorNamingThePlace) {
  const Arch& a = get_arch("raman");
  EXPECT_NE(error_of([&] {
              resolve_params("raman", a.params(), "", {"pe_count=0"});
            }).find("pe_count must be in [1, 1024]"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              resolve_params("raman", a.params(), "", {"clock_hz=-2e6"});
            }).find("clock_hz"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              resolve_params("raman", a.params(), "", {"pes=4"});
            }).find("key 'pes': unknown parameter of raman"),
            std::string::npos);
  // A table balanced for 16 PEs on a 32-PE core.
  SimInput in = build_case("ds_cae1/encoder.onnx", "ds_cae1/calib.npy", "ds_cae1/sample.npy",
                           "balanced", 0.5, "balanced");
  in.params.set("pe_count", 32);
  in.mode = "analytical";
  std::string m = error_of([&] { a.simulate(in); });
  EXPECT_NE(m.find("case.pwt: layer '/1/Conv'"), std::string::npos) << m;
  EXPECT_NE(m.find("made for 16 PEs"), std::string::npos) << m;
  // Weight memory too small.
  SimInput w = build_case("ds_cae1/encoder.onnx", "ds_cae1/calib.npy", "ds_cae1/sample.npy", "",
                          0.0, "dense", {"weight_mem_bytes=4096"});
  w.mode = "analytical";
  m = error_of([&] { a.simulate(w); });
  EXPECT_NE(m.find("weights do not fit"), std::string::npos) << m;
  EXPECT_NE(m.find("short by"), std::string::npos) << m;
  // An encoding the core does not decode.
  SimInput r = build_case("ds_cae1/encoder.onnx", "ds_cae1/calib.npy", "ds_cae1/sample.npy", "",
                          0.0, "dense");
  TableOptions to;
  to.encoding = "rle";
  const std::string bytes = table_bytes(r.model, {}, {}, to, "rle.pwt");
  r.model = parse_tables(bytes, "rle.pwt", &r.summary, &r.masks);
  r.tables_path = "rle.pwt";
  r.mode = "analytical";
  m = error_of([&] { a.simulate(r); });
  EXPECT_NE(m.find("encoding 'rle' is not accepted by the raman core"), std::string::npos) << m;
  // An input of the wrong shape.
  SimInput x = build_case("ds_cae1/encoder.onnx", "ds_cae1/calib.npy", "ds_cae1/sample.npy", "",
                          0.0, "dense");
  x.input = Tensor(Shape{1, 95, 100});
  x.input_path = "x.npy";
  x.mode = "analytical";
  m = error_of([&] { a.simulate(x); });
  EXPECT_NE(m.find("x.npy"), std::string::npos) << m;
}

TEST(RamanArch, CycleModeWritesAVcdTrace) {
  SimInput in = build_case("digits_dscnn/digits_dscnn.onnx", "digits_dscnn/calib.npy",
                           "digits_dscnn/sample.npy", "", 0.0, "dense");
  const std::string path = ::testing::TempDir() + "/raman_trace.vcd";
  std::remove(path.c_str());
  in.mode = "cycle";
  in.trace_path = path;
  get_arch("raman").simulate(in);
  std::ifstream f(path);
  ASSERT_TRUE(f.good());
  std::string all((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  EXPECT_NE(all.find("broadcast_activation"), std::string::npos);
  EXPECT_NE(all.find("$enddefinitions"), std::string::npos);
}

}  // namespace
}  // namespace prunesim

namespace prunesim {
namespace {

// The generated walks over LayerCounts (counts.h lists): every field survives the JSON round
// trip the cycle-mode child uses, and accumulate sums every count and per-PE entry.
TEST(RamanCounts, EveryListedFieldRoundTripsAndAccumulates) {
  raman::LayerCounts c;
  int64_t v = 1;
#define PRUNESIM_X(f, ...) c.f = v++;
  PRUNESIM_RAMAN_LAYER_COUNTS(PRUNESIM_X)
  PRUNESIM_RAMAN_LAYER_LAYOUT(PRUNESIM_X)
#undef PRUNESIM_X
#define PRUNESIM_X(f, key) c.f = {v++, v++};
  PRUNESIM_RAMAN_LAYER_PER_PE(PRUNESIM_X)
#undef PRUNESIM_X
#define PRUNESIM_X(f, key) c.f = key + std::string("_value");
  PRUNESIM_RAMAN_LAYER_TEXT(PRUNESIM_X)
#undef PRUNESIM_X
  const json j = raman::counts_to_json(c);
  EXPECT_EQ(j["zero_checked_values"], c.zero_checks);  // the report's key, not the field's name
  const raman::LayerCounts back = raman::counts_from_json(j);
  EXPECT_EQ(raman::counts_to_json(back), j);
  raman::LayerCounts sum = c;
  raman::accumulate(sum, c);
#define PRUNESIM_X(f, ...) EXPECT_EQ(sum.f, 2 * c.f) << #f;
  PRUNESIM_RAMAN_LAYER_COUNTS(PRUNESIM_X)
#undef PRUNESIM_X
#define PRUNESIM_X(f, key) EXPECT_EQ(sum.f, c.f) << #f;  // not summed
  PRUNESIM_RAMAN_LAYER_LAYOUT(PRUNESIM_X)
  PRUNESIM_RAMAN_LAYER_TEXT(PRUNESIM_X)
#undef PRUNESIM_X
  EXPECT_EQ(sum.gated_per_pe[1], 2 * c.gated_per_pe[1]);
  // The summary: stats named in the list only, per inference, in list order.
  StatGroup g;
  raman::add_count_stats(g, {c, c}, 2.0);
  ASSERT_FALSE(g.stats.empty());
  EXPECT_EQ(g.stats.front().name, "macs_dense");
  EXPECT_EQ(g.value("pe_busy"), static_cast<double>(c.pe_busy));
  EXPECT_EQ(g.find("acc_updates"), nullptr);
}

// Stats hold base units; the printers show the unit a stat names, scaled once.
TEST(Stats, BaseUnitsAreShownScaled) {
  StatGroup g;
  g.name = "g";
  g.add("t", 0.025, "s", "time", "ms").add("u", 0.5, "1", "", "%").add("n", 3, "B", "");
  EXPECT_EQ(g.value("t"), 0.025);
  const json j = g.to_json();
  EXPECT_EQ(j["stats"]["t"]["unit"], "ms");
  EXPECT_EQ(j["stats"]["t"]["value"].get<double>(), 0.025 * 1e3);
  EXPECT_EQ(j["stats"]["u"]["value"].get<double>(), 50.0);
  EXPECT_EQ(j["stats"]["n"]["unit"], "B");
  EXPECT_NE(g.to_table().find("ms"), std::string::npos);
  EXPECT_EQ(unit_scale("J", "uJ"), 1e6);
  EXPECT_EQ(unit_scale("W", "mW"), 1e3);
  EXPECT_THROW(g.add("bad", 1, "s", "", "uJ"), std::logic_error);
}

}  // namespace
}  // namespace prunesim
