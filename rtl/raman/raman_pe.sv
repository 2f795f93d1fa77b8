// One processing element of the RAMAN-like core (docs/raman.md "RTL blocks and ports"):
// ACC_SLOTS accumulators of ACC_BITS, an int8 x int8 MAC that skips zero operands, a max
// operation (max-pool), a gate enable that freezes the PE, a one-cycle parallel bias init and a
// combinational drain read port.
// SystemC twin: prunesim::raman::RamanPeTwin (models/raman/rtl_twins.h), same port list.
module raman_pe #(
    parameter int ACC_SLOTS = 8,
    parameter int ACC_BITS  = 32,
    parameter int SLOT_BITS = 3
) (
    input  logic                          clk,
    input  logic                          rst_n,
    // Clock enable of the PE (the gated cycles of docs/raman.md): when low, neither init nor an
    // operation changes an accumulator. The read port is outside the gated domain (the PPU
    // drains while the array is gated).
    input  logic                          gate_en,
    // Position start: every slot s loads init_bias[s*ACC_BITS +: ACC_BITS] (the bias of output
    // channel pe + s*P', or -128 for max-pool). Wins over an operation in the same cycle.
    input  logic                          init,
    input  logic [ACC_SLOTS*ACC_BITS-1:0] init_bias,
    // One operation on acc[mac_slot]. op_max = 0: acc += act * wgt, both int8; a zero act or wgt
    // leaves the accumulator untouched (zero skip, no adder toggle). op_max = 1 (max-pool lane
    // op): acc = max(acc, act) as signed values, wgt ignored and no zero skip (0 can be the
    // maximum of a window that starts at -128).
    input  logic                          mac_valid,
    input  logic                          op_max,
    input  logic [         SLOT_BITS-1:0] mac_slot,
    input  logic [                   7:0] act,
    input  logic [                   7:0] wgt,
    // Drain: rd_acc = acc[rd_slot] as the registers hold it in this cycle (combinational), so
    // the PPU can read, requantize and write back a channel in one cycle (docs/raman-rtl.md).
    input  logic [         SLOT_BITS-1:0] rd_slot,
    output logic [          ACC_BITS-1:0] rd_acc,
    // High for one cycle after an edge on which an operation was executed (activity for the
    // power model): a MAC past the zero skip, or any max.
    output logic                          mac_done
);
  logic [ACC_SLOTS*ACC_BITS-1:0] acc_q;
  logic signed [15:0] product;
  logic [ACC_BITS-1:0] product_ext;
  logic [ACC_BITS-1:0] act_ext;
  logic fire;

  assign product = $signed(act) * $signed(wgt);
  // Sign-extend the 16-bit product to the accumulator width; the add then wraps mod 2^ACC_BITS
  // like hls::mac (the quantizer proves it never does for a valid layer).
  assign product_ext = {{(ACC_BITS - 16) {product[15]}}, product};
  assign act_ext = {{(ACC_BITS - 8) {act[7]}}, act};
  // The zero skip only applies to the MAC: max(acc, 0) changes a negative accumulator.
  assign fire = gate_en && mac_valid && !init && (op_max || ((act != 8'd0) && (wgt != 8'd0)));

  // One adder and one comparator for the PE: read the addressed slot, combine, write it back (a
  // slot per cycle).
  logic [ACC_BITS-1:0] mac_src;
  logic [ACC_BITS-1:0] mac_sum;
  logic [ACC_BITS-1:0] op_res;
  always_comb begin
    mac_src = '0;
    for (int s = 0; s < ACC_SLOTS; s++) begin
      if (mac_slot == SLOT_BITS'(s)) mac_src = acc_q[s*ACC_BITS+:ACC_BITS];
    end
  end
  assign mac_sum = mac_src + product_ext;
  always_comb begin
    if (!op_max) op_res = mac_sum;
    else if ($signed(act_ext) > $signed(mac_src)) op_res = act_ext;
    else op_res = mac_src;
  end

  for (genvar s = 0; s < ACC_SLOTS; s++) begin : g_slot
    always_ff @(posedge clk or negedge rst_n) begin
      if (!rst_n) begin
        acc_q[s*ACC_BITS+:ACC_BITS] <= '0;
      end else if (gate_en && init) begin
        acc_q[s*ACC_BITS+:ACC_BITS] <= init_bias[s*ACC_BITS+:ACC_BITS];
      end else if (fire && (mac_slot == SLOT_BITS'(s))) begin
        acc_q[s*ACC_BITS+:ACC_BITS] <= op_res;
      end
    end
  end

  // Combinational drain mux: no register between the accumulators and rd_acc.
  always_comb begin
    rd_acc = '0;
    for (int s = 0; s < ACC_SLOTS; s++) begin
      if (rd_slot == SLOT_BITS'(s)) rd_acc = acc_q[s*ACC_BITS+:ACC_BITS];
    end
  end

  always_ff @(posedge clk or negedge rst_n) begin
    if (!rst_n) mac_done <= 1'b0;
    else mac_done <= fire;
  end
endmodule
