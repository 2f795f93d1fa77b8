// Writes the weight-table seeds and hostile tables of the fuzz corpora (tests/fuzz/README.md):
//   corpus/pwt/*.pwt          zoo models quantized and encoded with each generic encoding
//   corpus/encodings/*        each encoding's output on a 16 x 16 matrix, in fuzz_encodings' layout
//   regressions/pwt/*.pwt     one table per class of issue 16's .pwt findings (valid CRCs)
// Run from the build: fuzz_make_pwt <source dir>. Deterministic.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <limits>
#include <random>

#include "prune/npy.h"
#include "prune/onnx_io.h"
#include "prune/quant.h"
#include "prune/tables.h"

using namespace prunesim;
namespace fs = std::filesystem;

namespace {

void save(const fs::path& p, const std::string& bytes) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << bytes;
}

QuantizedModel quantized(const std::string& src, const std::string& model,
                         const std::string& calib) {
  const Graph g = load_onnx(src + "/zoo/" + model);
  Tensor c = load_npy_as_float(src + "/zoo/" + calib);
  // A few samples are enough to calibrate a seed.
  const int64_t n = std::min<int64_t>(c.shape[0], 8), per = c.size() / c.shape[0];
  c.shape[0] = n;
  c.f.resize(static_cast<size_t>(n * per));
  return quantize(g, c);
}

std::string bytes_of(const QuantizedModel& q, const std::string& encoding = "auto") {
  TableOptions o;
  o.encoding = encoding;
  return table_bytes(q, {}, nlohmann::json::object(), o, "fuzz.pwt");
}

void encoding_seeds(const fs::path& dir) {
  std::mt19937 rng(16);
  for (const std::string& name : encoding_names()) {
    const Encoding* e = find_encoding(name);
    WeightMatrix w;
    w.rows = w.cols = 16;
    for (int k = 0; k < 256; ++k) {
      const bool keep = (rng() % 4) == 0;
      w.mask.push_back(keep);
      w.values.push_back(keep ? static_cast<int8_t>(rng() % 255 - 127) : 0);
    }
    EncodeContext c;
    c.layer = "fc";
    c.op = "Gemm";
    c.params = ParamValues(e->params());
    EncodedLayer out;
    if (!e->encode(w, c, &out).empty()) continue;  // needs a scheme's notes (balanced, nm)
    if (out.params.size() > 255 || out.values.size() > 255) continue;
    std::string b;
    b += static_cast<char>(e->id());
    b += static_cast<char>(w.rows - 1);
    b += static_cast<char>(w.cols - 1);
    for (int k = 0; k < 4; ++k) b += static_cast<char>((out.stored >> (8 * k)) & 0xFF);
    for (int k = 0; k < 4; ++k) b += static_cast<char>((out.meta_bits >> (8 * k)) & 0xFF);
    b += static_cast<char>(out.params.size());
    b += static_cast<char>(out.values.size());
    b += out.params + out.values + out.meta;
    save(dir / (name + ".bin"), b);
  }
}

// One hostile table per class: the model is damaged in memory and written with valid CRCs, so
// only the semantic rules (tables_check.cpp) can refuse it.
void hostile(const fs::path& dir, const QuantizedModel& digits, const QuantizedModel& enc) {
  auto put = [&](const std::string& name, const QuantizedModel& base,
                 const std::function<void(QuantizedModel&)>& damage) {
    QuantizedModel q = base;
    damage(q);
    try {
      save(dir / name, bytes_of(q));
    } catch (const InputError& e) {
      std::cerr << name << ": the writer refused it: " << e.what() << "\n";
    }
  };
  const float nan = std::numeric_limits<float>::quiet_NaN();
  put("input_scale_nan.pwt", digits, [&](QuantizedModel& q) { q.input_scale = nan; });
  put("output_scale_nan.pwt", digits, [&](QuantizedModel& q) { q.output_scale = nan; });
  put("requant_shift_99.pwt", digits, [](QuantizedModel& q) { q.layers[0].requant[0].shift = 99; });
  put("requant_shift_negative.pwt", digits,
      [](QuantizedModel& q) { q.layers[0].requant[0].shift = -6; });
  auto find = [](QuantizedModel& q, QLayer::Kind k) -> QLayer& {
    for (auto& L : q.layers)
      if (L.kind == k) return L;
    throw std::logic_error("no layer of that kind");
  };
  put("avgpool_requant_empty.pwt", enc,
      [&](QuantizedModel& q) { find(q, QLayer::Kind::AvgPool).requant.clear(); });
  put("avgpool_requant_short.pwt", enc,
      [&](QuantizedModel& q) { find(q, QLayer::Kind::AvgPool).requant.resize(2); });
  put("global_avgpool_requant_empty.pwt", digits,
      [&](QuantizedModel& q) { find(q, QLayer::Kind::GlobalAvgPool).requant.clear(); });
  put("shape_table_misses_layer.pwt", digits,
      [](QuantizedModel& q) { q.graph.shapes.erase(q.layers[1].output); });
  put("shape_table_wrong.pwt", digits,
      [](QuantizedModel& q) { q.graph.shapes[q.layers[1].output][1] += 7; });
  put("layer_name_not_utf8.pwt", digits, [](QuantizedModel& q) { q.layers[0].name += "\xff"; });
  put("pool_stride_0.pwt", digits, [](QuantizedModel& q) {
    for (auto& n : q.graph.nodes)
      if (n.op == "MaxPool") n.attrs["strides"].ints = {0, 0};
  });
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: fuzz_make_pwt SOURCE_DIR\n";
    return 1;
  }
  const std::string src = argv[1];
  const fs::path fuzz = fs::path(src) / "tests" / "fuzz";
  const QuantizedModel digits =
      quantized(src, "digits_dscnn/digits_dscnn.onnx", "digits_dscnn/calib.npy");
  const QuantizedModel enc = quantized(src, "ds_cae1/encoder.onnx", "ds_cae1/calib.npy");
  for (const std::string e : {"auto", "dense", "csr", "bitmap", "rle"})
    save(fuzz / "corpus" / "pwt" / ("digits_" + e + ".pwt"), bytes_of(digits, e));
  save(fuzz / "corpus" / "pwt" / "encoder_auto.pwt", bytes_of(enc));
  encoding_seeds(fuzz / "corpus" / "encodings");
  hostile(fuzz / "regressions" / "pwt", digits, enc);
  return 0;
}
