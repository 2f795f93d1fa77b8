// ONNX import (opsets 11–17) into the graph IR, and TensorProto (.pb) reading. Import checks
// every node against the supported op/attribute set, so a model that loads is a model that runs:
// an unsupported op or attribute is an InputError naming the node, the op and the attribute.
#pragma once

#include <map>
#include <string>

#include "prune/ir.h"

namespace prunesim {

struct ImportOptions {
  bool fold_batchnorm = true;  // fold BN into the preceding Conv/Gemm where that is exact
  bool simplify = true;        // drop Identity/Dropout, turn Constant nodes into initializers
  // Graph inputs (by position among the non-initializer inputs) to freeze as constants, e.g. the
  // `scales` input of a Resize that a model leaves as an input.
  std::map<size_t, Tensor> bind_inputs;
};

// Loads, validates, simplifies and shape-infers. Throws InputError on any problem.
Graph load_onnx(const std::string& path, const ImportOptions& opt = {});
// The same from bytes already in memory (`source` names them in errors).
Graph parse_onnx(const std::string& bytes, const std::string& source,
                 const ImportOptions& opt = {});

// A serialized onnx.TensorProto file (the libonnx-testdata input_*.pb/output_*.pb).
Tensor load_tensor_pb(const std::string& path);

// Writes the graph back as ONNX (initializers from the graph; used by later issues to emit
// pruned models). Atomic.
void save_onnx(const Graph& g, const std::string& path);
// The bytes save_onnx writes (`path` names the file in errors): for commands that write several
// outputs all or none (write_files_atomic).
std::string onnx_bytes(const Graph& g, const std::string& path);

}  // namespace prunesim
