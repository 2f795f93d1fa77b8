// SystemC model of the RAMAN-like core. Processes run on one clock (2 MHz by default):
//   Dma (SC_THREAD)        host <-> activation memory, dma_bytes_per_cycle per cycle
//   Controller (SC_THREAD) steps the layer program: setup, then per output position
//                          init -> stream (zero detector) -> flush -> drain (PPU)
//   ZeroDetector (SC_THREAD) fetches one candidate activation (broadcast mode) or one channel
//                          word (lane mode) per cycle, drops zeros, posts non-zero ones to the
//                          PE array and waits while the array consumes them
//   PeArray (SC_METHOD)    one step per cycle of the active broadcast: each cluster's decoder
//                          yields the next kept weight of each PE, the PE multiplies-accumulates
//   Ppu (SC_THREAD)        requantize/clamp/pool-finish ppu_lanes accumulators per cycle and
//                          write them to the activation memory
// Units hand work over with events and stamp the cycle the receiver starts in, so the timing is
// exactly the rule in timing.cpp; idle processes sleep instead of waking every cycle.
#include "models/raman/core.h"

#include <algorithm>
#include <cstdlib>
#include <systemc>

#include "hls/arith.h"
#include "hls/eltwise.h"
#include "hls/pool.h"

namespace prunesim::raman {
namespace {

using namespace sc_core;

int64_t ceil_div(int64_t a, int64_t b) {
  return (a + b - 1) / b;
}

// Single-port SRAM with access counting (the counts feed the energy model).
struct ActMemory {
  std::vector<int8_t> mem;
  int64_t reads = 0, read_bytes = 0, writes = 0, write_bytes = 0;
  int8_t read(int64_t a) {
    if (a < 0 || a >= static_cast<int64_t>(mem.size()))
      throw std::logic_error("activation memory read out of range: " + std::to_string(a));
    return mem[static_cast<size_t>(a)];
  }
  void write(int64_t a, int8_t v) {
    if (a < 0 || a >= static_cast<int64_t>(mem.size()))
      throw std::logic_error("activation memory write out of range: " + std::to_string(a));
    mem[static_cast<size_t>(a)] = v;
  }
};

// What the zero detector posts to the PE array.
struct Broadcast {
  bool lane = false;
  int64_t col = 0;           // broadcast: weight column; lane: tap
  int64_t tile = 0;          // lane: channel tile
  int8_t a = 0;              // broadcast: the activation
  std::vector<int8_t> word;  // lane: one activation per lane
  int64_t work = 1;          // cycles the array needs
  uint64_t start = 0;        // first cycle of work
};

// A class body, not one function (ctags counts the SC_MODULE macro as one): its processes
// and helpers are each under 100 lines.
SC_MODULE(Core) {
  sc_in<bool> clk;
  const RamanProgram& prog;
  const RamanConfig& cfg;
  const std::vector<std::vector<int8_t>>& inputs;
  ActMemory act;
  std::vector<std::vector<int8_t>> outputs;
  std::vector<int64_t> sample_cycles;
  std::vector<LayerCounts> counts;  // per layer, summed over samples
  int64_t dma_cycles_in = 0, dma_cycles_out = 0;
  sc_time period;

  // Per-layer/position state the controller publishes.
  const LayerProgram* L = nullptr;
  LayerCounts* cur = nullptr;
  int64_t oy = 0, ox = 0;
  std::vector<int32_t> acc;  // [pe][slot]
  // Handshakes.
  sc_event zd_start, zd_done, ppu_start, ppu_done, pe_wake, dma_start, dma_done;
  bool dma_out_dir = false;
  bool dma_program = false;  // the one-time weight program load
  int64_t program_cycles = 0;
  size_t sample = 0;
  // Posted broadcasts waiting for the array (at most two are ever in flight: the one being
  // consumed and the next, posted in the array's last cycle of work).
  Broadcast ring[4];
  size_t ring_head = 0, ring_size = 0;
  bool has_active = false;
  size_t active_slot = 0;
  int64_t active_step = 0;
  // Trace signals.
  sc_signal<int> sig_layer, sig_position, sig_phase, sig_bcast_col, sig_bcast_act, sig_pe_busy;

  uint64_t now() const {
    return static_cast<uint64_t>(sc_time_stamp() / period);
  }

  int32_t& A(int64_t pe, int64_t slot) {
    return acc[static_cast<size_t>(pe * cfg.acc_per_pe + slot)];
  }

  SC_HAS_PROCESS(Core);
  Core(sc_module_name n, const RamanProgram& p, const std::vector<std::vector<int8_t>>& in)
      : sc_module(n), prog(p), cfg(p.cfg), inputs(in) {
    act.mem.assign(static_cast<size_t>(cfg.act_mem_bytes), 0);
    for (Broadcast& b : ring) b.word.assign(static_cast<size_t>(cfg.pe_count), 0);
    acc.assign(static_cast<size_t>(cfg.pe_count * cfg.acc_per_pe), 0);
    period = sc_time(1.0 / cfg.clock_hz, SC_SEC);
    for (const LayerProgram& l : prog.layers) counts.push_back(empty_counts(l, cfg));
    SC_THREAD(controller);
    sensitive << clk.pos();
    dont_initialize();
    SC_THREAD(dma);
    sensitive << clk.pos();
    SC_THREAD(zero_detector);
    sensitive << clk.pos();
    SC_THREAD(ppu);
    sensitive << clk.pos();
    SC_METHOD(pe_array);
    sensitive << pe_wake;
    dont_initialize();
  }

  // ---- Host DMA ------------------------------------------------------------------------------
  void dma() {
    for (;;) {
      wait(dma_start);
      wait();  // first beat on the next edge
      if (dma_program) {
        // The layer images stream into weight memory once, before the first inference. The
        // decoders then read them (docs/raman.md "Weight memory image").
        const int64_t beats =
            (prog.weight_bytes + cfg.dma_bytes_per_cycle - 1) / cfg.dma_bytes_per_cycle;
        if (beats > 1) wait(static_cast<int>(beats - 1));
        program_cycles = beats + 1;
        wait();
        dma_done.notify();
        continue;
      }
      const ActBuffer& b = dma_out_dir ? prog.output : prog.input;
      const int64_t n = b.bytes(), bpc = cfg.dma_bytes_per_cycle;
      std::vector<int8_t> out(static_cast<size_t>(dma_out_dir ? n : 0));
      int64_t beats = 0;
      for (int64_t k = 0; k < n; k += bpc) {
        // NCHW element k..k+bpc-1 moves to/from its [position][channel] address.
        for (int64_t e = k; e < std::min(n, k + bpc); ++e) {
          const int64_t hw = b.h * b.w, ch = e / hw, sp = e % hw;
          const int64_t a = b.base + sp * b.c + ch;
          if (dma_out_dir)
            out[static_cast<size_t>(e)] = act.read(a);
          else
            act.write(a, inputs[sample][static_cast<size_t>(e)]);
        }
        ++beats;
        if (k + bpc < n) wait();
      }
      // One more cycle for the completion handshake with the controller.
      if (dma_out_dir) {
        outputs.push_back(std::move(out));
        dma_cycles_out += beats + 1;
      } else {
        dma_cycles_in += beats + 1;
      }
      wait();
      dma_done.notify();
    }
  }

  // ---- Controller ----------------------------------------------------------------------------
  void controller() {
    dma_program = true;
    dma_start.notify();
    wait(dma_done);
    dma_program = false;
    for (sample = 0; sample < inputs.size(); ++sample) {
      const uint64_t s0 = now();
      dma_out_dir = false;
      dma_start.notify();
      wait(dma_done);
      for (size_t li = 0; li < prog.layers.size(); ++li) {
        cur = &counts[li];
        if (prog.layers[li].mode == Mode::None) continue;  // a view: no cycles
        // A folded layer runs its passes one after the other, each a layer of its own (setup
        // included), all counted into this layer.
        for (const LayerProgram* run : prog.layers[li].runs()) {
          L = run;
          sig_layer.write(static_cast<int>(li));
          const uint64_t l0 = now();
          sig_phase.write(0);
          if (cfg.layer_setup_cycles > 0) wait(static_cast<int>(cfg.layer_setup_cycles));
          for (int64_t pos = 0; pos < L->positions(); ++pos) {
            oy = pos / L->out.w;
            ox = pos % L->out.w;
            sig_position.write(static_cast<int>(pos));
            init_accumulators();
            sig_phase.write(1);
            wait();
            sig_phase.write(2);
            zd_start.notify();
            wait(zd_done);  // resumes in the cycle after the last candidate's work
            sig_phase.write(3);
            wait();  // flush: the last broadcast's final MAC retires
            sig_phase.write(4);
            ppu_start.notify();
            wait(ppu_done);
          }
          cur->cycles += static_cast<int64_t>(now() - l0);
        }
      }
      dma_out_dir = true;
      dma_start.notify();
      wait(dma_done);
      sample_cycles.push_back(static_cast<int64_t>(now() - s0));
    }
    sc_stop();
  }

  void init_accumulators() {
    const int64_t np = L->pes;
    for (int64_t p = 0; p < np; ++p) {
      ++cur->busy_per_pe[static_cast<size_t>(p)];
      for (int64_t s = 0; s < L->slots; ++s) {
        const int64_t ch = L->mode == Mode::Broadcast ? p + s * np : s * np + p;
        int32_t v = 0;
        if (ch < L->out.c) {
          if (!L->bias.empty()) v = L->bias[static_cast<size_t>(ch)];
          if (L->qkind == QLayer::Kind::MaxPool || L->qkind == QLayer::Kind::GlobalMaxPool)
            v = hls::kInt8Min;
          ++cur->acc_updates;
        }
        A(p, s) = v;
      }
    }
  }

  // ---- Zero detector / activation fetch ------------------------------------------------------
  Broadcast& next_slot() {
    if (ring_size >= 3) throw std::logic_error("raman: broadcast ring overflow");
    return ring[(ring_head + ring_size) % 4];
  }
  void post() {
    ring[(ring_head + ring_size) % 4].start = now() + 1;
    ++ring_size;
    pe_wake.notify(SC_ZERO_TIME);
  }

  void zero_detector() {
    for (;;) {
      wait(zd_start);  // resumes in the cycle after init: the first candidate is fetched now
      const LayerProgram& l = *L;
      const int64_t H = l.in.h, W = l.in.w, C = l.in.c, np = l.pes;
      if (l.mode == Mode::Broadcast) {
        const int64_t taps = l.kh * l.kw;
        auto cand = [&](int64_t r, int64_t addr) {
          const int64_t work = l.col_work[static_cast<size_t>(r)];
          if (work == 0) return;
          const int8_t a = act.read(addr);
          ++cur->act_reads;
          ++cur->act_read_bytes;
          ++cur->zero_checks;
          if (a == 0) {
            for (int64_t p = 0; p < np; ++p) ++cur->stalled_per_pe[static_cast<size_t>(p)];
            wait();
            return;
          }
          Broadcast& b = next_slot();
          b.lane = false;
          b.col = r;
          b.a = a;
          b.work = work;
          sig_bcast_col.write(static_cast<int>(r));
          sig_bcast_act.write(a);
          post();
          wait(static_cast<int>(work));
        };
        if (l.flat_input) {
          const int64_t hw = H * W;
          for (int64_t k = 0; k < l.cols; ++k)
            cand(k, l.in.addr(k / hw, (k % hw) / W, (k % hw) % W));
        } else {
          for (int64_t ch = 0; ch < C; ++ch)
            for (int64_t i = 0; i < l.kh; ++i)
              for (int64_t j = 0; j < l.kw; ++j) {
                int64_t iy, ix;
                if (l.transpose) {
                  const int64_t ty = oy + l.pt - i * l.dh, tx = ox + l.pl - j * l.dw;
                  if (ty < 0 || tx < 0 || ty % l.sh || tx % l.sw) continue;
                  iy = ty / l.sh;
                  ix = tx / l.sw;
                  if (iy >= H || ix >= W) continue;
                } else {
                  iy = oy * l.sh - l.pt + i * l.dh;
                  ix = ox * l.sw - l.pl + j * l.dw;
                  if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                }
                cand(ch * taps + i * l.kw + j, l.in.addr(ch, iy, ix));
              }
        }
      } else if (l.qkind == QLayer::Kind::Move) {
        copy_words(l);
      } else {
        const bool dw = l.qkind == QLayer::Kind::Conv;
        const bool add = l.two_operands();
        const bool global =
            l.qkind == QLayer::Kind::GlobalAvgPool || l.qkind == QLayer::Kind::GlobalMaxPool;
        const int64_t taps = l.kh * l.kw;
        for (int64_t i = 0; i < l.kh; ++i)
          for (int64_t j = 0; j < l.kw; ++j) {
            const int64_t iy = global ? i : oy * l.sh - l.pt + i * l.dh;
            const int64_t ix = global ? j : ox * l.sw - l.pl + j * l.dw;
            if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
            const int64_t k = i * l.kw + j;
            for (int64_t t = 0; t < l.slots; ++t) {
              if (dw && l.tap_skip[static_cast<size_t>(t * taps + k)]) continue;
              const int64_t c0 = t * np, c1 = std::min(C, c0 + np);
              // An Add or Mul reads the tile's word of each operand (col 0: in, col 1: in2; a
              // per-channel gate at position 0).
              for (int64_t op = 0; op < (add ? 2 : 1); ++op) {
                const ActBuffer& src = op ? l.in2 : l.in;
                const bool gate = op && l.bcast2;
                Broadcast& b = next_slot();
                // One word: the tile's channels of one position are contiguous.
                for (int64_t ch = c0; ch < c1; ++ch)
                  b.word[ch - c0] = act.read(src.addr(ch, gate ? 0 : iy, gate ? 0 : ix));
                ++cur->act_reads;
                cur->act_read_bytes += c1 - c0;
                cur->zero_checks += c1 - c0;
                b.lane = true;
                b.col = add ? op : k;
                b.tile = t;
                b.work = 1;
                post();
                wait();
              }
            }
          }
      }
      zd_done.notify();
    }
  }

  // A channel copy: the words of the pass's source tiles at this output position, tile s into
  // slot s (the output position is the same raster position of the source).
  void copy_words(const LayerProgram& l) {
    const int64_t np = l.pes, pos = oy * l.out.w + ox;
    for (size_t s = 0; s < l.src_tiles.size(); ++s) {
      const int64_t c0 = l.src_tiles[s] * np, c1 = std::min(l.in.c, c0 + np);
      Broadcast& b = next_slot();
      for (int64_t ch = c0; ch < c1; ++ch)
        b.word[ch - c0] = act.read(l.in.addr(ch, pos / l.in.w, pos % l.in.w));
      ++cur->act_reads;
      cur->act_read_bytes += c1 - c0;
      cur->zero_checks += c1 - c0;
      b.lane = true;
      b.col = l.src_tiles[s];
      b.tile = static_cast<int64_t>(s);
      b.work = 1;
      post();
      wait();
    }
  }

  // ---- PE array with the cluster decoders ----------------------------------------------------
  void pe_array() {
    const uint64_t t = now();
    if (!has_active && ring_size > 0 && ring[ring_head].start <= t) {
      active_slot = ring_head;
      ring_head = (ring_head + 1) % 4;
      --ring_size;
      has_active = true;
      active_step = 0;
    }
    if (has_active) {
      step(ring[active_slot]);
      if (++active_step >= ring[active_slot].work) has_active = false;
    }
    if (has_active || ring_size > 0) {
      next_trigger(clk.posedge_event());
    } else {
      sig_pe_busy.write(0);
      next_trigger(pe_wake);
    }
  }

  // ---- Sparse decoders: parse the weight-memory image (docs/raman.md "Weight memory image") ---
  std::vector<std::vector<Entry>> decoded;  // per PE: the group of the active column
  std::vector<int8_t> lane_weights;         // per lane: the active depthwise word
  std::vector<int32_t> drawn, slots;  // decoder scratch, reused (the decoder is on the hot path)
  std::vector<uint8_t> pattern;

  int8_t img(const LayerProgram& l, int64_t& at) const {
    if (at >= static_cast<int64_t>(l.image.size()))
      throw std::logic_error("raman: layer '" + l.name + "': decoder read past the weight image");
    return static_cast<int8_t>(l.image[static_cast<size_t>(at++)]);
  }

  void decode_column(const LayerProgram& l, int64_t r) {
    const int64_t np = l.pes, nb = (l.slots + 7) / 8;
    decoded.resize(static_cast<size_t>(np));
    int64_t at = l.col_addr[static_cast<size_t>(r)];
    uint16_t lfsr = l.lfsr ? l.col_lfsr_state[static_cast<size_t>(r)] : 0;
    for (int64_t p = 0; p < np; ++p) {
      auto& out = decoded[static_cast<size_t>(p)];
      out.clear();
      const int64_t pslots = std::min(l.slots, (l.rows - p + np - 1) / np);  // rows on this PE
      slots.clear();
      if (l.enc == Enc::Dense) {
        for (int64_t s = 0; s < pslots; ++s) slots.push_back(static_cast<int32_t>(s));
      } else if (l.enc == Enc::Csr) {
        const int64_t n = static_cast<uint8_t>(img(l, at));
        for (int64_t i = 0; i < n; ++i) slots.push_back(static_cast<uint8_t>(img(l, at)));
      } else if (l.enc == Enc::Bitmap || (!l.lfsr && p % l.cluster == 0)) {
        pattern.assign(static_cast<size_t>(nb), 0);
        for (int64_t i = 0; i < nb; ++i)
          pattern[static_cast<size_t>(i)] = static_cast<uint8_t>(img(l, at));
      }
      if (l.enc == Enc::Bitmap || (l.enc == Enc::Balanced && !l.lfsr)) {
        // The cluster's PEs share the balanced pattern; bitmap has one per PE.
        for (int64_t s = 0; s < pslots; ++s)
          if (pattern[static_cast<size_t>(s / 8)] >> (s % 8) & 1)
            slots.push_back(static_cast<int32_t>(s));
      } else if (l.lfsr) {
        // The whole group is redrawn; a folding pass keeps the slots of its range.
        lfsr_group_slots(&lfsr, l.lfsr_slots, l.lfsr_k, &drawn);
        for (int32_t d : drawn)
          if (d >= l.lfsr_slot0 && d < l.lfsr_slot0 + l.slots)
            slots.push_back(static_cast<int32_t>(d - l.lfsr_slot0));
        std::sort(slots.begin(), slots.end());
      }
      out.resize(slots.size());
      for (size_t i = 0; i < slots.size(); ++i) out[i] = Entry{slots[i], img(l, at)};
    }
  }

  void decode_word(const LayerProgram& l, int64_t word, int64_t lanes) {
    lane_weights.assign(static_cast<size_t>(lanes), 0);  // capacity is kept between words
    int64_t at = l.col_addr[static_cast<size_t>(word)];
    if (l.enc == Enc::Dense) {
      for (int64_t p = 0; p < lanes; ++p) lane_weights[static_cast<size_t>(p)] = img(l, at);
      return;
    }
    const int64_t nb = (lanes + 7) / 8, bits_at = at;
    at += nb;
    for (int64_t p = 0; p < lanes; ++p)
      if (l.image[static_cast<size_t>(bits_at + p / 8)] >> (p % 8) & 1)
        lane_weights[static_cast<size_t>(p)] = img(l, at);
  }

  // One cycle of the array: every PE takes its next weight (broadcast) or its lane (lane mode).
  void step(const Broadcast& active) {
    const LayerProgram& l = *L;
    const int64_t np = l.pes;
    int busy = 0;
    if (!active.lane) {
      const int64_t r = active.col;
      if (active_step == 0) {
        ++cur->broadcasts;
        cur->weight_read_bits += l.group_bits[static_cast<size_t>(r)];
        cur->weight_reads += ceil_div(l.group_bits[static_cast<size_t>(r)], 32);
        if (!l.col_lfsr_steps.empty()) cur->lfsr_steps += l.col_lfsr_steps[static_cast<size_t>(r)];
      }
      if (active_step == 0) decode_column(l, r);
      for (int64_t p = 0; p < np; ++p) {
        // The cluster decoder hands PE p the active_step-th kept weight of group (p, r).
        const auto& grp = decoded[static_cast<size_t>(p)];
        if (active_step >= static_cast<int64_t>(grp.size())) continue;  // this PE is done: gated
        ++cur->decoder_steps;
        const Entry& e = grp[static_cast<size_t>(active_step)];
        if (e.w == 0) continue;  // zero weight: multiplier gated
        A(p, e.slot) = hls::mac(A(p, e.slot), active.a, e.w);
        ++cur->busy_per_pe[static_cast<size_t>(p)];
        ++cur->macs_executed;
        ++cur->acc_updates;
        ++busy;
      }
    } else {
      const bool dw = l.qkind == QLayer::Kind::Conv;
      const int64_t k = active.col, t = active.tile, taps = l.kh * l.kw;
      // A copy's word comes from source tile `col` and goes to slot `tile`.
      const int64_t c0 = (l.qkind == QLayer::Kind::Move ? k : t) * np;
      const int64_t c1 = std::min(l.in.c, c0 + np);
      if (dw) {
        // The decoder reads the tile's word for this tap: kept values and their metadata.
        const size_t tk = static_cast<size_t>(t * taps + k);
        ++cur->weight_reads;
        cur->weight_read_bits += l.lane_bits[tk];
        cur->decoder_steps += l.lane_kept[tk];
      }
      if (dw) decode_word(l, t * taps + k, c1 - c0);
      for (int64_t ch = c0; ch < c1; ++ch) {
        const int64_t p = ch - c0;
        const int8_t a = active.word[p];
        int32_t& acc_v = A(p, t);
        if (dw) {
          const int8_t w = lane_weights[static_cast<size_t>(p)];
          if (w == 0 || a == 0) continue;
          acc_v = hls::mac(acc_v, a, w);
          ++cur->macs_executed;
          ++cur->acc_updates;
        } else if (l.qkind == QLayer::Kind::MaxPool || l.qkind == QLayer::Kind::GlobalMaxPool) {
          if (a > acc_v) acc_v = a;
          ++cur->acc_updates;
        } else if (l.qkind == QLayer::Kind::Clamp || l.qkind == QLayer::Kind::Move) {
          acc_v = a;
          ++cur->acc_updates;
        } else if (l.two_operands()) {
          // Operand a in slot t, operand b in slot slots + t: the PPU combines them.
          A(p, t + (active.col ? l.slots : 0)) = a;
          ++cur->acc_updates;
        } else {
          acc_v = hls::add_wrap32(acc_v, a);
          ++cur->acc_updates;
        }
        ++cur->busy_per_pe[static_cast<size_t>(p)];
        ++busy;
      }
    }
    sig_pe_busy.write(busy);
  }

  // ---- Post-processing unit ------------------------------------------------------------------
  void ppu() {
    for (;;) {
      wait(ppu_start);  // the drain starts in the cycle after the flush
      const LayerProgram& l = *L;
      const int64_t np = l.pes, n = l.out.c;
      // An Add or Mul takes two drain cycles per output group: the PPU reads operand a, then
      // operand b (one accumulator read port); an Add rescales both, adds and requantizes (three
      // PPU operations), a Mul multiplies and requantizes (two: hls::mul8).
      const bool add = l.two_operands();
      const int per = add ? 2 : 1;
      for (int64_t c0 = 0; c0 < n; c0 += cfg.ppu_lanes) {
        for (int64_t ch = c0; ch < std::min(n, c0 + cfg.ppu_lanes); ++ch) {
          // Broadcast: row ch sits on PE ch mod P', slot ch / P'; lane: tile ch / P', lane ch mod
          // P'.
          const int64_t p = ch % np, s = ch / np;
          int8_t y;
          if (l.qkind == QLayer::Kind::Mul) {
            y = hls::mul8(static_cast<int8_t>(A(p, s)), static_cast<int8_t>(A(p, s + l.slots)),
                          l.requant[0], l.act_min, l.act_max);
            cur->ppu_ops += 2;
          } else if (l.qkind == QLayer::Kind::Move) {
            // A copy reads the output channel's source lane and slot and writes it unchanged.
            const size_t o = static_cast<size_t>(ch);
            y = static_cast<int8_t>(A(l.gather_pe[o], l.gather_slot[o]));
            ++cur->ppu_ops;
          } else if (add) {
            hls::AddParams ap;
            ap.a = l.requant[0];
            ap.b = l.requant[1];
            ap.out = l.requant[2];
            ap.act_min = l.act_min;
            ap.act_max = l.act_max;
            y = hls::add8(static_cast<int8_t>(A(p, s)), static_cast<int8_t>(A(p, s + l.slots)), ap);
            cur->ppu_ops += 3;
          } else {
            y = finish(l, A(p, s), ch);
            ++cur->ppu_ops;
          }
          act.write(l.out.addr(ch, oy, ox), y);
          ++cur->act_write_bytes;
        }
        ++cur->act_writes;
        if (c0 + cfg.ppu_lanes < n)
          wait(per);
        else if (per > 1)
          wait(per - 1);
      }
      wait();
      ppu_done.notify();
    }
  }

  int8_t finish(const LayerProgram& l, int32_t a, int64_t ch) const {
    switch (l.qkind) {
      case QLayer::Kind::MaxPool:
      case QLayer::Kind::GlobalMaxPool:
        return static_cast<int8_t>(a);
      case QLayer::Kind::Clamp:
        return hls::clamp8(static_cast<int8_t>(a), l.act_min, l.act_max);
      case QLayer::Kind::Lut:  // the lanes summed the code onto 0: look it up
        return hls::lut_apply(l.lut.data(), static_cast<int8_t>(a));
      case QLayer::Kind::AvgPool: {
        hls::PoolParams pp;
        pp.in_h = static_cast<int32_t>(l.in.h);
        pp.in_w = static_cast<int32_t>(l.in.w);
        pp.k_h = static_cast<int32_t>(l.kh);
        pp.k_w = static_cast<int32_t>(l.kw);
        pp.stride_h = static_cast<int32_t>(l.sh);
        pp.stride_w = static_cast<int32_t>(l.sw);
        pp.dil_h = static_cast<int32_t>(l.dh);
        pp.dil_w = static_cast<int32_t>(l.dw);
        pp.pad_top = static_cast<int32_t>(l.pt);
        pp.pad_left = static_cast<int32_t>(l.pl);
        pp.pad_bottom = static_cast<int32_t>(l.pool_pb);
        pp.pad_right = static_cast<int32_t>(l.pool_pr);
        pp.count_include_pad = l.count_include_pad;
        const int32_t cnt =
            hls::pool_window_count(pp, static_cast<int32_t>(oy), static_cast<int32_t>(ox));
        return cnt == 0 ? int8_t{0}
                        : hls::requantize_clamp(a, l.requant[static_cast<size_t>(cnt)], l.act_min,
                                                l.act_max);
      }
      case QLayer::Kind::GlobalAvgPool:
      case QLayer::Kind::Concat:  // each pass holds its input's rescale (hls::rescale8)
        return hls::requantize_clamp(a, l.requant[0], l.act_min, l.act_max);
      default:
        return hls::requantize_clamp(a, l.requant[static_cast<size_t>(ch)], l.act_min, l.act_max);
    }
  }
};

}  // namespace

CycleResult simulate_cycle(const RamanProgram& prog, const std::vector<std::vector<int8_t>>& inputs,
                           const std::string& vcd_path) {
  // The banner and info messages (simulation stopped, trace timescale) would clutter the CLI's
  // output (and break --json); the banner is read from the environment at kernel start-up.
  ::setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);
  sc_core::sc_report_handler::set_actions(sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
  sc_core::sc_clock clk("clk", sc_core::sc_time(1.0 / prog.cfg.clock_hz, sc_core::SC_SEC));
  Core core("raman", prog, inputs);
  core.clk(clk);
  sc_core::sc_trace_file* tf = nullptr;
  if (!vcd_path.empty()) {
    std::string base = vcd_path;
    if (base.size() > 4 && base.substr(base.size() - 4) == ".vcd") base.resize(base.size() - 4);
    tf = sc_core::sc_create_vcd_trace_file(base.c_str());
    tf->set_time_unit(1, sc_core::SC_NS);
    sc_core::sc_trace(tf, clk, "clk");
    sc_core::sc_trace(tf, core.sig_layer, "layer");
    sc_core::sc_trace(tf, core.sig_position, "position");
    sc_core::sc_trace(tf, core.sig_phase, "phase");
    sc_core::sc_trace(tf, core.sig_bcast_col, "broadcast_column");
    sc_core::sc_trace(tf, core.sig_bcast_act, "broadcast_activation");
    sc_core::sc_trace(tf, core.sig_pe_busy, "pe_busy");
  }
  sc_core::sc_start();
  if (tf) sc_core::sc_close_vcd_trace_file(tf);
  CycleResult r;
  r.counts.inferences = static_cast<int64_t>(inputs.size());
  for (size_t li = 0; li < core.counts.size(); ++li) {
    LayerCounts& c = core.counts[li];
    const LayerProgram& L = prog.layers[li];  // a folded layer: the sums over its passes
    // MAC partition and per-PE remainder: the same definitions as timing.cpp.
    c.macs_dense = L.macs_dense * r.counts.inferences;
    if (c.macs_dense > 0) {
      // Weights met over every present tap are structural; of those the PEs executed some and
      // the rest met a zero activation or padding (the same partition as timing.cpp).
      const int64_t seen = nonzero_weight_taps(L) * r.counts.inferences;
      c.macs_skipped_pruned = c.macs_dense - seen;
      c.macs_skipped_zero = seen - c.macs_executed;
    }
    c.pe_busy = c.pe_stalled = c.pe_gated = 0;
    for (size_t p = 0; p < c.busy_per_pe.size(); ++p) {
      c.gated_per_pe[p] = c.cycles - c.busy_per_pe[p] - c.stalled_per_pe[p];
      c.pe_busy += c.busy_per_pe[p];
      c.pe_stalled += c.stalled_per_pe[p];
      c.pe_gated += c.gated_per_pe[p];
    }
    r.counts.layers.push_back(c);
  }
  finish_counts(prog, &r.counts);
  r.counts.program_load_cycles = core.program_cycles;
  r.counts.dma_in_cycles = core.dma_cycles_in;
  r.counts.dma_out_cycles = core.dma_cycles_out;
  int64_t t = r.counts.dma_in_cycles + r.counts.dma_out_cycles;
  for (const LayerCounts& l : r.counts.layers) t += l.cycles;
  r.counts.total_cycles = t;
  r.outputs = std::move(core.outputs);
  r.sample_cycles = std::move(core.sample_cycles);
  return r;
}

}  // namespace prunesim::raman
