// The all-twin structural core (models/raman/core_net.h: the controller twin of
// docs/raman-rtl.md with the block twins of rtl_twins.h, wired like raman_core) runs real zoo
// models from the tables build_rtl_image writes: outputs bit-exact with the integer reference,
// busy cycles equal to the SystemC model's total cycles, for every encoding at several
// sparsities and on the lane layers (depthwise, max/average/global pooling, clamp); and the
// controller's rule that an output which is not meaningful in a cycle is 0. Each simulation
// runs in its own child process (SystemC elaborates once per process).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>

#include "common/raman_cases.h"
#include "models/isolate.h"
#include "models/raman/core.h"
#include "models/raman/core_net.h"
#include "models/raman/rtl_image.h"
#include "prune/quant.h"

namespace prunesim {
namespace {

using namespace raman;
using nlohmann::json;

struct Prepared {
  RamanProgram prog;
  RtlImage img;
  std::vector<std::vector<int8_t>> codes, ref;
};

Prepared prepare(const SimInput& in) {
  Prepared r;
  r.prog = compile(in.model, in.summary, in.masks, RamanConfig::from(in.params), in.tables_path);
  r.img = build_rtl_image(r.prog);
  Shape sample;
  const int64_t n = split_samples(in.model.graph, in.input, in.input_path, &sample);
  const int64_t per = numel(sample);
  for (int64_t s = 0; s < n; ++s) {
    Tensor xs(sample);
    std::copy(in.input.f.begin() + s * per, in.input.f.begin() + (s + 1) * per, xs.f.begin());
    std::vector<int8_t> c;
    for (float v : xs.f) c.push_back(hls::quantize_value(v, r.prog.input_scale));
    r.codes.push_back(std::move(c));
    std::vector<int8_t> y;
    for (int64_t v : run_int8(in.model, xs).output_int8.i) y.push_back(static_cast<int8_t>(v));
    r.ref.push_back(std::move(y));
  }
  return r;
}

// The SystemC model's per-sample cycles and outputs (child process).
json model_run(const Prepared& r) {
  return json::parse(run_isolated([&] {
    const CycleResult cr = simulate_cycle(r.prog, r.codes);
    json j;
    j["cycles"] = cr.sample_cycles;
    j["outputs"] = cr.outputs;
    return j.dump();
  }));
}

// The all-twin core (child process): per-sample busy cycles and outputs.
json twin_run(const Prepared& r) {
  return json::parse(run_isolated([&] {
    std::vector<std::vector<uint32_t>> hin;
    for (const auto& c : r.codes) hin.push_back(r.img.hin_words(c));
    CoreHost::Options o;
    o.out_words = (r.img.out_bytes() + 3) / 4;
    o.max_busy = 50'000'000;
    const auto t0 = std::chrono::steady_clock::now();
    const HostResult h = run_twin_core(r.img.tables, hin, o);
    json j;
    j["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    j["run_seconds"] = h.seconds;
    j["timed_out"] = h.timed_out;
    j["cycles"] = h.cycles;
    j["clock_cycles"] = h.clock_cycles;
    std::vector<std::vector<int8_t>> outs;
    for (const auto& w : h.dout) outs.push_back(r.img.output_from_words(w));
    j["outputs"] = outs;
    return j.dump();
  }));
}

struct Case {
  const char* model;
  const char* scheme;
  double sparsity;
  const char* encoding;
  const char* variant;
  int64_t samples = 1;
  const char* input = "sample.npy";
};

void PrintTo(const Case& c, std::ostream* os) {
  *os << c.model << " " << (*c.scheme ? c.scheme : "dense") << " " << c.sparsity << " "
      << c.encoding << "/" << c.variant;
}

SimInput case_input(const Case& c) {
  return test::zoo_case(c.model, c.scheme, c.sparsity, c.encoding, c.variant, c.input, c.samples);
}

class RamanRtlTwin : public ::testing::TestWithParam<Case> {};

TEST_P(RamanRtlTwin, BitExactWithTheModelsCycles) {
  const Case c = GetParam();
  const Prepared r = prepare(case_input(c));
  ASSERT_EQ(static_cast<int64_t>(r.codes.size()), c.samples);
  const json model = model_run(r);
  const json twin = twin_run(r);
  ASSERT_FALSE(twin["timed_out"].get<bool>());
  const auto outs = twin["outputs"].get<std::vector<std::vector<int8_t>>>();
  const auto cycles = twin["cycles"].get<std::vector<int64_t>>();
  const auto model_cycles = model["cycles"].get<std::vector<int64_t>>();
  ASSERT_EQ(outs.size(), r.ref.size());
  for (size_t s = 0; s < r.ref.size(); ++s) {
    EXPECT_EQ(model["outputs"][s].get<std::vector<int8_t>>(), r.ref[s]) << "SystemC model";
    int64_t bad = 0, first = -1;
    for (size_t k = 0; k < r.ref[s].size(); ++k)
      if (k >= outs[s].size() || outs[s][k] != r.ref[s][k]) {
        if (first < 0) first = static_cast<int64_t>(k);
        ++bad;
      }
    EXPECT_EQ(bad, 0) << "sample " << s << ": " << bad << " outputs differ, first at " << first;
  }
  EXPECT_EQ(cycles, model_cycles);
  EXPECT_GT(cycles.at(0), 1000);
  std::printf("[ twin     ] %s: %lld busy cycles, %llu clock cycles in %.2f s (%.2f s inference)\n",
              c.model, static_cast<long long>(cycles.at(0)),
              static_cast<unsigned long long>(twin["clock_cycles"].get<uint64_t>()),
              twin["seconds"].get<double>(), twin["run_seconds"].get<double>());
}

INSTANTIATE_TEST_SUITE_P(
    Zoo, RamanRtlTwin,
    ::testing::Values(
        // ds_cae1 encoder: 1-D depthwise (lane), pointwise (broadcast), average pool, clamp.
        Case{"ds_cae1/encoder.onnx", "", 0, "dense", "pattern"},
        Case{"ds_cae1/encoder.onnx", "magnitude", 0.6, "bitmap", "pattern"},
        Case{"ds_cae1/encoder.onnx", "magnitude", 0.3, "csr", "pattern"},
        Case{"ds_cae1/encoder.onnx", "magnitude", 0.9, "csr", "pattern"},
        Case{"ds_cae1/encoder.onnx", "balanced", 0.5, "balanced", "pattern"},
        Case{"ds_cae1/encoder.onnx", "balanced", 0.5, "balanced", "lfsr"},
        Case{"ds_cae1/encoder.onnx", "balanced", 0.9, "balanced", "lfsr"},
        // ds_cae1 decoder: transposed convolutions (gather form).
        Case{"ds_cae1/decoder.onnx", "magnitude", 0.6, "bitmap", "pattern"},
        // 2-D: depthwise, max pool, global average pool, flat dense input; two samples.
        Case{"digits_dscnn/digits_dscnn.onnx", "", 0, "dense", "pattern", 3, "eval.npy"},
        Case{"digits_dscnn/digits_dscnn.onnx", "magnitude", 0.9, "bitmap", "pattern"},
        Case{"digits_dscnn/digits_dscnn.onnx", "balanced", 0.6, "balanced", "lfsr"},
        Case{"fmnist_dscnn/fmnist_dscnn.onnx", "balanced", 0.6, "balanced", "pattern"},
        Case{"fmnist_dscnn/fmnist_dscnn.onnx", "magnitude", 0.3, "csr", "pattern"}),
    [](const ::testing::TestParamInfo<Case>& i) {
      std::string n = test::zoo_short_name(i.param.model) + "_" + i.param.encoding + "_" +
                      i.param.variant + "_s" +
                      std::to_string(static_cast<int>(i.param.sparsity * 100 + 0.5));
      return n;
    });

// The sweep of tests/sim/arch/test_raman_arch.cpp (RamanZoo) on the twin core: every zoo model,
// every encoding the core decodes, sparsities 0, 0.3, 0.6, 0.9.
class RamanRtlTwinSweep : public ::testing::TestWithParam<const char*> {};

TEST_P(RamanRtlTwinSweep, EveryEncodingAndSparsity) {
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
  double seconds = 0;
  int64_t busy = 0;
  for (double sp : {0.0, 0.3, 0.6, 0.9})
    for (const Variant& v : variants) {
      if (std::string(v.encoding) == "balanced" && sp == 0.0) continue;  // nothing to balance
      const std::string what = std::string(GetParam()) + " " + v.scheme + "/" + v.encoding + "/" +
                               v.variant + " s=" + std::to_string(sp);
      const Prepared r = prepare(case_input(Case{GetParam(), v.scheme, sp, v.encoding, v.variant}));
      const json model = model_run(r);
      const json twin = twin_run(r);
      ASSERT_FALSE(twin["timed_out"].get<bool>()) << what;
      EXPECT_EQ(twin["outputs"][0].get<std::vector<int8_t>>(), r.ref[0]) << what;
      EXPECT_EQ(twin["cycles"], model["cycles"]) << what;
      seconds += twin["seconds"].get<double>();
      busy += twin["cycles"][0].get<int64_t>();
      ++cases;
    }
  EXPECT_EQ(cases, 18);
  std::printf("[ twin     ] %s: 18 cases, %lld busy cycles, %.1f s in the twin core\n", GetParam(),
              static_cast<long long>(busy), seconds);
}

INSTANTIATE_TEST_SUITE_P(Zoo, RamanRtlTwinSweep, ::testing::ValuesIn(test::kRamanZooModels),
                         [](const ::testing::TestParamInfo<const char*>& i) {
                           return test::zoo_short_name(i.param);
                         });

// Every controller output that is not meaningful in a cycle is 0 (docs/raman-rtl.md
// "Conventions"), checked on every cycle of a whole inference, with the state machine's phases
// visible at the block boundary: DMA in writes every input word, the drains write every output
// byte of every layer once, no read and write share a cycle.
TEST(RamanRtlTwinNet, OutputsThatAreNotMeaningfulAreZero) {
  const Prepared r = prepare(
      case_input(Case{"digits_dscnn/digits_dscnn.onnx", "magnitude", 0.6, "csr", "pattern"}));
  const json j = json::parse(run_isolated([&] {
    ::setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);
    sc_core::sc_report_handler::set_actions(sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
    sc_core::sc_clock clk("clk", 10, sc_core::SC_NS);
    CoreSignals s("t_");
    CoreNet net("twin", clk, s, CoreNet::twins());
    CoreHost::Options o;
    o.out_words = (r.img.out_bytes() + 3) / 4;
    CoreHost host("host", {&s}, r.img.tables, {r.img.hin_words(r.codes[0])}, o);
    host.clk(clk);
    json v = json::array();
    int64_t writes = 0, rd_wr = 0, inits = 0, loads = 0, drains = 0, cycles = 0;
    auto zero = [](const std::vector<uint32_t>& w) {
      for (uint32_t x : w)
        if (x) return false;
      return true;
    };
    host.on_cycle = [&](uint64_t edge, int64_t busy) {
      const std::vector<Observation> obs = observe(s);
      std::map<std::string, std::vector<uint32_t>> m(obs.begin(), obs.end());
      auto on = [&](const char* n) { return m.at(std::string("ctrl.") + n)[0] != 0; };
      auto need_zero = [&](const char* gate, std::initializer_list<const char*> ports) {
        if (on(gate)) return;
        for (const char* p : ports)
          if (!zero(m.at(std::string("ctrl.") + p)) && v.size() < 20)
            v.push_back(std::to_string(edge) + ": " + p + " without " + gate);
      };
      need_zero("am_rd_en", {"am_rd_word", "am_rd_addr"});
      need_zero("am_wr_en", {"am_wr_addr", "am_wr_be", "am_wr_data"});
      need_zero("dout_valid", {"dout_addr", "dout_data"});
      need_zero("pa_init", {"pa_init_bias"});
      need_zero("dec_load", {"dec_fmt", "dec_bits", "dec_cnt", "dec_idx", "dec_vals"});
      need_zero("rq_in_valid",
                {"rq_bypass", "rq_acc", "rq_mult", "rq_shift", "rq_act_min", "rq_act_max"});
      if (!on("busy"))
        for (const auto& [name, w] : obs)
          if (name.rfind("ctrl.", 0) == 0 && !zero(w) && v.size() < 20)
            v.push_back(std::to_string(edge) + ": " + name + " while idle");
      if (busy >= 0) {
        ++cycles;
        writes += on("am_wr_en");
        rd_wr += on("am_wr_en") && on("am_rd_en");
        inits += on("pa_init");
        loads += on("dec_load");
        drains += on("rq_in_valid");
      }
      return true;
    };
    sc_core::sc_start();
    json out;
    out["violations"] = v;
    out["cycles"] = cycles;
    out["writes"] = writes;
    out["rd_wr"] = rd_wr;
    out["inits"] = inits;
    out["loads"] = loads;
    out["drains"] = drains;
    out["conflict"] = s.am_port_conflict.read();
    out["overlap"] = s.am_overlap_err.read();
    out["output"] = r.img.output_from_words(host.result.dout.at(0));
    out["busy"] = host.result.cycles.at(0);
    out["names"] = observation_ports().size();
    out["obs"] = observe(s).size();
    return out.dump();
  }));
  EXPECT_TRUE(j["violations"].empty()) << j["violations"].dump(1);
  EXPECT_EQ(j["output"].get<std::vector<int8_t>>(), r.ref[0]);
  EXPECT_EQ(j["cycles"].get<int64_t>(), j["busy"].get<int64_t>());
  EXPECT_EQ(j["rd_wr"].get<int64_t>(), 0);
  EXPECT_FALSE(j["conflict"].get<bool>());
  EXPECT_FALSE(j["overlap"].get<bool>());
  EXPECT_EQ(j["names"].get<size_t>(), j["obs"].get<size_t>());
  // Drains: one write per output byte of every layer; DMA in: one write per input word.
  int64_t positions = 0, out_bytes = 0;
  for (const LayerProgram& L : r.prog.layers)
    if (L.mode != Mode::None) {
      positions += L.positions();
      out_bytes += L.out.bytes();
    }
  EXPECT_EQ(j["inits"].get<int64_t>(), positions);
  EXPECT_EQ(j["drains"].get<int64_t>(), out_bytes);
  EXPECT_EQ(j["writes"].get<int64_t>(), out_bytes + (r.img.in_bytes() + 3) / 4);
  EXPECT_GT(j["loads"].get<int64_t>(), 0);
}

TEST(RamanRtlTwinNet, ObservationListIsInLockstepOrder) {
  const auto& p = observation_ports();
  ASSERT_EQ(p.size(), 3u + 16u + 2u + 2u + 36u);
  EXPECT_EQ(p.front().first, "act_mem.rd_data");
  EXPECT_EQ(p[3].first, "decoder0.valid");
  EXPECT_EQ(p[3 + 4 * 2 + 2].first, "decoder2.wgt");
  EXPECT_EQ(p[3 + 16].first, "pe_array.rd_acc");
  EXPECT_EQ(p[3 + 16 + 2 + 1].first, "requant.out_q");
  EXPECT_EQ(p[3 + 16 + 4].first, "ctrl.busy");
  EXPECT_EQ(p.back().first, "ctrl.rq_act_max");
  int bits = 0;
  for (const auto& [n, w] : p) bits += w;
  int ctrl = 0;  // docs/raman-rtl.md "Controller ports", outputs in table order
  for (int w : {1,  1,  16,  32, 1, 1, 16, 1,   16, 4,   32,   16, 1, 4096, 8,  1, 1, 128,
                16, 48, 128, 4,  3, 1, 2,  128, 64, 384, 1024, 1,  1, 32,   31, 6, 8, 8})
    ctrl += w;
  EXPECT_EQ(bits, 128 + 1 + 1 + 4 * (4 + 12 + 32 + 1) + 32 + 16 + 1 + 8 + ctrl);
}

}  // namespace
}  // namespace prunesim
