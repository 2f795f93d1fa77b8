// Recipe JSON text -> Recipe, against a zoo model (loaded once): rules, schemes and their
// parameters, layer globs.
#include <fstream>
#include <sstream>

#include "fuzz_common.h"
#include "prune/onnx_io.h"
#include "prune/pipeline.h"

namespace {
const prunesim::Graph& model() {
  static const prunesim::Graph g = [] {
    const char* dir = std::getenv("PRUNESIM_SOURCE_DIR");
    return prunesim::load_onnx(std::string(dir ? dir : PRUNESIM_SOURCE_DIR) +
                               "/zoo/digits_dscnn/digits_dscnn.onnx");
  }();
  return g;
}
}  // namespace

PRUNESIM_FUZZ_TARGET(prunesim::parse_recipe(input, "fuzz.json", model()))
