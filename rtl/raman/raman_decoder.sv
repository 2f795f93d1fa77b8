// Sparse weight decoder of one cluster of the RAMAN-like core, for one broadcast column: takes
// the column's group data of the cluster's CL PEs in one of the weight-image encodings
// (docs/raman.md "Weight memory image") and yields one (slot, weight) per PE per cycle, kept
// weights in storage order. Interface: docs/raman.md "RTL blocks and ports". SystemC twin:
// prunesim::raman::RamanDecoderTwin. -DBREAK_DECODER_ORDER builds the deliberately broken
// variant of the co-simulation tests: bitmap/dense slots come out highest first.
//
// Encodings (fmt): 0 dense  - bits[p] = the slots PE p holds rows in; every one is yielded,
//                             zero weights included; vals[p][k] = weight of the k-th held slot
//                  1 bitmap - bits[p] = kept slots of PE p; vals[p][k] = k-th kept weight
//                  2 csr    - cnt[p] kept weights; idx[p][k] = slot, vals[p][k] = weight
//                  3 pattern (balanced) - bits[SLOTS-1:0] = the pattern shared by the cluster;
//                             vals[p][k] = k-th kept weight of PE p
// The LFSR variant of balanced pruning is not decoded here (see docs/raman.md).
// Timing: on an edge with load high the group is latched and its first entries are registered
// onto the outputs; each following edge registers the next entries. A load replaces any group
// still in flight, so a column of work k is followed by the next load k edges later.
module raman_decoder #(
    parameter int CL        = 4,  // PEs per cluster
    parameter int SLOTS     = 8,  // accumulator slots per PE (acc_per_pe)
    parameter int SLOT_BITS = 3,  // log2(SLOTS)
    parameter int CNT_BITS  = 4   // holds 0..SLOTS
) (
    input  logic                          clk,
    input  logic                          rst_n,
    input  logic                          load,
    input  logic [                   1:0] fmt,
    input  logic [          CL*SLOTS-1:0] bits,
    input  logic [       CL*CNT_BITS-1:0] cnt,   // csr: 0..SLOTS per PE
    input  logic [CL*SLOTS*SLOT_BITS-1:0] idx,
    input  logic [        CL*SLOTS*8-1:0] vals,
    output logic [                CL-1:0] valid, // PE p gets (slot[p], wgt[p]) this cycle
    output logic [      CL*SLOT_BITS-1:0] slot,
    output logic [                CL*8-1:0] wgt,
    output logic                          last   // this cycle's entries finish the group
);
  localparam logic [1:0] FMT_CSR = 2'd2;
  localparam logic [1:0] FMT_PATTERN = 2'd3;

  // Latched group.
  logic [                   1:0] fmt_q;
  logic [CL*SLOTS*SLOT_BITS-1:0] idx_q;
  logic [        CL*SLOTS*8-1:0] vals_q;
  // Per-PE progress: remaining kept slots (mask formats), entries left (csr), read pointer.
  logic [          CL*SLOTS-1:0] rem_q;
  logic [       CL*CNT_BITS-1:0] left_q;
  logic [       CL*CNT_BITS-1:0] ptr_q;

  // This edge works on the incoming group (load) or on the latched one.
  logic [                   1:0] src_fmt;
  logic [CL*SLOTS*SLOT_BITS-1:0] src_idx;
  logic [        CL*SLOTS*8-1:0] src_vals;
  logic [          CL*SLOTS-1:0] src_rem;
  logic [       CL*CNT_BITS-1:0] src_left;
  logic [       CL*CNT_BITS-1:0] src_ptr;

  logic [                CL-1:0] n_valid;
  logic [      CL*SLOT_BITS-1:0] n_slot;
  logic [              CL*8-1:0] n_wgt;
  logic [          CL*SLOTS-1:0] n_rem;
  logic [       CL*CNT_BITS-1:0] n_left;
  logic [       CL*CNT_BITS-1:0] n_ptr;

  always_comb begin
    src_fmt  = load ? fmt : fmt_q;
    src_idx  = load ? idx : idx_q;
    src_vals = load ? vals : vals_q;
    src_ptr  = load ? '0 : ptr_q;
    src_left = load ? (fmt == FMT_CSR ? cnt : '0) : left_q;
    if (!load) src_rem = rem_q;
    else if (fmt == FMT_CSR) src_rem = '0;
    else if (fmt == FMT_PATTERN) src_rem = {CL{bits[SLOTS-1:0]}};
    else src_rem = bits;
  end

  // One pick per PE: the lowest remaining slot (mask formats) or the next index (csr).
  for (genvar p = 0; p < CL; p++) begin : g_pe
    logic [SLOTS-1:0] rem_p;
    logic [CNT_BITS-1:0] ptr_p;
    logic [SLOT_BITS-1:0] pick;
    logic found;
    logic [SLOT_BITS-1:0] csr_slot;
    logic [7:0] w;
    logic [SLOTS-1:0] pick_bit;
    assign pick_bit = SLOTS'(1) << pick;
    assign rem_p = src_rem[p*SLOTS+:SLOTS];
    assign ptr_p = src_ptr[p*CNT_BITS+:CNT_BITS];

    always_comb begin
      pick  = '0;
      found = 1'b0;
`ifdef BREAK_DECODER_ORDER
      for (int s = 0; s < SLOTS; s++) begin
        if (rem_p[s]) begin
          pick  = SLOT_BITS'(s);
          found = 1'b1;
        end
      end
`else
      for (int s = SLOTS - 1; s >= 0; s--) begin
        if (rem_p[s]) begin
          pick  = SLOT_BITS'(s);
          found = 1'b1;
        end
      end
`endif
    end

    // ptr_p < SLOTS whenever an entry is emitted (cnt <= SLOTS, at most SLOTS mask bits), so
    // only its low SLOT_BITS bits address the group.
    assign csr_slot = src_idx[(p*SLOTS+32'(ptr_p[SLOT_BITS-1:0]))*SLOT_BITS+:SLOT_BITS];
    assign w = src_vals[(p*SLOTS+32'(ptr_p[SLOT_BITS-1:0]))*8+:8];

    always_comb begin
      n_rem[p*SLOTS+:SLOTS] = rem_p;
      n_left[p*CNT_BITS+:CNT_BITS] = src_left[p*CNT_BITS+:CNT_BITS];
      n_ptr[p*CNT_BITS+:CNT_BITS] = ptr_p;
      n_valid[p] = 1'b0;
      n_slot[p*SLOT_BITS+:SLOT_BITS] = '0;
      n_wgt[p*8+:8] = '0;
      if (src_fmt == FMT_CSR) begin
        if (src_left[p*CNT_BITS+:CNT_BITS] != '0) begin
          n_valid[p] = 1'b1;
          n_slot[p*SLOT_BITS+:SLOT_BITS] = csr_slot;
          n_wgt[p*8+:8] = w;
          n_left[p*CNT_BITS+:CNT_BITS] = src_left[p*CNT_BITS+:CNT_BITS] - 1'b1;
          n_ptr[p*CNT_BITS+:CNT_BITS] = ptr_p + 1'b1;
        end
      end else if (found) begin
        n_valid[p] = 1'b1;
        n_slot[p*SLOT_BITS+:SLOT_BITS] = pick;
        n_wgt[p*8+:8] = w;
        n_rem[p*SLOTS+:SLOTS] = rem_p & ~pick_bit;
        n_ptr[p*CNT_BITS+:CNT_BITS] = ptr_p + 1'b1;
      end
    end
  end

  always_ff @(posedge clk or negedge rst_n) begin
    if (!rst_n) begin
      fmt_q  <= '0;
      idx_q  <= '0;
      vals_q <= '0;
      rem_q  <= '0;
      left_q <= '0;
      ptr_q  <= '0;
      valid  <= '0;
      slot   <= '0;
      wgt    <= '0;
      last   <= 1'b0;
    end else begin
      if (load) begin
        fmt_q  <= fmt;
        idx_q  <= idx;
        vals_q <= vals;
      end
      rem_q  <= n_rem;
      left_q <= n_left;
      ptr_q  <= n_ptr;
      valid  <= n_valid;
      slot   <= n_slot;
      wgt    <= n_wgt;
      last   <= (n_valid != '0) && (n_rem == '0) && (n_left == '0);
    end
  end
endmodule
