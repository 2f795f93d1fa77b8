// Controller of the whole-core RTL of the RAMAN-like accelerator (docs/raman-rtl.md, the spec
// this is written from; architecture and timing in docs/raman.md). It holds the program tables
// (WMEM CTAB GMEM PTAB LTAB QTAB DTAB HIN, written by the program port, read asynchronously),
// runs the FSM IDLE -> DMA_IN -> per layer (SETUP, per output position INIT -> STREAM -> FLUSH
// -> DRAIN) -> DMA_OUT, does the zero detection of broadcast candidates, the column fetch that
// parses a column's groups from the weight image into the cluster decoders' inputs (including
// the balanced-LFSR slot regeneration), the depthwise word fetch and the lane registers of lane
// layers, the drain with the requantizer's inputs, and the DMA in and out.
//
// Every output that is not meaningful in a cycle is 0: the SystemC twin (RamanCtrlTwin) is
// compared with it on every output every cycle.
//
// Decoder/PE-array vectors are PE-major: PE p = 4c + q (decoder c of 4 PEs, its PE q), element
// k of PE p at [(p*SLOTS + k)*W +: W], which is exactly the concatenation of the four decoders'
// inputs (decoder c: bits [c*32 +: 32], cnt [c*16 +: 16], idx [c*96 +: 96], vals [c*256 +: 256]).
module raman_ctrl (
    input  logic          clk,
    input  logic          rst_n,
    // Program port: on a rising edge with pl_en, word pl_addr of table pl_sel <- pl_data.
    input  logic          pl_en,
    input  logic [   2:0] pl_sel,
    input  logic [  17:0] pl_addr,
    input  logic [  31:0] pl_data,
    input  logic          start,         // sampled in IDLE: run one inference
    output logic          busy,          // state != IDLE
    // DMA out: word dout_addr of the output (NHWC bytes, little-endian, bytes past the end 0).
    output logic          dout_valid,
    output logic [  15:0] dout_addr,
    output logic [  31:0] dout_data,
    // Activation memory (raman_act_mem: data the cycle after rd_en).
    output logic          am_rd_en,
    output logic          am_rd_word,
    output logic [  15:0] am_rd_addr,
    output logic          am_wr_en,
    output logic [  15:0] am_wr_addr,
    output logic [   3:0] am_wr_be,
    output logic [  31:0] am_wr_data,
    input  logic [ 127:0] am_rd_data,
    // PE array (raman_pe_array).
    output logic [  15:0] pa_gate_en,
    output logic          pa_init,
    output logic [4095:0] pa_init_bias,
    output logic [   7:0] pa_act,
    output logic          pa_lane,
    output logic          pa_op_max,
    output logic [ 127:0] pa_lane_act,
    output logic [  15:0] pa_mac_valid,
    output logic [  47:0] pa_mac_slot,
    output logic [ 127:0] pa_wgt,
    output logic [   3:0] pa_rd_pe,
    output logic [   2:0] pa_rd_slot,
    input  logic [  31:0] pa_rd_acc,
    input  logic [  15:0] pa_mac_done,
    // Cluster decoders (raman_decoder x 4), loaded on the same edge.
    output logic          dec_load,
    output logic [   1:0] dec_fmt,
    output logic [ 127:0] dec_bits,
    output logic [  63:0] dec_cnt,
    output logic [ 383:0] dec_idx,
    output logic [1023:0] dec_vals,
    input  logic [  15:0] dec_valid,
    input  logic [  47:0] dec_slot,
    input  logic [ 127:0] dec_wgt,
    input  logic [   3:0] dec_last,
    // Requantizer (raman_requant, combinational).
    output logic          rq_in_valid,
    output logic          rq_bypass,
    output logic [  31:0] rq_acc,
    output logic [  30:0] rq_mult,
    output logic [   5:0] rq_shift,
    output logic [   7:0] rq_act_min,
    output logic [   7:0] rq_act_max,
    input  logic          rq_out_valid,
    input  logic [   7:0] rq_out_q
);
  // ---------------------------------------------------------------------------------------------
  // Fixed parameters (docs/raman-rtl.md "Structure") and table sizes in 32-bit words ("Tables").
  localparam int P = 16;  // PEs
  localparam int SLOTS = 8;  // accumulators per PE
  localparam int LFSR_DRAWS = 64;  // unrolled LFSR draws per group
  localparam int WMEM_WORDS = 16384;  // pl_sel 0: weight image (64 KiB)
  localparam int CTAB_WORDS = 65536;  // pl_sel 1: column / depthwise word table
  localparam int GMEM_WORDS = 262144;  // pl_sel 2: gather lists (2 words per candidate)
  localparam int PTAB_WORDS = 16384;  // pl_sel 3: row / column offsets (2 words per entry)
  localparam int LTAB_WORDS = 16384;  // pl_sel 4: class-pair lists (2 words per entry)
  localparam int QTAB_WORDS = 65536;  // pl_sel 5: bias / requant (4 words per entry)
  localparam int DTAB_WORDS = 1024;  // pl_sel 6: global words and layer descriptors
  localparam int HIN_WORDS = 16384;  // pl_sel 7: the input sample (NHWC bytes)

  // States.
  localparam logic [2:0] S_IDLE = 3'd0;
  localparam logic [2:0] S_DMA_IN = 3'd1;
  localparam logic [2:0] S_SETUP = 3'd2;
  localparam logic [2:0] S_INIT = 3'd3;
  localparam logic [2:0] S_STREAM = 3'd4;
  localparam logic [2:0] S_FLUSH = 3'd5;
  localparam logic [2:0] S_DRAIN = 3'd6;
  localparam logic [2:0] S_DMA_OUT = 3'd7;

  // Descriptor codes.
  localparam logic [2:0] ENC_DENSE = 3'd0;
  localparam logic [2:0] ENC_BITMAP = 3'd1;
  localparam logic [2:0] ENC_CSR = 3'd2;
  localparam logic [2:0] ENC_PATTERN = 3'd3;
  localparam logic [2:0] ENC_LFSR = 3'd4;
  localparam logic [2:0] LOP_DW = 3'd0;
  localparam logic [2:0] LOP_MAX = 3'd1;
  localparam logic [2:0] LOP_SUM = 3'd2;
  localparam logic [2:0] LOP_PASS = 3'd3;
  localparam logic [1:0] INIT_BIAS = 2'd0;
  localparam logic [1:0] INIT_M128 = 2'd1;
  localparam logic [1:0] PPU_REQ_CH = 2'd0;
  localparam logic [1:0] PPU_BYPASS = 2'd1;
  localparam logic [1:0] PPU_AVG = 2'd2;
  localparam logic [1:0] PPU_REQ_ONE = 2'd3;

  // ---------------------------------------------------------------------------------------------
  // Table memories: written only by the program port (never reset), read combinationally.
  logic [31:0] wmem[WMEM_WORDS];
  logic [31:0] ctab[CTAB_WORDS];
  logic [31:0] gmem[GMEM_WORDS];
  logic [31:0] ptab[PTAB_WORDS];
  logic [31:0] ltab[LTAB_WORDS];
  logic [31:0] qtab[QTAB_WORDS];
  logic [31:0] dtab[DTAB_WORDS];
  logic [31:0] hin[HIN_WORDS];

  // A write past a table's end is dropped (GMEM spans the whole 18-bit address).
  always_ff @(posedge clk) begin
    if (pl_en) begin
      case (pl_sel)
        3'd0: if (pl_addr[17:14] == 4'd0) wmem[pl_addr[13:0]] <= pl_data;
        3'd1: if (pl_addr[17:16] == 2'd0) ctab[pl_addr[15:0]] <= pl_data;
        3'd2: gmem[pl_addr] <= pl_data;
        3'd3: if (pl_addr[17:14] == 4'd0) ptab[pl_addr[13:0]] <= pl_data;
        3'd4: if (pl_addr[17:14] == 4'd0) ltab[pl_addr[13:0]] <= pl_data;
        3'd5: if (pl_addr[17:16] == 2'd0) qtab[pl_addr[15:0]] <= pl_data;
        3'd6: if (pl_addr[17:10] == 8'd0) dtab[pl_addr[9:0]] <= pl_data;
        default: if (pl_addr[17:14] == 4'd0) hin[pl_addr[13:0]] <= pl_data;
      endcase
    end
  end

  // Byte b (0..3) of a little-endian word.
  function automatic logic [7:0] byte_of(input logic [31:0] w, input logic [1:0] b);
    byte_of = w[{b, 3'b000}+:8];
  endfunction

  function automatic logic [3:0] popcount8(input logic [7:0] v);
    popcount8 = '0;
    for (int i = 0; i < 8; i++) popcount8 = popcount8 + {3'd0, v[i]};
  endfunction

  // The Galois LFSR of prune/balanced.h: x >> 1, xor 0xB400 when the shifted-out bit was 1.
  function automatic logic [15:0] lfsr16(input logic [15:0] x);
    lfsr16 = {1'b0, x[15:1]} ^ (x[0] ? 16'hB400 : 16'h0000);
  endfunction

  // Residual Add's operand rescale (hls::rescale32): sat32(round_shift(x * M, shift)), ties
  // away from zero, as the requantizer rounds (shift 1..62 on valid layer data).
  function automatic logic [31:0] rescale32(input logic [31:0] x, input logic [30:0] m,
                                            input logic [5:0] sh);
    logic signed [63:0] prod, half, rnd, shifted;
    prod = 64'($signed(x)) * 64'($signed({1'b0, m}));
    half = $signed(64'd1 << (sh - 6'd1));
    rnd = prod + half - {63'd0, prod[63]};
    shifted = rnd >>> sh;
    if (shifted > 64'sd2147483647) rescale32 = 32'h7fff_ffff;
    else if (shifted < -64'sd2147483648) rescale32 = 32'h8000_0000;
    else rescale32 = shifted[31:0];
  endfunction

  // ---------------------------------------------------------------------------------------------
  // Registers.
  logic [  2:0] state_q;
  logic [  5:0] layer_q;  // DTAB holds at most 63 descriptors
  logic [ 15:0] oy_q;
  logic [ 15:0] ox_q;
  logic [ 16:0] k_q;  // current candidate of the position (GMEM holds 2^17)
  logic         zc_q;  // STREAM: this cycle is the current candidate's zero-check cycle
  logic [  3:0] wait_q;  // STREAM, not zc: cycles of the candidate left, this one included
  logic [ 15:0] out_off_q;  // output pointer - output base
  logic [  7:0] ch_q;  // DRAIN channel
  logic [  3:0] dpe_q;  // ch % P'
  logic [  2:0] dslot_q;  // ch / P'
  logic         half_q;  // DRAIN of an Add: operand b's cycle (operand a's rescale in ra_q)
  logic [ 31:0] ra_q;  // Add: operand a rescaled onto the common grid
  logic [ 31:0] cnt_q;  // DMA beat / setup cycle
  logic [  7:0] bc_act_q;  // broadcast activation register
  logic [ 15:0] lane_valid_q;
  logic [127:0] lane_act_q;
  logic [127:0] lane_wgt_q;
  logic [  2:0] lane_slot_q;

  // ---------------------------------------------------------------------------------------------
  // Global words and the current layer's descriptor (DTAB 16 + 16*L).
  logic [ 31:0] g_layers;
  logic [ 15:0] g_in_base;
  logic [ 31:0] g_in_bytes;
  logic [ 15:0] g_out_base;
  logic [ 31:0] g_out_bytes;
  logic [ 31:0] g_setup;
  assign g_layers    = dtab[0];
  assign g_in_base   = dtab[1][15:0];
  assign g_in_bytes  = dtab[2];
  assign g_out_base  = dtab[3][15:0];
  assign g_out_bytes = dtab[4];
  assign g_setup     = dtab[5];

  logic [31:0] beats_in, beats_out;  // ceil(bytes / 4)
  assign beats_in  = 32'((33'(g_in_bytes) + 33'd3) >> 2);
  assign beats_out = 32'((33'(g_out_bytes) + 33'd3) >> 2);

  logic [9:0] dbase;
  assign dbase = 10'd16 + {layer_q, 4'd0};

  logic        d_lane;  // d0 mode 1
  logic        d_add;  // d0[12]: residual Add (lane pass of both operands, two-cycle drain)
  logic [ 2:0] d_enc;
  logic [ 2:0] d_lop;
  logic [ 1:0] d_init;
  logic [ 1:0] d_ppu;
  logic [ 4:0] d_pp;  // P'
  logic [ 3:0] d_slots;
  logic [ 4:0] d_cluster;
  logic [ 7:0] d_out_c;
  logic [15:0] d_out_pitch;  // bytes per output position (a folding pass writes a channel slice)
  logic [15:0] d_out_h;
  logic [15:0] d_out_w;
  logic [15:0] d_out_base;
  logic [15:0] d_in_base;
  logic [15:0] d_in_c;
  logic [12:0] d_lt0;  // LTAB entry of class pair (0, 0)
  logic [12:0] d_nx;
  logic [12:0] d_prow0;  // PTAB entry of row 0
  logic [12:0] d_pcol0;  // PTAB entry of column 0
  logic [13:0] d_qbase;  // QTAB entry
  logic [ 7:0] d_act_min;
  logic [ 7:0] d_act_max;
  logic [ 7:0] d_lfsr_k;
  assign d_lane     = dtab[dbase][1:0] == 2'd1;
  assign d_add      = dtab[dbase][12];
  assign d_enc      = dtab[dbase][4:2];
  assign d_lop      = dtab[dbase][7:5];
  assign d_init     = dtab[dbase][9:8];
  assign d_ppu      = dtab[dbase][11:10];
  assign d_pp       = dtab[dbase+10'd1][4:0];
  assign d_slots    = dtab[dbase+10'd2][3:0];
  assign d_cluster  = dtab[dbase+10'd3][4:0];
  assign d_out_c    = dtab[dbase+10'd4][7:0];
  assign d_out_pitch = dtab[dbase+10'd4][31:16];
  assign d_out_h    = dtab[dbase+10'd5][15:0];
  assign d_out_w    = dtab[dbase+10'd6][15:0];
  assign d_out_base = dtab[dbase+10'd7][15:0];
  assign d_in_base  = dtab[dbase+10'd8][15:0];
  assign d_in_c     = dtab[dbase+10'd9][15:0];
  assign d_lt0      = dtab[dbase+10'd10][12:0];
  assign d_nx       = dtab[dbase+10'd11][12:0];
  assign d_prow0    = dtab[dbase+10'd12][12:0];
  assign d_pcol0    = dtab[dbase+10'd13][12:0];
  assign d_qbase    = dtab[dbase+10'd14][13:0];
  assign d_act_min  = dtab[dbase+10'd15][7:0];
  assign d_act_max  = dtab[dbase+10'd15][15:8];
  assign d_lfsr_k   = dtab[dbase+10'd15][23:16];


  // ---------------------------------------------------------------------------------------------
  // The position (oy, ox): its PTAB row / column entries, its class pair's candidate list
  // (LTAB d10 + cy*NX + cx), its input base and its average-pool tap count.
  logic [12:0] prow_e, pcol_e;
  logic [12:0] cls_y, cls_x;
  logic [12:0] cy_nx;
  logic [12:0] lt_e;
  logic [16:0] cand0;  // GMEM entry of the position's first candidate
  logic [31:0] ncand;  // its number of candidates
  logic [15:0] pos_base;  // input base + row offset + column offset (mod 2^16)
  logic [31:0] avg_n;  // y factor x x factor
  assign prow_e   = d_prow0 + oy_q[12:0];
  assign pcol_e   = d_pcol0 + ox_q[12:0];
  assign cls_y    = ptab[{prow_e, 1'b1}][12:0];
  assign cls_x    = ptab[{pcol_e, 1'b1}][12:0];
  assign cy_nx    = cls_y * d_nx;
  assign lt_e     = d_lt0 + cy_nx + cls_x;
  assign cand0    = ltab[{lt_e, 1'b0}][16:0];
  assign ncand    = ltab[{lt_e, 1'b1}];
  assign pos_base = d_in_base + ptab[{prow_e, 1'b0}][15:0] + ptab[{pcol_e, 1'b0}][15:0];
  assign avg_n    = ptab[{prow_e, 1'b1}][31:16] * ptab[{pcol_e, 1'b1}][31:16];

  // ---------------------------------------------------------------------------------------------
  // Candidates: the current one (k_q: zero check, column fetch, lane issue) and the one read
  // from the activation memory (candidate 0 in INIT, k_q + 1 in STREAM).
  logic [16:0] cur_g, rd_g;
  logic [15:0] ct_idx;  // CTAB index of the current candidate (GMEM w0)
  logic [ 7:0] cur_t;  // its channel tile (lane layers)
  logic        cur_b;  // Add: the candidate is operand b's word (slot tile + slots)
  logic [31:0] ct_word;  // CTAB: [15:0] WMEM byte address, [31:16] LFSR start state
  logic [15:0] rd_addr;  // input address of the candidate to read
  assign cur_g   = cand0 + k_q;
  assign rd_g    = cand0 + ((state_q == S_INIT) ? 17'd0 : k_q + 17'd1);
  assign ct_idx  = gmem[{cur_g, 1'b0}][15:0];
  assign cur_t   = gmem[{cur_g, 1'b0}][27:20];
  assign cur_b   = gmem[{cur_g, 1'b0}][28];
  assign ct_word = ctab[ct_idx];
  assign rd_addr = pos_base + gmem[{rd_g, 1'b1}][15:0];

  // ---------------------------------------------------------------------------------------------
  // Column fetch (combinational): parse the column's groups from WMEM at CTAB[15:0], PE by PE,
  // into the decoders' inputs. Entries past a group's end and PEs >= P' stay 0.
  logic [   1:0] cf_fmt;
  logic [ 127:0] cf_bits;
  logic [  63:0] cf_cnt;
  logic [ 383:0] cf_idx;
  logic [1023:0] cf_vals;
  logic [   3:0] cf_work;  // largest entry count of any PE's group, at least 1

  always_comb begin : column_fetch
    logic [15:0] ptr;  // WMEM byte address of the next group
    logic [15:0] x;  // LFSR state, carried from PE to PE
    logic [ 7:0] pat;  // the cluster's pattern byte (balanced pattern)
    logic [ 4:0] cpos;  // p % cluster
    logic [ 3:0] ps;  // pslots(p)
    logic [ 7:0] low;  // the low ps bits
    logic [ 7:0] m;  // slots the decoder yields (mask formats)
    logic [ 7:0] n;  // values in the group
    logic [ 7:0] hdr;  // header bytes before the values (mask / count / pattern)
    logic [ 7:0] idx_off;  // csr: the n index bytes before the values
    logic [ 3:0] ent;  // entries the decoder yields for this PE
    logic [ 3:0] maxn;
    logic [ 7:0] drawn;
    logic [15:0] r;
    logic [31:0] w;
    logic [15:0] a;
    ptr  = ct_word[15:0];
    x    = ct_word[31:16];
    pat  = '0;
    cpos = '0;
    maxn = '0;
    ps   = '0;
    low  = '0;
    m    = '0;
    n    = '0;
    hdr  = '0;
    idx_off = '0;
    ent  = '0;
    drawn = '0;
    r    = '0;
    w    = '0;
    a    = '0;
    cf_bits = '0;
    cf_cnt  = '0;
    cf_idx  = '0;
    cf_vals = '0;
    case (d_enc)
      ENC_CSR: cf_fmt = 2'd2;
      ENC_BITMAP, ENC_PATTERN, ENC_LFSR: cf_fmt = 2'd1;
      default: cf_fmt = 2'd0;
    endcase
    for (int p = 0; p < P; p++) begin
      if (5'(p) < d_pp) begin
        // pslots(p) = min(slots, ceil((out_c - p) / P')) = #{s < slots : s*P' + p < out_c}.
        ps = '0;
        for (int s = 0; s < SLOTS; s++) begin
          if (4'(s) < d_slots && 8'(s) * {3'd0, d_pp} + 8'(p) < d_out_c) ps = ps + 4'd1;
        end
        low     = 8'((9'd1 << ps) - 9'd1);
        m       = '0;
        n       = '0;
        hdr     = '0;
        idx_off = '0;
        w       = wmem[ptr[15:2]];
        case (d_enc)
          ENC_DENSE: begin
            m = low;
            n = {4'd0, ps};
          end
          ENC_BITMAP: begin
            m   = byte_of(w, ptr[1:0]) & low;
            n   = {4'd0, popcount8(m)};
            hdr = 8'd1;
          end
          ENC_CSR: begin
            n       = byte_of(w, ptr[1:0]);
            hdr     = 8'd1;
            idx_off = n;
          end
          ENC_PATTERN: begin
            if (cpos == 5'd0) begin
              pat = byte_of(w, ptr[1:0]);
              hdr = 8'd1;
            end
            m = pat & low;
            n = {4'd0, popcount8(m)};
          end
          ENC_LFSR: begin
            // x <- lfsr16(x), slot x mod slots, until lfsr_k distinct slots (at most 64 draws).
            drawn = '0;
            for (int d = 0; d < LFSR_DRAWS; d++) begin
              if ({4'd0, popcount8(drawn)} < d_lfsr_k) begin
                x     = lfsr16(x);
                r     = x % {12'd0, d_slots};
                drawn = drawn | (8'd1 << r);
              end
            end
            m = drawn;
            n = d_lfsr_k;
          end
          default: ;
        endcase
        // The group's values (csr: after its n index bytes), in storage order.
        for (int k = 0; k < SLOTS; k++) begin
          if (8'(k) < n) begin
            a = ptr + {8'd0, hdr} + {8'd0, idx_off} + 16'(k);
            w = wmem[a[15:2]];
            cf_vals[(p*SLOTS+k)*8+:8] = byte_of(w, a[1:0]);
            if (d_enc == ENC_CSR) begin
              a = ptr + {8'd0, hdr} + 16'(k);
              w = wmem[a[15:2]];
              cf_idx[(p*SLOTS+k)*3+:3] = w[{a[1:0], 3'b000}+:3];
            end
          end
        end
        ptr = ptr + {8'd0, hdr} + {8'd0, idx_off} + {8'd0, n};
        if (d_enc == ENC_CSR) begin
          cf_cnt[p*4+:4] = n[3:0];
          ent = n[3:0];
        end else begin
          cf_bits[p*SLOTS+:SLOTS] = m;
          ent = popcount8(m);
        end
        if (ent > maxn) maxn = ent;
        cpos = (cpos + 5'd1 >= d_cluster) ? 5'd0 : cpos + 5'd1;
      end
    end
    cf_work = (maxn == 4'd0) ? 4'd1 : maxn;
  end

  // ---------------------------------------------------------------------------------------------
  // Lane layers: lanes of the current candidate's tile t, min(C - t*P', P'), and the depthwise
  // word at CTAB[15:0]: dense = `lanes` values; otherwise ceil(lanes / 8) lane-mask bytes (bit
  // i of byte b = lane 8b + i), then one value per set bit in lane order.
  logic [ 4:0] dw_lanes;
  logic [15:0] dw_lane_mask;  // the low dw_lanes bits
  logic [12:0] dw_tp;
  assign dw_tp = 13'(cur_t) * 13'(d_pp);
  always_comb begin
    if (d_in_c <= {3'd0, dw_tp}) dw_lanes = 5'd0;
    else if (d_in_c - {3'd0, dw_tp} >= {11'd0, d_pp}) dw_lanes = d_pp;
    else dw_lanes = 5'(d_in_c - {3'd0, dw_tp});
  end
  assign dw_lane_mask = 16'((17'd1 << dw_lanes) - 17'd1);

  logic [127:0] dw_wgt;  // weight of lane p (0 if not kept)
  always_comb begin : dw_fetch
    logic [15:0] base;
    logic [15:0] a;
    logic [31:0] w;
    logic [15:0] mask;
    logic [15:0] nb;  // lane-mask bytes
    logic [15:0] rank;  // values before lane p
    base = ct_word[15:0];
    dw_wgt = '0;
    a    = '0;
    w    = '0;
    mask = '0;
    nb   = '0;
    rank = '0;
    if (d_enc == ENC_DENSE) begin
      for (int p = 0; p < P; p++) begin
        if (dw_lane_mask[p]) begin
          a = base + 16'(p);
          w = wmem[a[15:2]];
          dw_wgt[p*8+:8] = byte_of(w, a[1:0]);
        end
      end
    end else begin
      nb = (dw_lanes == 5'd0) ? 16'd0 : (dw_lanes > 5'd8) ? 16'd2 : 16'd1;
      a = base;
      w = wmem[a[15:2]];
      mask[7:0] = byte_of(w, a[1:0]);
      a = base + 16'd1;
      w = wmem[a[15:2]];
      mask[15:8] = (nb == 16'd2) ? byte_of(w, a[1:0]) : 8'd0;
      mask = mask & dw_lane_mask;
      for (int p = 0; p < P; p++) begin
        if (mask[p]) begin
          a = base + nb + rank;
          w = wmem[a[15:2]];
          dw_wgt[p*8+:8] = byte_of(w, a[1:0]);
          rank = rank + 16'd1;
        end
      end
    end
  end

  // ---------------------------------------------------------------------------------------------
  // Stream control: the zero check, the candidate's cost and its last cycle.
  logic       st_stream;
  logic       issue_bc;  // broadcast candidate issued (non-zero activation) this cycle
  logic       issue_lane;  // lane candidate issued this cycle
  logic [3:0] cost;  // cycles of the candidate in its zero-check cycle
  logic       cand_last;  // last cycle of the current candidate
  logic       has_next;  // candidate k_q + 1 exists
  assign st_stream  = state_q == S_STREAM;
  assign issue_bc   = st_stream && zc_q && !d_lane && (am_rd_data[7:0] != 8'd0);
  assign issue_lane = st_stream && zc_q && d_lane;
  assign cost       = issue_bc ? cf_work : 4'd1;
  assign cand_last  = st_stream && (zc_q ? (cost == 4'd1) : (wait_q == 4'd1));
  assign has_next   = {15'd0, k_q} + 32'd1 < ncand;

  // Lane registers loaded at a lane issue.
  logic [ 15:0] ln_valid;
  logic [127:0] ln_act;
  logic [127:0] ln_wgt;
  always_comb begin
    for (int p = 0; p < P; p++) begin
      ln_valid[p]     = dw_lane_mask[p];
      ln_act[p*8+:8]  = dw_lane_mask[p] ? am_rd_data[p*8+:8] : 8'd0;
      ln_wgt[p*8+:8]  = 8'd0;
      if (dw_lane_mask[p]) begin
        case (d_lop)
          LOP_DW: ln_wgt[p*8+:8] = dw_wgt[p*8+:8];
          LOP_SUM, LOP_PASS: ln_wgt[p*8+:8] = 8'd1;
          default: ln_wgt[p*8+:8] = 8'd0;  // max (wgt ignored)
        endcase
      end
    end
  end

  // ---------------------------------------------------------------------------------------------
  // State machine.
  logic last_pos_ch;  // DRAIN: last channel of the position
  logic drain_out;  // DRAIN: this cycle writes an output (an Add's operand-a cycle does not)
  assign drain_out = !(d_add && !half_q);
  assign last_pos_ch = ({1'b0, ch_q} + 9'd1 >= {1'b0, d_out_c});

  always_ff @(posedge clk or negedge rst_n) begin
    if (!rst_n) begin
      state_q      <= S_IDLE;
      layer_q      <= '0;
      oy_q         <= '0;
      ox_q         <= '0;
      k_q          <= '0;
      zc_q         <= 1'b0;
      wait_q       <= '0;
      out_off_q    <= '0;
      ch_q         <= '0;
      dpe_q        <= '0;
      dslot_q      <= '0;
      half_q       <= 1'b0;
      ra_q         <= '0;
      cnt_q        <= '0;
      bc_act_q     <= '0;
      lane_valid_q <= '0;
      lane_act_q   <= '0;
      lane_wgt_q   <= '0;
      lane_slot_q  <= '0;
    end else begin
      // Lane registers: loaded at a lane issue, cleared in every other cycle.
      if (issue_lane) begin
        lane_valid_q <= ln_valid;
        lane_act_q   <= ln_act;
        lane_wgt_q   <= ln_wgt;
        lane_slot_q  <= cur_t[2:0] + (cur_b ? d_slots[2:0] : 3'd0);
      end else begin
        lane_valid_q <= '0;
        lane_act_q   <= '0;
        lane_wgt_q   <= '0;
        lane_slot_q  <= '0;
      end
      if (issue_bc) bc_act_q <= am_rd_data[7:0];

      case (state_q)
        S_IDLE: begin
          if (start) begin
            state_q <= S_DMA_IN;
            cnt_q   <= '0;
          end
        end
        S_DMA_IN: begin
          if (cnt_q >= beats_in) begin
            cnt_q     <= '0;
            layer_q   <= '0;
            oy_q      <= '0;
            ox_q      <= '0;
            out_off_q <= '0;
            if (g_layers == 32'd0) state_q <= S_DMA_OUT;
            else if (g_setup != 32'd0) state_q <= S_SETUP;
            else state_q <= S_INIT;
          end else begin
            cnt_q <= cnt_q + 32'd1;
          end
        end
        S_SETUP: begin
          if (cnt_q + 32'd1 >= g_setup) begin
            cnt_q   <= '0;
            state_q <= S_INIT;
          end else begin
            cnt_q <= cnt_q + 32'd1;
          end
        end
        S_INIT: begin
          k_q     <= '0;
          wait_q  <= '0;
          zc_q    <= ncand != 32'd0;
          state_q <= (ncand != 32'd0) ? S_STREAM : S_FLUSH;
        end
        S_STREAM: begin
          if (zc_q) begin
            if (cost != 4'd1) begin
              zc_q   <= 1'b0;
              wait_q <= cost - 4'd1;
            end
          end else begin
            wait_q <= wait_q - 4'd1;
          end
          if (cand_last) begin
            wait_q <= '0;
            if (has_next) begin
              k_q  <= k_q + 17'd1;
              zc_q <= 1'b1;
            end else begin
              zc_q    <= 1'b0;
              state_q <= S_FLUSH;
            end
          end
        end
        S_FLUSH: begin
          k_q     <= '0;
          ch_q    <= '0;
          dpe_q   <= '0;
          dslot_q <= '0;
          state_q <= S_DRAIN;
        end
        S_DRAIN: begin
          if (d_add && !half_q) begin
            // Operand a's cycle: its rescale waits in ra_q for operand b's.
            half_q <= 1'b1;
            ra_q   <= rescale32(pa_rd_acc, qtab[{d_qbase, 2'b01}][30:0],
                                qtab[{d_qbase, 2'b10}][5:0]);
          end else if (last_pos_ch) begin
            half_q    <= 1'b0;
            ch_q      <= '0;
            dpe_q     <= '0;
            dslot_q   <= '0;
            out_off_q <= out_off_q + d_out_pitch;
            if ({16'd0, ox_q} + 32'd1 < {16'd0, d_out_w}) begin
              ox_q    <= ox_q + 16'd1;
              state_q <= S_INIT;
            end else if ({16'd0, oy_q} + 32'd1 < {16'd0, d_out_h}) begin
              ox_q    <= '0;
              oy_q    <= oy_q + 16'd1;
              state_q <= S_INIT;
            end else begin
              ox_q      <= '0;
              oy_q      <= '0;
              out_off_q <= '0;
              cnt_q     <= '0;
              if ({26'd0, layer_q} + 32'd1 < g_layers) begin
                layer_q <= layer_q + 6'd1;
                state_q <= (g_setup != 32'd0) ? S_SETUP : S_INIT;
              end else begin
                layer_q <= '0;
                state_q <= S_DMA_OUT;
              end
            end
          end else begin
            half_q <= 1'b0;
            ch_q <= ch_q + 8'd1;
            if ({1'b0, dpe_q} + 5'd1 >= d_pp) begin
              dpe_q   <= '0;
              dslot_q <= dslot_q + 3'd1;
            end else begin
              dpe_q <= dpe_q + 4'd1;
            end
          end
        end
        default: begin  // S_DMA_OUT
          if (cnt_q >= beats_out) begin
            cnt_q   <= '0;
            state_q <= S_IDLE;
          end else begin
            cnt_q <= cnt_q + 32'd1;
          end
        end
      endcase
    end
  end

  // ---------------------------------------------------------------------------------------------
  // Outputs (0 whenever not meaningful).
  logic st_init, st_mac, st_run, st_drain, st_dma_out;
  assign st_init    = state_q == S_INIT;
  assign st_mac     = state_q == S_STREAM || state_q == S_FLUSH;
  assign st_run     = st_init || st_mac;
  assign st_drain   = state_q == S_DRAIN;
  assign st_dma_out = state_q == S_DMA_OUT;

  assign busy = state_q != S_IDLE;

  // DMA out: cycle j < beats reads the word at g3 + 4j; cycle j >= 1 delivers word j - 1.
  logic [31:0] dout_byte0;  // byte index of word j - 1
  assign dout_byte0 = {cnt_q[29:0], 2'b00} - 32'd4;
  assign dout_valid = st_dma_out && cnt_q != 32'd0;
  assign dout_addr  = dout_valid ? cnt_q[15:0] - 16'd1 : 16'd0;
  always_comb begin
    dout_data = '0;
    for (int i = 0; i < 4; i++) begin
      if (dout_valid && dout_byte0 + 32'(i) < g_out_bytes) dout_data[i*8+:8] = am_rd_data[i*8+:8];
    end
  end

  // Activation memory reads: candidate 0 in INIT, the next candidate in a candidate's last
  // cycle, DMA out words.
  always_comb begin
    am_rd_en   = 1'b0;
    am_rd_word = 1'b0;
    am_rd_addr = '0;
    if ((st_init && ncand != 32'd0) || (cand_last && has_next)) begin
      am_rd_en   = 1'b1;
      am_rd_word = d_lane;
      am_rd_addr = rd_addr;
    end else if (st_dma_out && cnt_q < beats_out) begin
      am_rd_en   = 1'b1;
      am_rd_word = 1'b1;
      am_rd_addr = g_out_base + {cnt_q[13:0], 2'b00};
    end
  end

  // Activation memory writes: DMA in words, drained outputs (one byte per cycle).
  always_comb begin
    am_wr_en   = 1'b0;
    am_wr_addr = '0;
    am_wr_be   = '0;
    am_wr_data = '0;
    if (state_q == S_DMA_IN && cnt_q < beats_in) begin
      am_wr_en   = 1'b1;
      am_wr_addr = g_in_base + {cnt_q[13:0], 2'b00};
      for (int i = 0; i < 4; i++) begin
        if ({cnt_q[29:0], 2'b00} + 32'(i) < g_in_bytes) begin
          am_wr_be[i]         = 1'b1;
          am_wr_data[i*8+:8] = hin[cnt_q[13:0]][i*8+:8];
        end
      end
    end else if (st_drain && drain_out) begin
      am_wr_en   = 1'b1;
      am_wr_addr = d_out_base + out_off_q + {8'd0, ch_q};
      am_wr_be   = 4'b0001;
      am_wr_data = {24'd0, rq_out_q};
    end
  end

  // PE array.
  logic [15:0] pp_mask;  // PEs 0 .. P'-1
  assign pp_mask     = 16'((17'd1 << d_pp) - 17'd1);
  assign pa_gate_en  = st_run ? pp_mask : 16'd0;
  assign pa_init     = st_init;
  assign pa_act      = (st_mac && !d_lane) ? bc_act_q : 8'd0;
  assign pa_lane     = st_run && d_lane;
  assign pa_op_max   = st_run && d_lane && d_lop == LOP_MAX;
  assign pa_lane_act = (st_mac && d_lane) ? lane_act_q : 128'd0;
  always_comb begin
    pa_mac_valid = '0;
    pa_mac_slot  = '0;
    pa_wgt       = '0;
    if (st_mac && d_lane) begin
      pa_mac_valid = lane_valid_q;
      for (int p = 0; p < P; p++) pa_mac_slot[p*3+:3] = lane_valid_q[p] ? lane_slot_q : 3'd0;
      pa_wgt = lane_wgt_q;
    end else if (st_mac) begin
      pa_mac_valid = dec_valid;
      pa_mac_slot  = dec_slot;
      pa_wgt       = dec_wgt;
    end
  end
  assign pa_rd_pe   = st_drain ? dpe_q : 4'd0;
  assign pa_rd_slot = !st_drain ? 3'd0 : (d_add && half_q) ? dslot_q + d_slots[2:0] : dslot_q;

  // INIT: PE p slot s holds channel s*P' + p: its bias (QTAB qbase + ch), -128, or 0.
  always_comb begin
    pa_init_bias = '0;
    if (st_init) begin
      for (int p = 0; p < P; p++) begin
        for (int s = 0; s < SLOTS; s++) begin
          logic [7:0] ch;
          logic [13:0] qe;
          ch = 8'(s) * {3'd0, d_pp} + 8'(p);
          qe = d_qbase + {6'd0, ch};
          if (5'(p) < d_pp && 4'(s) < d_slots && ch < d_out_c) begin
            case (d_init)
              INIT_BIAS: pa_init_bias[(p*SLOTS+s)*32+:32] = qtab[{qe, 2'b00}];
              INIT_M128: pa_init_bias[(p*SLOTS+s)*32+:32] = 32'hFFFF_FF80;
              default:   pa_init_bias[(p*SLOTS+s)*32+:32] = 32'd0;
            endcase
          end
        end
      end
    end
  end

  // Decoders: loaded in the zero-check cycle of an issued broadcast candidate.
  assign dec_load = issue_bc;
  assign dec_fmt  = issue_bc ? cf_fmt : 2'd0;
  assign dec_bits = issue_bc ? cf_bits : 128'd0;
  assign dec_cnt  = issue_bc ? cf_cnt : 64'd0;
  assign dec_idx  = issue_bc ? cf_idx : 384'd0;
  assign dec_vals = issue_bc ? cf_vals : 1024'd0;

  // Requantizer (DRAIN): per-channel, bypass, window count n (0: bypass 0 to [-128, 127]),
  // or one multiplier for the layer.
  logic        avg_zero;
  logic [13:0] rq_e;
  assign avg_zero = d_ppu == PPU_AVG && avg_n == 32'd0;
  always_comb begin
    case (d_ppu)
      PPU_REQ_CH: rq_e = d_qbase + {6'd0, ch_q};
      PPU_AVG: rq_e = d_qbase + avg_n[13:0];
      PPU_REQ_ONE: rq_e = d_qbase;
      default: rq_e = d_qbase;  // PPU_BYPASS: mult and shift are 0
    endcase
  end
  // An Add's output cycle: ra_q + operand b rescaled (QTAB qbase+1), requantized with qbase+2.
  logic [13:0] rq_q;
  logic [31:0] add_sum;
  assign rq_q    = d_add ? d_qbase + 14'd2 : rq_e;
  assign add_sum = ra_q + rescale32(pa_rd_acc, qtab[{d_qbase + 14'd1, 2'b01}][30:0],
                                    qtab[{d_qbase + 14'd1, 2'b10}][5:0]);
  assign rq_in_valid = st_drain && drain_out;
  assign rq_bypass   = rq_in_valid && !d_add && (d_ppu == PPU_BYPASS || avg_zero);
  assign rq_acc      = !rq_in_valid ? 32'd0 : d_add ? add_sum : !avg_zero ? pa_rd_acc : 32'd0;
  assign rq_mult     = (rq_in_valid && !rq_bypass) ? qtab[{rq_q, 2'b01}][30:0] : 31'd0;
  assign rq_shift    = (rq_in_valid && !rq_bypass) ? qtab[{rq_q, 2'b10}][5:0] : 6'd0;
  assign rq_act_min  = !rq_in_valid ? 8'd0 : (avg_zero && !d_add) ? 8'h80 : d_act_min;
  assign rq_act_max  = !rq_in_valid ? 8'd0 : (avg_zero && !d_add) ? 8'h7f : d_act_max;

  // Block outputs the controller does not need (they are observed by the co-simulation): the
  // PE activity, the decoders' last flags (the controller counts work itself) and the
  // requantizer's valid (combinational copy of rq_in_valid). Named *unused* so that -Wall's
  // UNUSED check, whose default --unused-regexp is "*unused*", knows they are deliberate.
  logic unused_block_outputs;
  assign unused_block_outputs = ^{pa_mac_done, dec_last, rq_out_valid};
endmodule
