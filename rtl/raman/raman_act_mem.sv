// Activation memory of the RAMAN-like core (docs/raman.md "Activation memory: IA and OA in
// place"): BYTES bytes, [position][channel] layout, read as one byte (broadcast) or one word of
// LANES bytes (lane mode), written WR_LANES bytes at a time with byte enables (PPU, DMA). IA and
// OA share it; a guard flags any write into the IA bytes still to be read, [ia_low, ia_high),
// which the compiler's overlap gap must make impossible. SystemC twin: RamanActMemTwin.
module raman_act_mem #(
    parameter int BYTES     = 16384,
    parameter int ADDR_BITS = 14,     // log2(BYTES)
    parameter int LANES     = 16,     // word read width in bytes (pe_count)
    parameter int WR_LANES  = 4       // write width in bytes (max of ppu_lanes, DMA bytes)
) (
    input  logic                    clk,
    input  logic                    rst_n,
    // Read: rd_word = 0 reads mem[rd_addr] into rd_data[7:0] (upper bytes 0); rd_word = 1 reads
    // mem[rd_addr + i] into byte i (0 past the end). rd_data holds until the next read.
    input  logic                    rd_en,
    input  logic                    rd_word,
    input  logic [   ADDR_BITS-1:0] rd_addr,
    output logic [     LANES*8-1:0] rd_data,
    // Write: byte i of wr_data to wr_addr + i when wr_be[i] (ignored past the end).
    input  logic                    wr_en,
    input  logic [   ADDR_BITS-1:0] wr_addr,
    input  logic [    WR_LANES-1:0] wr_be,
    input  logic [  WR_LANES*8-1:0] wr_data,
    // Overlap guard: the controller keeps [ia_low, ia_high) = input bytes still to be read.
    input  logic                    guard_en,
    input  logic [     ADDR_BITS:0] ia_low,
    input  logic [     ADDR_BITS:0] ia_high,
    // Sticky until reset: a guarded write hit [ia_low, ia_high) / a read and a write in the same
    // cycle (the memory has one port; the write is done, the read returns the old bytes).
    output logic                    overlap_err,
    output logic                    port_conflict
);
  logic [7:0] mem[BYTES];

  // Addresses are computed one bit wider so that addr + i past the end is seen, not wrapped.
  logic [LANES*8-1:0] rd_next;
  always_comb begin
    rd_next = '0;
    for (int i = 0; i < LANES; i++) begin
      logic [ADDR_BITS:0] a;
      a = {1'b0, rd_addr} + (ADDR_BITS + 1)'(i);
      if ((i == 0 || rd_word) && a < (ADDR_BITS + 1)'(BYTES)) rd_next[i*8+:8] = mem[a[ADDR_BITS-1:0]];
    end
  end

  logic hit;
  always_comb begin
    hit = 1'b0;
    for (int i = 0; i < WR_LANES; i++) begin
      logic [ADDR_BITS:0] a;
      a = {1'b0, wr_addr} + (ADDR_BITS + 1)'(i);
      if (wr_be[i] && a >= ia_low && a < ia_high) hit = 1'b1;
    end
  end

  always_ff @(posedge clk) begin
    for (int i = 0; i < WR_LANES; i++) begin
      logic [ADDR_BITS:0] a;
      a = {1'b0, wr_addr} + (ADDR_BITS + 1)'(i);
      if (wr_en && wr_be[i] && a < (ADDR_BITS + 1)'(BYTES)) mem[a[ADDR_BITS-1:0]] <= wr_data[i*8+:8];
    end
  end

  always_ff @(posedge clk or negedge rst_n) begin
    if (!rst_n) begin
      rd_data       <= '0;
      overlap_err   <= 1'b0;
      port_conflict <= 1'b0;
    end else begin
      if (rd_en) rd_data <= rd_next;
      if (wr_en && guard_en && hit) overlap_err <= 1'b1;
      if (wr_en && rd_en) port_conflict <= 1'b1;
    end
  end
endmodule
