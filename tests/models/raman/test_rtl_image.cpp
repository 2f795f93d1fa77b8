// The whole-core RTL's tables (models/raman/rtl_image.h): walking the gather lists the way the
// RTL controller does (docs/raman-rtl.md) must visit exactly the addresses the SystemC model's
// zero detector reads, position by position and in its order, on zoo models and encodings; the host
// layout round-trips; programs the RTL cannot run are input errors naming the reason.
#include <gtest/gtest.h>

#include "common/raman_cases.h"
#include "models/raman/rtl_image.h"
#include "prune/errors.h"

namespace prunesim {
namespace {

using namespace raman;
using nlohmann::json;

RamanProgram program_of(const SimInput& in) {
  return compile(in.model, in.summary, in.masks, RamanConfig::from(in.params), in.tables_path);
}

// The input addresses the SystemC model's zero detector reads for one output position, in its
// order (models/raman/src/core.cpp zero_detector, restated here from docs/raman.md "Dataflow").
std::vector<int64_t> model_candidates(const LayerProgram& l, int64_t oy, int64_t ox) {
  std::vector<int64_t> a;
  const int64_t H = l.in.h, W = l.in.w, C = l.in.c, taps = l.kh * l.kw;
  if (l.mode == Mode::Broadcast) {
    if (l.flat_input) {
      const int64_t hw = H * W;
      for (int64_t k = 0; k < l.cols; ++k)
        if (l.col_work[static_cast<size_t>(k)] > 0)
          a.push_back(l.in.addr(k / hw, (k % hw) / W, (k % hw) % W));
      return a;
    }
    for (int64_t ch = 0; ch < C; ++ch)
      for (int64_t i = 0; i < l.kh; ++i)
        for (int64_t j = 0; j < l.kw; ++j) {
          int64_t iy, ix;
          if (l.transpose) {
            const int64_t ty = oy + l.pt - i * l.dh, tx = ox + l.pl - j * l.dw;
            if (ty < 0 || tx < 0 || ty % l.sh || tx % l.sw) continue;
            iy = ty / l.sh, ix = tx / l.sw;
            if (iy >= H || ix >= W) continue;
          } else {
            iy = oy * l.sh - l.pt + i * l.dh, ix = ox * l.sw - l.pl + j * l.dw;
            if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
          }
          if (l.col_work[static_cast<size_t>(ch * taps + i * l.kw + j)] > 0)
            a.push_back(l.in.addr(ch, iy, ix));
        }
    return a;
  }
  const bool dw = l.qkind == QLayer::Kind::Conv;
  const bool global =
      l.qkind == QLayer::Kind::GlobalAvgPool || l.qkind == QLayer::Kind::GlobalMaxPool;
  for (int64_t i = 0; i < l.kh; ++i)
    for (int64_t j = 0; j < l.kw; ++j) {
      const int64_t iy = global ? i : oy * l.sh - l.pt + i * l.dh;
      const int64_t ix = global ? j : ox * l.sw - l.pl + j * l.dw;
      if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
      for (int64_t t = 0; t < l.slots; ++t)
        if (!dw || !l.tap_skip[static_cast<size_t>(t * taps + i * l.kw + j)])
          a.push_back(l.in.addr(t * l.pes, iy, ix));
    }
  return a;
}

// Walks DTAB -> PTAB -> LTAB -> GMEM as the controller does (docs/raman-rtl.md) and checks every
// position's candidate addresses, in order, against the model's. Returns candidates per layer.
std::vector<int64_t> walk_and_check(const RtlImage& img, const RamanProgram& prog) {
  const auto& T = img.tables;
  std::vector<const LayerProgram*> run;
  for (const LayerProgram& L : prog.layers)
    if (L.mode != Mode::None) run.push_back(&L);
  EXPECT_EQ(T[kDtab][0], run.size());
  std::vector<int64_t> n;
  for (uint32_t l = 0; l < T[kDtab][0] && l < run.size(); ++l) {
    const uint32_t* d = &T[kDtab][16 + 16 * l];
    int64_t total = 0;
    for (uint32_t oy = 0; oy < d[5]; ++oy)
      for (uint32_t ox = 0; ox < d[6]; ++ox) {
        const uint32_t py = d[12] + oy, px = d[13] + ox;
        const int32_t yoff = static_cast<int32_t>(T[kPtab][2 * py]);
        const int32_t xoff = static_cast<int32_t>(T[kPtab][2 * px]);
        const uint32_t yc = T[kPtab][2 * py + 1] & 0xffff, xc = T[kPtab][2 * px + 1] & 0xffff;
        const uint32_t pair = d[10] + yc * d[11] + xc;
        const uint32_t first = T[kLtab][2 * pair], cnt = T[kLtab][2 * pair + 1];
        std::vector<int64_t> got;
        for (uint32_t e = first; e < first + cnt; ++e)
          got.push_back(static_cast<int64_t>(d[8]) + yoff + xoff +
                        static_cast<int32_t>(T[kGmem][2 * e + 1]));
        const std::vector<int64_t> want = model_candidates(*run[l], oy, ox);
        EXPECT_EQ(got, want) << "layer " << run[l]->name << " position (" << oy << ", " << ox
                             << ")";
        if (got != want) return n;  // one position's report is enough
        total += cnt;
      }
    n.push_back(total);
  }
  return n;
}

struct Case {
  const char* model;
  const char* calib;
  const char* input;
  const char* scheme;
  double sparsity;
  const char* encoding;
  const char* variant;
};

// Test listings show the case, not the struct's bytes.
void PrintTo(const Case& c, std::ostream* os) {
  *os << c.model << " " << (*c.scheme ? c.scheme : "dense") << " " << c.sparsity << " "
      << c.encoding << "/" << c.variant;
}

class RtlImageZoo : public ::testing::TestWithParam<Case> {};

TEST_P(RtlImageZoo, GatherListsVisitTheModelsCandidates) {
  const Case c = GetParam();
  SimInput in = test::build_case(c.model, c.calib, c.input, c.scheme, c.sparsity, c.encoding,
                                 {"weight_mem_bytes=65536", "cluster_size=2"}, c.variant);
  const RamanProgram prog = program_of(in);
  const RtlImage img = build_rtl_image(prog);
  const std::vector<int64_t> walked = walk_and_check(img, prog);
  in.mode = "analytical";
  in.rate_hz = 1;
  const SimOutput out = get_arch("raman").simulate(in);
  // One activation-memory read per candidate in both modes (a byte or a lane word).
  std::vector<int64_t> reads;
  for (const json& l : out.report["layers"])
    if (l["mode"] != "none") reads.push_back(l["act_reads"].get<int64_t>());
  ASSERT_EQ(walked.size(), reads.size());
  for (size_t i = 0; i < reads.size(); ++i) EXPECT_EQ(walked[i], reads[i]) << "layer " << i;
  EXPECT_EQ(static_cast<int64_t>(img.tables[kDtab][0]), static_cast<int64_t>(reads.size()));
}

INSTANTIATE_TEST_SUITE_P(
    Zoo, RtlImageZoo,
    ::testing::Values(Case{"ds_cae1/encoder.onnx", "ds_cae1/calib.npy", "ds_cae1/sample.npy", "", 0,
                           "dense", "pattern"},
                      Case{"ds_cae1/encoder.onnx", "ds_cae1/calib.npy", "ds_cae1/sample.npy",
                           "balanced", 0.5, "balanced", "lfsr"},
                      Case{"ds_cae1/decoder.onnx", "ds_cae1/calib.npy", "ds_cae1/sample.npy",
                           "magnitude", 0.6, "csr", "pattern"},
                      Case{"digits_dscnn/digits_dscnn.onnx", "digits_dscnn/calib.npy",
                           "digits_dscnn/sample.npy", "magnitude", 0.9, "bitmap", "pattern"},
                      Case{"fmnist_dscnn/fmnist_dscnn.onnx", "fmnist_dscnn/calib.npy",
                           "fmnist_dscnn/sample.npy", "balanced", 0.6, "balanced", "pattern"}),
    [](const ::testing::TestParamInfo<Case>& i) {
      return test::zoo_short_name(i.param.model) + "_" + i.param.encoding + "_" + i.param.variant;
    });

TEST(RtlImage, HostLayoutRoundTrips) {
  SimInput in = test::build_case("ds_cae1/encoder.onnx", "ds_cae1/calib.npy", "ds_cae1/sample.npy",
                                 "", 0, "dense");
  const RtlImage img = build_rtl_image(program_of(in));
  std::vector<int8_t> x(static_cast<size_t>(img.in_bytes()));
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<int8_t>(i * 37 + 11);
  const std::vector<uint32_t> w = img.hin_words(x);
  ASSERT_EQ(static_cast<int64_t>(w.size()), (img.in_bytes() + 3) / 4);
  // Byte (position s, channel c) of the NHWC stream is element (c, s) of the NCHW sample.
  const int64_t s = img.in_hw - 1, c = img.in_c - 1, b = s * img.in_c + c;
  EXPECT_EQ(static_cast<int8_t>(w[static_cast<size_t>(b / 4)] >> (8 * (b % 4))),
            x[static_cast<size_t>(c * img.in_hw + s)]);
  // The output side reads NHWC words back into NCHW: a sample the size of the output, packed as
  // the DMA delivers it, comes back unchanged.
  RtlImage o = img;
  o.in_c = img.out_c, o.in_hw = img.out_hw;
  std::vector<int8_t> y(static_cast<size_t>(img.out_bytes()));
  for (size_t i = 0; i < y.size(); ++i) y[i] = static_cast<int8_t>(i * 53 + 7);
  EXPECT_EQ(img.output_from_words(o.hin_words(y)), y);
}

TEST(RtlImage, ConfigurationsTheRtlDoesNotHaveAreInputErrors) {
  SimInput in = test::build_case("ds_cae1/encoder.onnx", "ds_cae1/calib.npy", "ds_cae1/sample.npy",
                                 "", 0, "dense", {"pe_count=8", "acc_per_pe=16"});
  try {
    build_rtl_image(program_of(in));
    FAIL() << "pe_count=8 accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("pe_count=8 (the RTL has 16)"), std::string::npos)
        << e.what();
  }
  EXPECT_EQ(rtl_config_mismatch(RamanConfig{}), "");
  RamanConfig big;
  big.act_mem_bytes = 131072;
  EXPECT_NE(rtl_config_mismatch(big).find("act_mem_bytes"), std::string::npos);
}

}  // namespace
}  // namespace prunesim
