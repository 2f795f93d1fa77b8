// Conformance of the float reference executor against Debian's libonnx-testdata: every model in
// node/, pytorch-converted/ and pytorch-operator/ whose ops and attributes we support is run on
// each shipped data set and compared with output_*.pb (rtol 1e-4, atol 1e-5).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "prune/errors.h"
#include "prune/executor.h"
#include "prune/onnx_io.h"

namespace fs = std::filesystem;
using namespace prunesim;

namespace {

const char* kRoot = "/usr/share/libonnx-testdata/data";

std::vector<fs::path> sorted_files(const fs::path& dir, const std::string& prefix) {
  std::vector<fs::path> r;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().rfind(prefix, 0) == 0) r.push_back(e.path());
  // input_10.pb must come after input_9.pb
  std::sort(r.begin(), r.end(), [&](const fs::path& a, const fs::path& b) {
    auto num = [&](const fs::path& p) {
      std::string s = p.stem().string().substr(prefix.size());
      return std::stoi(s.empty() ? "0" : s);
    };
    return num(a) < num(b);
  });
  return r;
}

struct Outcome {
  enum { Passed, Skipped, Failed } kind;
  std::string why;
};

// Models that leave shape-like inputs (Resize scales/sizes, Reshape shape) as graph inputs are
// run with every input but the first frozen to the data set's values, as a deployment would.
bool needs_binding(const std::string& why) {
  return why.find("must be a constant initializer") != std::string::npos ||
         why.find("graph input of type int64") != std::string::npos;
}

Outcome run_case(const fs::path& dir) {
  Graph g;
  bool bind = false;
  try {
    g = load_onnx((dir / "model.onnx").string());
  } catch (const UnsupportedError& e) {
    if (!needs_binding(e.what())) return {Outcome::Skipped, e.what()};
    bind = true;
  } catch (const std::exception& e) {
    return {Outcome::Failed, std::string("import: ") + e.what()};
  }
  int sets = 0;
  for (const auto& ds : sorted_files(dir, "test_data_set_")) {
    auto ins = sorted_files(ds, "input_");
    if (bind) {
      ImportOptions opt;
      try {
        for (size_t k = 1; k < ins.size(); ++k)
          opt.bind_inputs[k] = load_tensor_pb(ins[k].string());
      } catch (const InputError& e) {
        return {Outcome::Skipped, std::string("input is not a tensor: ") + e.what()};
      }
      try {
        g = load_onnx((dir / "model.onnx").string(), opt);
      } catch (const UnsupportedError& e) {
        return {Outcome::Skipped, e.what()};
      } catch (const std::exception& e) {
        return {Outcome::Failed, std::string("import (inputs bound): ") + e.what()};
      }
      ins.resize(1);
    }
    auto outs = sorted_files(ds, "output_");
    TensorMap feed;
    std::vector<Tensor> expect;
    try {
      for (size_t k = 0; k < ins.size(); ++k) {
        Tensor t = load_tensor_pb(ins[k].string());
        if (!t.is_float()) return {Outcome::Skipped, "non-float input data"};
        if (k < g.inputs.size()) feed[g.inputs[k].name] = t;
      }
      for (const auto& o : outs) {
        Tensor t = load_tensor_pb(o.string());
        if (!t.is_float()) return {Outcome::Skipped, "non-float output data"};
        expect.push_back(t);
      }
    } catch (const UnsupportedError& e) {
      return {Outcome::Skipped, e.what()};
    }
    if (feed.size() != g.inputs.size())
      return {Outcome::Failed, "data set has " + std::to_string(ins.size()) + " inputs, model " +
                                   std::to_string(g.inputs.size())};
    TensorMap got;
    try {
      got = run_float(g, feed);
    } catch (const std::exception& e) {
      return {Outcome::Failed, std::string("run: ") + e.what()};
    }
    for (size_t k = 0; k < expect.size() && k < g.outputs.size(); ++k) {
      const Tensor& y = got.at(g.outputs[k].name);
      const Tensor& e = expect[k];
      if (numel(y.shape) != numel(e.shape) || (y.shape != e.shape && !e.shape.empty()))
        return {Outcome::Failed, ds.filename().string() + " output " + std::to_string(k) +
                                     " shape " + shape_str(y.shape) + " != " + shape_str(e.shape)};
      for (size_t i = 0; i < e.f.size(); ++i) {
        const double a = y.f[i], b = e.f[i];
        const bool both_nan = std::isnan(a) && std::isnan(b);
        if (!both_nan && !(std::fabs(a - b) <= 1e-5 + 1e-4 * std::fabs(b)))
          return {Outcome::Failed, ds.filename().string() + " output " + std::to_string(k) +
                                       " element " + std::to_string(i) + ": got " +
                                       std::to_string(a) + ", want " + std::to_string(b)};
      }
    }
    ++sets;
  }
  if (sets == 0) return {Outcome::Skipped, "no data sets"};
  return {Outcome::Passed, ""};
}

}  // namespace

TEST(OnnxConformance, LibonnxTestdata) {
  if (!fs::exists(kRoot)) GTEST_SKIP() << kRoot << " missing: install libonnx-testdata";
  int ran = 0, passed = 0, skipped = 0;
  std::vector<std::string> failures;
  for (const char* suite : {"node", "pytorch-converted", "pytorch-operator"}) {
    std::vector<fs::path> dirs;
    for (const auto& e : fs::directory_iterator(fs::path(kRoot) / suite))
      if (fs::exists(e.path() / "model.onnx")) dirs.push_back(e.path());
    std::sort(dirs.begin(), dirs.end());
    for (const auto& d : dirs) {
      Outcome o = run_case(d);
      if (o.kind == Outcome::Skipped) {
        if (std::getenv("PRUNESIM_VERBOSE"))
          std::cout << "skip " << d.filename() << ": " << o.why << "\n";
        ++skipped;
        continue;
      }
      ++ran;
      if (o.kind == Outcome::Passed)
        ++passed;
      else
        failures.push_back(std::string(suite) + "/" + d.filename().string() + ": " + o.why);
    }
  }
  for (const auto& f : failures) std::cout << "FAIL " << f << "\n";
  std::cout << "libonnx-testdata conformance: ran " << ran << " models, passed " << passed
            << ", failed " << failures.size() << ", skipped " << skipped
            << " (unsupported ops, attributes or data types)\n";
  RecordProperty("ran", ran);
  RecordProperty("passed", passed);
  EXPECT_TRUE(failures.empty());
  // Guards against an importer regression that turns everything into "unsupported".
  EXPECT_GE(ran, 320);
}
