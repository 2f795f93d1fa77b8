// Pruning schemes: the interface every scheme implements, the registry that finds them by name,
// and the shared vocabulary (prunable layers, masks, the PE mapping of the balanced scheme).
// A scheme is one .cpp in prune/src/schemes/ that registers itself with PRUNESIM_REGISTER_SCHEME;
// it declares its own options (params(): name, type, default, unit, range, meaning), from which
// the CLI builds its flags and recipes their keys, and the properties the pipeline and the CLI
// ask about (traits()); it takes a float graph and returns a pruned float graph plus masks and
// per-layer notes.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/params.h"
#include "base/registry.h"
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

// What every scheme is given: the options all schemes share, and its own params() resolved
// (resolve_scheme_params; Scheme::apply fills in the defaults of any left out).
struct SchemeOptions {
  double sparsity = 0.5;  // fraction of weights removed, in [0, 1)
  uint64_t seed = 1;      // seed of every random choice (schemes that draw, recovery)
  ParamValues params;     // the scheme's own options, by ParamSpec name
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

// What the pipeline and the CLI need to know about a scheme, declared by it instead of tested
// by name.
struct SchemeTraits {
  // Removes whole channels (the graph shrinks): a schedule step asks for the share of what is
  // left, and masks of reshaped weights are rebuilt.
  bool removes_channels = false;
  // Its --sparsity is a per-layer target it meets (a layer ending short of it is warned about);
  // false for schemes whose sparsity follows from other options or from data.
  bool meets_sparsity = false;
};

class Scheme {
 public:
  virtual ~Scheme() = default;
  virtual std::string name() const = 0;  // defined by PRUNESIM_REGISTER_SCHEME
  virtual std::string description() const = 0;
  // The scheme's own options: a flag --NAME (underscores as dashes) of `prune`, a key of recipe
  // rules. Options of one name in several schemes share the flag; each scheme keeps its default.
  virtual std::vector<ParamSpec> params() const { return {}; }
  virtual SchemeTraits traits() const { return {}; }
  // Checks that needs several options at once (nm: N <= M); InputError text without a place
  // (the caller names the flag or the recipe rule).
  virtual void check(const ParamValues&) const {}
  // Not "" when every run draws a fresh pattern (so steps of a schedule would AND unrelated
  // patterns): the label the refusal names ("random", "balanced lfsr").
  virtual std::string redraws(const ParamValues&) const { return ""; }
  // The options a sweep row names ("n:m=2:4", "pes=16 cluster=4"), or "".
  virtual std::string options_label(const ParamValues&) const { return ""; }
  // Why a layer may end below the asked sparsity (the warning adds it), or "".
  virtual std::string shortfall_reason(const ParamValues&) const { return ""; }
  // Schemes whose sparsity follows from their options (nm: 1 - N/M) set them from a requested
  // sparsity; returns the names set (empty: the scheme takes --sparsity as it is) and a note
  // saying what was chosen.
  virtual std::vector<std::string> params_for_sparsity(double, ParamValues*, std::string*) const {
    return {};
  }
  // Prunes `layers` (node names; all prunable layers when empty). InputError on bad options.
  // o.params may leave options out (their defaults are used); one the scheme does not declare
  // is an InputError.
  SchemeResult apply(const Graph& g, const std::vector<std::string>& layers, const SchemeOptions& o,
                     const PruneData& d) const;
  // `given` with the defaults of the options it leaves out (what the virtuals above take);
  // InputError for an option the scheme does not declare.
  ParamValues complete(const ParamValues& given) const;

 protected:
  // apply() with every declared option present in o.params.
  virtual SchemeResult run(const Graph& g, const std::vector<std::string>& layers,
                           const SchemeOptions& o, const PruneData& d) const = 0;
};

Registry<Scheme>& scheme_registry();
// InputError naming the scheme and listing the known ones when `name` is not registered.
const Scheme* make_scheme(const std::string& name);
std::vector<std::string> scheme_names();

// The scheme's params() with `given` (JSON values by name) applied and checked; `where(name)`
// names an option in errors ("--n", "recipe.json: rules[0].n"). InputError for an option the
// scheme does not declare, a bad value or a failed Scheme::check.
ParamValues resolve_scheme_params(const Scheme& s, const nlohmann::json& given,
                                  const std::function<std::string(const std::string&)>& where);

#define PRUNESIM_REGISTER_SCHEME(NAME, CLASS) \
  PRUNESIM_REGISTER_IN(::prunesim::scheme_registry, NAME, CLASS)

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
