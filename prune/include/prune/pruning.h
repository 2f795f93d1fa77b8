// Pruning schemes: the interface every scheme implements, the registry that finds them by name,
// and the shared vocabulary (prunable layers, masks, the PE mapping of the balanced scheme).
// A scheme is one .cpp in prune/src/schemes/ that registers itself with PRUNESIM_REGISTER_SCHEME;
// it takes a float graph and returns a pruned float graph plus masks and per-layer notes.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "prune/ir.h"

namespace prunesim {

// A layer whose constant weight a scheme may prune. The weight is viewed as a matrix
// [rows, cols]: rows = output channels (Conv: M; Gemm: N; ConvTranspose: M too, gathered from
// its [C, M/group, k] layout), cols = the reduction one output channel sums over.
struct PrunableLayer {
  std::string node;    // node name
  std::string op;      // Conv, ConvTranspose, Gemm, MatMul
  std::string weight;  // initializer name
  Shape shape;         // the initializer's shape
  int64_t rows = 0;    // output channels
  int64_t cols = 0;    // reduction length per output channel
  int64_t group = 1;
  bool depthwise = false;
  bool col_major = false;  // weight stored [cols, rows] (Gemm without transB, MatMul)
  // Flat index into the initializer of matrix element (row, col).
  int64_t index(int64_t row, int64_t col) const;
};
std::vector<PrunableLayer> prunable_layers(const Graph& g);

// keep[k] = 1 if element k of the weight initializer survives. Keyed by initializer name.
using MaskMap = std::map<std::string, std::vector<uint8_t>>;

// Hardware mapping used by the balanced scheme and by the weight-table `balanced` encoding:
// output channel rows are interleaved over `pes` PEs (row m on PE m mod P, rows/P each), and PEs
// into clusters of `cluster` neighbours. A group is (column, PE): the rows/pes weights one PE
// multiplies with one broadcast input activation.
struct PeMapping {
  int64_t pes = 16;
  int64_t cluster = 4;
};

struct SchemeOptions {
  double sparsity = 0.5;  // fraction of weights removed, in [0, 1)
  bool global = false;    // magnitude: one threshold over all layers
  int64_t n = 2, m = 4;   // nm: keep n of every m consecutive weights along the reduction
  std::vector<int64_t> block = {1, 4};  // block: [rows, cols] of a block
  PeMapping pe;
  double p = 8.0;  // balanced: sampling weight |w|^p; inf = balanced magnitude (docs/schemes.md)
  std::string variant = "pattern";  // balanced: "pattern" (shared per cluster) or "lfsr"
  uint64_t seed = 1;
  std::string criterion;               // channel: l1|l2; similarity: cosine|correlation
  double threshold = 0.0;              // similarity: merge when similarity >= threshold (if > 0)
  std::string mask_file;               // mask: .npz or ONNX holding the masks to import
  std::string granularity = "weight";  // polarization: weight | channel gates
};

// Data a scheme may use (any pointer may be null: schemes that need one say so with InputError).
struct SchemeResult;
struct SchemeOptions;
struct PruneData {
  const Tensor* calib = nullptr;   // [N, ...input]
  const Tensor* eval = nullptr;    // [N, ...input]
  const Tensor* labels = nullptr;  // [N] class ids or targets
  // Schemes that train (polarization) call this with their name; the commands that train set it
  // (this library never links the training engine), so null means "no training available".
  std::function<SchemeResult(const std::string& scheme, const Graph&,
                             const std::vector<std::string>& layers, const SchemeOptions&)>
      train_scheme;
};

struct SchemeResult {
  Graph graph;    // pruned float graph (masked weights are exact zeros)
  MaskMap masks;  // element masks of the pruned weights (structured schemes: of the new shapes)
  nlohmann::json notes;  // per-layer facts worth reporting (groups left whole, storage, …)
};

class Scheme {
 public:
  virtual ~Scheme() = default;
  virtual std::string name() const = 0;
  virtual std::string description() const = 0;
  // Prunes `layers` (node names; all prunable layers when empty). InputError on bad options.
  virtual SchemeResult apply(const Graph& g, const std::vector<std::string>& layers,
                             const SchemeOptions& o, const PruneData& d) const = 0;
};

using SchemeFactory = std::function<std::unique_ptr<Scheme>()>;
struct SchemeRegistrar {
  SchemeRegistrar(const std::string& name, SchemeFactory f);
};
// InputError naming the scheme and listing the known ones when `name` is not registered.
std::unique_ptr<Scheme> make_scheme(const std::string& name);
std::vector<std::string> scheme_names();

#define PRUNESIM_REGISTER_SCHEME(NAME, CLASS)                \
  static ::prunesim::SchemeRegistrar registrar_##CLASS(NAME, \
                                                       [] { return std::make_unique<CLASS>(); })

// Helpers shared by schemes.
// Zeroes the weights whose mask is 0 in a copy of g.
Graph apply_masks(const Graph& g, const MaskMap& masks);
// Fraction of zeros over the given weights (all prunable layers if empty).
double weight_sparsity(const Graph& g, const std::vector<std::string>& weights = {});
// Selected layers: `layers` names (InputError for an unknown or non-prunable name), or all.
std::vector<PrunableLayer> select_layers(const Graph& g, const std::vector<std::string>& layers);
void check_sparsity(double s);  // InputError unless 0 <= s < 1

// The N:M pattern closest to sparsity s: M in {4, 8}, N = round((1 - s) M) clamped to [1, M],
// whichever M lands closer to s (ties: M = 4). What `prune --scheme nm --sparsity s` and `sweep`
// use.
void nm_for_sparsity(double s, int64_t* n, int64_t* m);

}  // namespace prunesim
