// The whole RAMAN-like core (docs/raman-rtl.md): the controller raman_ctrl and the blocks it
// drives in a star (activation memory, four cluster decoders, PE array, requantizer). This
// module only wires them. The inter-block wires carry the controller's port names and are
// readable from the Verilated model (public_flat_rd) for the block-boundary co-simulation
// (`prunesim verify`, sim/cosim/verify/). Fixed parameters: 16 PEs, 4 PEs per decoder, 8
// accumulators of 32 bits per PE, 64 KiB activation memory, 4-byte DMA.
module raman_core (
    input  logic        clk,
    input  logic        rst_n,
    // Program port: on a rising edge with pl_en, word pl_addr of table pl_sel <- pl_data.
    input  logic        pl_en,
    input  logic [ 2:0] pl_sel,
    input  logic [17:0] pl_addr,
    input  logic [31:0] pl_data,
    input  logic        start,             // sampled while idle: run one inference
    output logic        busy,              // high for the inference's latency
    output logic        dout_valid,        // DMA out: output word dout_addr
    output logic [15:0] dout_addr,
    output logic [31:0] dout_data,
    output logic        am_overlap_err,    // activation memory (guard off in the core)
    output logic        am_port_conflict   // sticky: a read and a write in one cycle
);
  localparam int P = 16;
  localparam int CL = 4;  // PEs per decoder
  localparam int NDEC = P / CL;
  localparam int SLOTS = 8;
  localparam int SLOT_BITS = 3;
  localparam int CNT_BITS = 4;

  // Controller <-> activation memory.
  logic                         am_rd_en  /*verilator public_flat_rd*/;
  logic                         am_rd_word  /*verilator public_flat_rd*/;
  logic [                 15:0] am_rd_addr  /*verilator public_flat_rd*/;
  logic                         am_wr_en  /*verilator public_flat_rd*/;
  logic [                 15:0] am_wr_addr  /*verilator public_flat_rd*/;
  logic [                  3:0] am_wr_be  /*verilator public_flat_rd*/;
  logic [                 31:0] am_wr_data  /*verilator public_flat_rd*/;
  logic [                127:0] am_rd_data  /*verilator public_flat_rd*/;
  // Controller <-> PE array.
  logic [                 15:0] pa_gate_en  /*verilator public_flat_rd*/;
  logic                         pa_init  /*verilator public_flat_rd*/;
  logic [               4095:0] pa_init_bias  /*verilator public_flat_rd*/;
  logic [                  7:0] pa_act  /*verilator public_flat_rd*/;
  logic                         pa_lane  /*verilator public_flat_rd*/;
  logic                         pa_op_max  /*verilator public_flat_rd*/;
  logic [                127:0] pa_lane_act  /*verilator public_flat_rd*/;
  logic [                 15:0] pa_mac_valid  /*verilator public_flat_rd*/;
  logic [                 47:0] pa_mac_slot  /*verilator public_flat_rd*/;
  logic [                127:0] pa_wgt  /*verilator public_flat_rd*/;
  logic [                  3:0] pa_rd_pe  /*verilator public_flat_rd*/;
  logic [                  2:0] pa_rd_slot  /*verilator public_flat_rd*/;
  logic [                 31:0] pa_rd_acc  /*verilator public_flat_rd*/;
  logic [                 15:0] pa_mac_done  /*verilator public_flat_rd*/;
  // Controller <-> decoders (decoder c: PEs 4c .. 4c+3, slices c of every vector).
  logic                         dec_load  /*verilator public_flat_rd*/;
  logic [                  1:0] dec_fmt  /*verilator public_flat_rd*/;
  logic [          P*SLOTS-1:0] dec_bits  /*verilator public_flat_rd*/;
  logic [        NDEC*CL*CNT_BITS-1:0] dec_cnt  /*verilator public_flat_rd*/;
  logic [P*SLOTS*SLOT_BITS-1:0] dec_idx  /*verilator public_flat_rd*/;
  logic [        P*SLOTS*8-1:0] dec_vals  /*verilator public_flat_rd*/;
  logic [                P-1:0] dec_valid  /*verilator public_flat_rd*/;
  logic [      P*SLOT_BITS-1:0] dec_slot  /*verilator public_flat_rd*/;
  logic [                P*8-1:0] dec_wgt  /*verilator public_flat_rd*/;
  logic [             NDEC-1:0] dec_last  /*verilator public_flat_rd*/;
  // Controller <-> requantizer.
  logic                         rq_in_valid  /*verilator public_flat_rd*/;
  logic                         rq_bypass  /*verilator public_flat_rd*/;
  logic [                 31:0] rq_acc  /*verilator public_flat_rd*/;
  logic [                 30:0] rq_mult  /*verilator public_flat_rd*/;
  logic [                  5:0] rq_shift  /*verilator public_flat_rd*/;
  logic [                  7:0] rq_act_min  /*verilator public_flat_rd*/;
  logic [                  7:0] rq_act_max  /*verilator public_flat_rd*/;
  logic                         rq_out_valid  /*verilator public_flat_rd*/;
  logic [                  7:0] rq_out_q  /*verilator public_flat_rd*/;

  raman_ctrl u_ctrl (
      .clk         (clk),
      .rst_n       (rst_n),
      .pl_en       (pl_en),
      .pl_sel      (pl_sel),
      .pl_addr     (pl_addr),
      .pl_data     (pl_data),
      .start       (start),
      .busy        (busy),
      .dout_valid  (dout_valid),
      .dout_addr   (dout_addr),
      .dout_data   (dout_data),
      .am_rd_en    (am_rd_en),
      .am_rd_word  (am_rd_word),
      .am_rd_addr  (am_rd_addr),
      .am_wr_en    (am_wr_en),
      .am_wr_addr  (am_wr_addr),
      .am_wr_be    (am_wr_be),
      .am_wr_data  (am_wr_data),
      .am_rd_data  (am_rd_data),
      .pa_gate_en  (pa_gate_en),
      .pa_init     (pa_init),
      .pa_init_bias(pa_init_bias),
      .pa_act      (pa_act),
      .pa_lane     (pa_lane),
      .pa_op_max   (pa_op_max),
      .pa_lane_act (pa_lane_act),
      .pa_mac_valid(pa_mac_valid),
      .pa_mac_slot (pa_mac_slot),
      .pa_wgt      (pa_wgt),
      .pa_rd_pe    (pa_rd_pe),
      .pa_rd_slot  (pa_rd_slot),
      .pa_rd_acc   (pa_rd_acc),
      .pa_mac_done (pa_mac_done),
      .dec_load    (dec_load),
      .dec_fmt     (dec_fmt),
      .dec_bits    (dec_bits),
      .dec_cnt     (dec_cnt),
      .dec_idx     (dec_idx),
      .dec_vals    (dec_vals),
      .dec_valid   (dec_valid),
      .dec_slot    (dec_slot),
      .dec_wgt     (dec_wgt),
      .dec_last    (dec_last),
      .rq_in_valid (rq_in_valid),
      .rq_bypass   (rq_bypass),
      .rq_acc      (rq_acc),
      .rq_mult     (rq_mult),
      .rq_shift    (rq_shift),
      .rq_act_min  (rq_act_min),
      .rq_act_max  (rq_act_max),
      .rq_out_valid(rq_out_valid),
      .rq_out_q    (rq_out_q)
  );

  raman_act_mem #(
      .BYTES    (65536),
      .ADDR_BITS(16),
      .LANES    (16),
      .WR_LANES (4)
  ) u_act (
      .clk          (clk),
      .rst_n        (rst_n),
      .rd_en        (am_rd_en),
      .rd_word      (am_rd_word),
      .rd_addr      (am_rd_addr),
      .rd_data      (am_rd_data),
      .wr_en        (am_wr_en),
      .wr_addr      (am_wr_addr),
      .wr_be        (am_wr_be),
      .wr_data      (am_wr_data),
      .guard_en     (1'b0),
      .ia_low       (17'd0),
      .ia_high      (17'd0),
      .overlap_err  (am_overlap_err),
      .port_conflict(am_port_conflict)
  );

  raman_pe_array #(
      .P        (P),
      .PE_BITS  (4),
      .ACC_SLOTS(SLOTS),
      .ACC_BITS (32),
      .SLOT_BITS(SLOT_BITS)
  ) u_pa (
      .clk      (clk),
      .rst_n    (rst_n),
      .gate_en  (pa_gate_en),
      .init     (pa_init),
      .init_bias(pa_init_bias),
      .act      (pa_act),
      .lane     (pa_lane),
      .lane_act (pa_lane_act),
      .op_max   (pa_op_max),
      .mac_valid(pa_mac_valid),
      .mac_slot (pa_mac_slot),
      .wgt      (pa_wgt),
      .rd_pe    (pa_rd_pe),
      .rd_slot  (pa_rd_slot),
      .rd_acc   (pa_rd_acc),
      .mac_done (pa_mac_done)
  );

  for (genvar c = 0; c < NDEC; c++) begin : g_dec
    raman_decoder #(
        .CL       (CL),
        .SLOTS    (SLOTS),
        .SLOT_BITS(SLOT_BITS),
        .CNT_BITS (CNT_BITS)
    ) u_dec (
        .clk  (clk),
        .rst_n(rst_n),
        .load (dec_load),
        .fmt  (dec_fmt),
        .bits (dec_bits[c*CL*SLOTS+:CL*SLOTS]),
        .cnt  (dec_cnt[c*CL*CNT_BITS+:CL*CNT_BITS]),
        .idx  (dec_idx[c*CL*SLOTS*SLOT_BITS+:CL*SLOTS*SLOT_BITS]),
        .vals (dec_vals[c*CL*SLOTS*8+:CL*SLOTS*8]),
        .valid(dec_valid[c*CL+:CL]),
        .slot (dec_slot[c*CL*SLOT_BITS+:CL*SLOT_BITS]),
        .wgt  (dec_wgt[c*CL*8+:CL*8]),
        .last (dec_last[c])
    );
  end

  raman_requant u_rq (
      .in_valid (rq_in_valid),
      .bypass   (rq_bypass),
      .acc      (rq_acc),
      .mult     (rq_mult),
      .shift    (rq_shift),
      .act_min  (rq_act_min),
      .act_max  (rq_act_max),
      .out_valid(rq_out_valid),
      .out_q    (rq_out_q)
  );
endmodule
