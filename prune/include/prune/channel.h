// Channel (filter) pruning with dependency groups, shared by the `channel` and `similarity`
// schemes: which output channels must go together, and two ways of removing them — zeroed in
// place (channel_masked, same shapes) or cut out of every tensor (channel_physical, smaller graph
// with the removed channels' constant contribution folded into the next layer's bias).
// Contract: channel_physical(g, p) computes what channel_masked(g, p) computes, to float rounding;
// a plan it cannot honour exactly is an InputError, never a silent approximation.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "prune/ir.h"

namespace prunesim {

// Channel `channel` (tensor dimension 1) of activation `value`.
struct ChannelRef {
  std::string value;
  int64_t channel = 0;
};

// Output channel (filter) `channel` of producer node `node` (Conv, ConvTranspose, Gemm, MatMul).
struct FilterRef {
  std::string node;
  int64_t channel = 0;
};

// A layer that multiplies channel `channel` of `value` into its outputs through its weight:
// removing the channel removes that input slice of the layer's weight.
struct ChannelUse {
  std::string node;
  std::string value;
  int64_t channel = 0;
};

// The unit of removal: a set of activation channels that only exist together (a filter, what
// element-wise ops, residual joins, Concat offsets, depthwise convs and Flatten make of it).
struct ChannelSlot {
  std::vector<FilterRef> filters;  // producer filters that go (graph node order)
  std::vector<ChannelRef> values;  // every activation channel that goes with them
  std::vector<ChannelUse> uses;    // weight inputs that read those channels
  // Whether channel_physical can fold the removed channels' constant exactly (see fold_note).
  bool exact_fold = true;
  std::string fold_note;  // why not, when !exact_fold
};

// Producers whose output channels are coupled (they share at least one slot, e.g. both operands
// of a residual Add). Pruning takes whole slots, so all of a group's producers shrink together.
struct ChannelGroup {
  std::vector<std::string> producers;  // graph node order
  std::vector<ChannelSlot> slots;      // ordered by (first producer, its channel)
  bool prunable = true;
  std::string reason;  // why the group is left whole (reaches an output, Reshape, grouped conv …)
  int64_t channels() const { return static_cast<int64_t>(slots.size()); }
};

struct ChannelAnalysis {
  std::vector<ChannelGroup> groups;  // ordered by the first producer's position in the graph
};

// Finds the dependency groups of g (shapes must be inferred) and, for every slot of a prunable
// group, whether its constant can be folded exactly (one inference of the fully masked graph on a
// zero input).
ChannelAnalysis analyze_channels(const Graph& g);

// Channels to remove, by producer: node name → output channel indices. A plan is closed over the
// dependency groups by the functions below (removing filter c of one member of a residual group
// removes slot c from every member). InputError for an unknown node, a channel out of range, a
// group left whole, or a plan that would leave a tensor without channels.
struct ChannelPlan {
  std::map<std::string, std::vector<int64_t>> remove;
};

// Same shapes; the removed filters of producers and the matching depthwise-conv filters are
// zeroed; biases and consumer weights are untouched. The reference the physical graph must match.
Graph channel_masked(const Graph& g, const ChannelPlan& p);
// Smaller graph: removed channels are cut from producer weights and biases, depthwise convs,
// per-channel constants (BatchNormalization, Add/Mul operands, Resize sizes) and every consumer's
// input slice; their constant value in the masked graph is folded into the consumer's bias.
// Shapes re-inferred. InputError if a slot in the plan has !exact_fold.
Graph channel_physical(const Graph& g, const ChannelPlan& p);
// Smaller graph like channel_physical but the removed channels' contribution is dropped, not
// folded: for callers that have already moved it elsewhere (the similarity merge zeroes the
// consumer columns first), so the cut is exact by construction.
Graph channel_cut(const Graph& g, const ChannelPlan& p);

// --- pieces shared with the similarity scheme -------------------------------------------------

// Whether a constant added to channel `use.channel` of the consumer's input can be folded into
// its bias exactly: Conv without padding, or Gemm. (Padded Conv border taps read the zero
// padding, ConvTranspose edges collect fewer taps, MatMul has no bias.)
bool bias_foldable(const Graph& g, const std::string& consumer);
// In the consumer's weight: column `into` += alpha · column `from` (the input-channel slices) and
// bias += beta · Σ column `from`. `beta` must be 0 unless bias_foldable. Then column `from` is
// zeroed, so that channel no longer contributes and channel_cut can drop it exactly.
void absorb_channel(Graph& g, const std::string& consumer, int64_t from, int64_t into, double alpha,
                    double beta);
// Per weight layer of `before` (keyed by node name): input and output channels before and after.
nlohmann::json layer_channel_notes(const Graph& before, const Graph& after);

}  // namespace prunesim
