// Post-processing datapath of the RAMAN-like core (docs/quantization.md §6-§7, §9-§10):
// out = clamp(sat8(round_half_away(acc * mult / 2^shift)), act_min, act_max), or with bypass
// out = clamp(sat8(acc), act_min, act_max) (max-pool, stand-alone ReLU/Clip). Purely
// combinational (no clock, no reset): the drain reads an accumulator, requantizes it and writes
// the byte in one cycle (docs/raman-rtl.md "Block changes the core needs"), so the result must
// be ready in the cycle of its inputs. SystemC twin: prunesim::raman::RamanRequantTwin.
// Build with -DBREAK_CARRY for the deliberately broken variant of the co-simulation tests: the
// rounding loses the -1 for negative products, so negative ties round up instead of away from 0.
// -DBREAK_ROUND (the whole-core tests) drops the rounding addend: the result is truncated.
module raman_requant (
    input  logic        in_valid,
    input  logic        bypass,    // no rescale: sat8(acc) (max-pool, stand-alone clamp)
    input  logic [31:0] acc,       // int32 accumulator
    input  logic [30:0] mult,      // multiplier M, unsigned, [0, 2^31-1]
    input  logic [ 5:0] shift,     // right shift, 1..62 (0 and 63 are not valid layer values)
    input  logic [ 7:0] act_min,   // int8 clamp bounds, act_min <= act_max
    input  logic [ 7:0] act_max,
    output logic        out_valid, // = in_valid
    // int8 result; 0 when in_valid is low, so the output is defined every cycle (the core
    // compares every output every cycle) and idle cycles do not toggle the write data.
    output logic [ 7:0] out_q
);
  logic signed [31:0] acc_s;
  logic signed [31:0] mult_s;
  logic signed [63:0] prod;
`ifndef BREAK_ROUND
  logic signed [63:0] half;
`endif
  logic signed [63:0] rounded;
  logic signed [63:0] shifted;
  logic signed [63:0] pre_sat;
  logic signed [ 7:0] sat;
  logic signed [ 7:0] clamped;

  assign acc_s  = $signed(acc);
  assign mult_s = $signed({1'b0, mult});
  // |acc * M| <= 2^31 * (2^31 - 1) < 2^62: the signed 64-bit product is exact.
  assign prod   = 64'(acc_s) * 64'(mult_s);
  // shift is 1..62 on valid input; shift = 0 would shift by -1 (masked to 63 bits, harmless).
`ifndef BREAK_ROUND
  assign half   = $signed(64'd1 << (shift - 6'd1));
`endif
`ifdef BREAK_CARRY
  assign rounded = prod + half;
`elsif BREAK_ROUND
  // The rounding addend is lost altogether (truncation toward minus infinity): real layers hit
  // it in about half their outputs, where exact negative ties (BREAK_CARRY) hardly ever occur.
  assign rounded = prod;
`else
  // Adding half then flooring rounds ties up; the -1 for a negative product makes them round
  // down, i.e. away from zero (one adder whose carry-in depends on the sign bit).
  assign rounded = prod + half - {63'd0, prod[63]};
`endif
  assign shifted = rounded >>> shift;
  assign pre_sat = bypass ? 64'(acc_s) : shifted;

  always_comb begin
    if (pre_sat > 64'sd127) sat = 8'sd127;
    else if (pre_sat < -64'sd128) sat = -8'sd128;
    else sat = pre_sat[7:0];
    if (sat < $signed(act_min)) clamped = $signed(act_min);
    else if (sat > $signed(act_max)) clamped = $signed(act_max);
    else clamped = sat;
  end

  assign out_valid = in_valid;
  assign out_q     = in_valid ? clamped : 8'd0;
endmodule
