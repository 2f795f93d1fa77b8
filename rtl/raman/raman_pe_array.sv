// PE array of the RAMAN-like core (docs/raman.md "Dataflow", "RTL blocks and ports"): P PEs
// (raman_pe) sharing one broadcast activation, or in lane mode one activation byte each; each PE
// takes its own (valid, slot, weight) from its cluster's decoder (or the controller's lane
// registers) and reduces locally into its own accumulators (partial sums never leave the PE).
// Per-PE gate enables; one-cycle init of every accumulator; a combinational drain port reading
// one accumulator (pe, slot) per cycle for the PPU. SystemC twin: prunesim::raman::RamanPeArrayTwin.
module raman_pe_array #(
    parameter int P         = 16,
    parameter int PE_BITS   = 4,   // log2(P)
    parameter int ACC_SLOTS = 8,
    parameter int ACC_BITS  = 32,
    parameter int SLOT_BITS = 3
) (
    input  logic                            clk,
    input  logic                            rst_n,
    input  logic [                   P-1:0] gate_en,    // per PE (idle PEs clock-gated)
    input  logic                            init,       // every PE loads its biases
    input  logic [P*ACC_SLOTS*ACC_BITS-1:0] init_bias,  // PE p slot s at (p*ACC_SLOTS+s)*ACC_BITS
    input  logic [                     7:0] act,        // the broadcast activation
    // Lane mode (depthwise, pooling, element-wise layers): PE p takes lane_act[p*8 +: 8] instead
    // of act, i.e. one channel per PE (docs/raman.md "Dataflow").
    input  logic                            lane,
    input  logic [                 P*8-1:0] lane_act,
    input  logic                            op_max,     // every PE: max instead of MAC (raman_pe)
    input  logic [                   P-1:0] mac_valid,  // from the decoders, one per PE
    input  logic [         P*SLOT_BITS-1:0] mac_slot,
    input  logic [                 P*8-1:0] wgt,
    // Drain: rd_acc = accumulator (rd_pe, rd_slot) as the registers hold it in this cycle
    // (combinational through the PE's slot mux and this PE mux).
    input  logic [             PE_BITS-1:0] rd_pe,
    input  logic [           SLOT_BITS-1:0] rd_slot,
    output logic [            ACC_BITS-1:0] rd_acc,
    output logic [                   P-1:0] mac_done  // per PE: an operation on the last edge
);
  logic [P*ACC_BITS-1:0] pe_rd;

  for (genvar p = 0; p < P; p++) begin : g_pe
    raman_pe #(
        .ACC_SLOTS(ACC_SLOTS),
        .ACC_BITS (ACC_BITS),
        .SLOT_BITS(SLOT_BITS)
    ) u_pe (
        .clk      (clk),
        .rst_n    (rst_n),
        .gate_en  (gate_en[p]),
        .init     (init),
        .init_bias(init_bias[p*ACC_SLOTS*ACC_BITS+:ACC_SLOTS*ACC_BITS]),
        .mac_valid(mac_valid[p]),
        .op_max   (op_max),
        .mac_slot (mac_slot[p*SLOT_BITS+:SLOT_BITS]),
        .act      (lane ? lane_act[p*8+:8] : act),
        .wgt      (wgt[p*8+:8]),
        .rd_slot  (rd_slot),
        .rd_acc   (pe_rd[p*ACC_BITS+:ACC_BITS]),
        .mac_done (mac_done[p])
    );
  end

  always_comb begin
    rd_acc = '0;
    for (int p = 0; p < P; p++) begin
      if (rd_pe == PE_BITS'(p)) rd_acc = pe_rd[p*ACC_BITS+:ACC_BITS];
    end
  end
endmodule
