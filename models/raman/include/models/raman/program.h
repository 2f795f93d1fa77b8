// The layer program of the RAMAN-like core, compiled from a weight table: per layer its mode
// (broadcast = Gustavson row-wise dataflow, lane = channel-parallel), geometry, the weight groups
// each PE streams per broadcast activation, the weight-memory image size per encoding, and the
// activation-memory allocation with IA and OA overlapping in place. Both the SystemC model and
// the analytical twin execute this program, so they cannot disagree about what runs.
// docs/raman.md describes the micro-architecture and the timing rules.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hls/arith.h"
#include "models/raman/counts.h"
#include "prune/pruning.h"
#include "prune/quant.h"
#include "prune/tables.h"

namespace prunesim::raman {

// An activation tensor in the activation memory: [positions][channels], byte per code, so the
// channels of one position are contiguous (lane mode reads them as one word).
// A channel slice of a wider tensor (a folding pass, a Concat part) is a view: `base` points at
// its first channel and `stride` is the wider tensor's bytes per position.
struct ActBuffer {
  int64_t base = 0;
  int64_t c = 1, h = 1, w = 1;  // logical NCHW (batch 1); 1-D tensors have h = 1
  int64_t stride = 0;           // bytes per position in memory; 0: c (not a view)
  int64_t pitch() const { return stride > 0 ? stride : c; }
  int64_t bytes() const { return c * h * w; }
  int64_t addr(int64_t ch, int64_t y, int64_t x) const { return base + (y * w + x) * pitch() + ch; }
  // Channels [c0, c0 + n) of this buffer.
  ActBuffer slice(int64_t c0, int64_t n) const {
    ActBuffer v = *this;
    v.base = base + c0;
    v.c = n;
    v.stride = pitch();
    return v;
  }
};

// One weight a PE multiplies with a broadcast activation: the accumulator slot it adds into.
struct Entry {
  int32_t slot;  // accumulator index in the PE (row = pe + slot * pes)
  int8_t w;
};

enum class Mode { Broadcast, Lane, None };
// The encoding as the decoders see it (LayerProgram::encoding names it for reports).
enum class Enc { None, Dense, Bitmap, Csr, Balanced };

struct LayerProgram {
  size_t qlayer = 0;  // index in QuantizedModel::layers
  std::string name, op, kind, encoding;
  Enc enc = Enc::None;
  QLayer::Kind qkind = QLayer::Kind::Move;
  Mode mode = Mode::None;
  ActBuffer in, out;
  ActBuffer in2;  // residual Add, Mul: the second operand (same shape as `in`, or per channel)
  // Mul (squeeze-excite): in2 is one value per channel ([1, C, 1, 1]), its word read at position 0
  // for every output position.
  bool bcast2 = false;
  // Geometry (2-D; 1-D has kh = 1, ih = 1).
  int64_t kh = 1, kw = 1, sh = 1, sw = 1, dh = 1, dw = 1, pt = 0, pl = 0;
  bool transpose = false;   // ConvTranspose gather
  bool flat_input = false;  // Gemm: reduction index k reads channel k / (h*w), position k % (h*w)
  int64_t rows = 0, cols = 0;  // broadcast: matrix view [out channels, reduction]
  int64_t pes = 1;             // PEs holding rows (P' = min(pe_count, rows)); lane mode: lanes
  int64_t slots = 1;           // accumulators used per PE (ceil(rows / pes)); lane: tiles
  int64_t clusters = 1, cluster = 1;
  // Broadcast: groups [col][pe] -> entries in [group_off[col*pes+pe], group_off[...+1]).
  std::vector<Entry> entries;
  std::vector<int64_t> group_off;
  std::vector<int32_t> col_work;  // cycles the array needs per broadcast of column r (0: skip)
  std::vector<int32_t> group_nz;  // non-zero weights per group (gating, MAC counts)
  std::vector<int64_t> col_nz;    // non-zero weights per column (sum of its groups)
  // Lane mode (depthwise, pooling, clamp): weight per [channel][tap] (depthwise) and a kept flag.
  std::vector<int8_t> lane_w;
  std::vector<uint8_t> lane_keep;
  std::vector<uint8_t> tap_skip;   // [tile][tap]: no kept weight in the tile (depthwise)
  std::vector<int64_t> lane_bits;  // [tile][tap]: weight-memory bits of one word (depthwise)
  std::vector<int64_t> lane_kept;  // [tile][tap]: kept weights the decoder yields
  // Post-processing.
  std::vector<int32_t> bias;          // per output channel (broadcast, depthwise)
  std::vector<hls::Requant> requant;  // per output channel, or by window count (avgpool)
  int8_t act_min = hls::kInt8Min, act_max = hls::kInt8Max;
  std::vector<int8_t> lut;  // Sigmoid/Tanh/LeakyRelu: the PPU's table, lut[q + 128]
  // Channel copy (a Move that gathers channels at the same positions: channel shuffle, split):
  // the source tiles (P' channels each, of `in`) a pass loads into slots 0.., and per output
  // channel of the pass the lane and slot the drain reads it from.
  std::vector<int64_t> src_tiles;
  std::vector<int32_t> gather_pe, gather_slot;
  bool count_include_pad = false;    // avgpool
  int64_t pool_pb = 0, pool_pr = 0;  // avgpool bottom/right pads (count_include_pad)
  // Energy bookkeeping of the weight-memory image (docs/raman.md "weight memory image").
  std::vector<int64_t> group_bits;  // bits read from weight memory per broadcast of column r
  int64_t weight_base = 0, weight_bytes = 0;
  int64_t csr_index_bits = 8;
  bool lfsr = false;
  std::vector<int64_t> col_lfsr_steps;  // LFSR advances the decoders make per broadcast of r
  // The weight-memory image the SystemC decoders parse (docs/raman.md "Weight memory image"),
  // byte-aligned per group. Broadcast: column r starts at col_addr[r] (the column pointer table).
  // Lane (depthwise): word (tile, tap) starts at col_addr[tile * taps + tap].
  std::vector<uint8_t> image;
  std::vector<int64_t> col_addr;
  std::vector<uint16_t> col_lfsr_state;  // balanced/lfsr: LFSR state where column r starts
  int64_t lfsr_k = 0;                    // balanced/lfsr: kept slots per group
  int64_t macs_dense = 0;                // per inference
  // Balanced LFSR in a folding pass: the decoder draws over the whole group's lfsr_slots slots
  // and keeps the ones in [lfsr_slot0, lfsr_slot0 + slots) (0, 0: the pass is the whole group).
  int64_t lfsr_slots = 0, lfsr_slot0 = 0;
  // Output-channel folding (docs/raman.md "Folding"): a layer with more output channels (or, in
  // lane mode, channels) than pe_count x acc_per_pe accumulators hold runs as several passes,
  // each a complete layer program over a contiguous channel range [pass_c0, pass_c0 + c) of the
  // output (and, lane mode, of the input). A folded layer keeps its full in/out buffers and the
  // summed weight bytes and MACs; the core runs `passes` in order and counts them all into this
  // layer. Empty: the layer runs as itself.
  std::vector<LayerProgram> passes;
  int64_t pass_c0 = 0;     // first channel of this pass in the layer's output
  int64_t pass_in_c0 = 0;  // first channel of this pass in its input (lane passes; NCHW offset)
  size_t pass_input = 0;   // Concat: the input this pass copies
  int64_t positions() const { return out.h * out.w; }
  // Residual Add and Mul read a word of each operand and drain two cycles per output group.
  bool two_operands() const { return qkind == QLayer::Kind::Add || qkind == QLayer::Kind::Mul; }
  // The programs the core runs for this layer: the passes, or the layer itself.
  std::vector<const LayerProgram*> runs() const {
    std::vector<const LayerProgram*> r;
    if (passes.empty()) r.push_back(this);
    for (const LayerProgram& p : passes) r.push_back(&p);
    return r;
  }
};

struct RamanProgram {
  RamanConfig cfg;
  std::string source;
  std::vector<LayerProgram> layers;
  ActBuffer input, output;
  float input_scale = 1.f, output_scale = 1.f;
  Shape output_shape;  // batch-1 output shape of the graph
  int64_t weight_bytes = 0;
  int64_t act_peak = 0, act_peak_no_overlap = 0;  // largest IA+OA footprint of one layer
  int64_t act_used = 0;   // span the allocation takes from the top of the memory (all layers)
  int64_t acc_bound = 0;  // largest |accumulator| any layer can produce
  std::vector<int64_t> act_span;  // per layer: the span the allocation up to it takes
};

// What the model needs of the core's sizes: the activation memory of the in-place allocation,
// the weight memory, the accumulator width; and, per need, the first layer that exceeds cfg.
struct FitNeeds {
  int64_t act_mem_bytes = 0, weight_mem_bytes = 0, acc_bits = 8;
  // Where each first runs out ("layer 'x'", "input 'x'"); "" when cfg is large enough.
  std::string act_layer, weight_layer, acc_layer;
  bool fits(const RamanConfig& c) const {
    return act_mem_bytes <= c.act_mem_bytes && weight_mem_bytes <= c.weight_mem_bytes &&
           acc_bits <= c.acc_bits;
  }
};

// Compiles against unbounded memories and 32-bit accumulators (so every other refusal, naming
// its layer, comes first) and returns what the model needs.
FitNeeds fit_needs(const QuantizedModel& q, const TableSummary& summary, const MaskMap& masks,
                   const RamanConfig& cfg, const std::string& source);
// The one-line error of a model that does not fit: "<source>: does not fit the raman core: set
// act_mem_bytes >= N (activations do not fit from layer 'x': the core has M B, short by K B), ...".
std::string fit_message(const FitNeeds& n, const RamanConfig& cfg, const std::string& source);

// The balanced LFSR variant's slots of one group, in draw order: advance `state` until k distinct
// slots of `slots` are drawn (prune/balanced.h lfsr_slot_mask order). Returns the advances made.
int64_t lfsr_group_slots(uint16_t* state, int64_t slots, int64_t k, std::vector<int32_t>* out);

// The weight-table encodings the decoders implement, in the order refusals list them (what
// `prune --target raman` may write).
std::vector<std::string> decoded_encodings();

// Compiles the table, checking first that the whole model fits (fit_needs; InputError with
// fit_message naming every --set value that makes it fit). InputError "<source>: layer 'x': ..."
// for a layer the core cannot run
// (unsupported op, grouped conv that is not depthwise, too many accumulators per PE, an
// accumulator narrower than the layer needs, a balanced encoding made for another PE mapping),
// an encoding the target does not accept, or memories that are too small (naming the layer and
// the shortfall in bytes).
RamanProgram compile(const QuantizedModel& q, const TableSummary& summary, const MaskMap& masks,
                     const RamanConfig& cfg, const std::string& source);

// Counts and cycles of one inference without event simulation, from the program and the input
// codes of every layer (NCHW, batch 1, as the integer reference produces them): in[i] is the
// input of layers[i]. Exactly what the SystemC model measures (tests).
void analytical_layer(const LayerProgram& L, const RamanConfig& cfg, const int8_t* in,
                      LayerCounts* c);
// Adds DMA cycles and totals around the per-layer counts of one inference.
void finish_counts(const RamanProgram& p, RamanCounts* c);
LayerCounts empty_counts(const LayerProgram& L, const RamanConfig& cfg);
// Non-zero weights met over every structurally present (position, tap) of one inference: the
// MACs a dense-activation run would execute. macs_dense - this = skipped for pruned weights.
int64_t nonzero_weight_taps(const LayerProgram& L);

}  // namespace prunesim::raman
