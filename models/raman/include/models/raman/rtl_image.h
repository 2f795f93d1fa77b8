// The program of the whole-core RTL (rtl/raman/raman_core.sv) and of its SystemC twin netlist:
// the eight tables the host writes through the program port (docs/raman-rtl.md "Tables"),
// built from the same layer program the SystemC model runs, so the three cannot disagree about
// what runs. The per-position gather lists turn the model's geometry loops into table walks:
// positions are grouped into classes per axis by their valid taps (docs/raman-rtl.md
// "Gather lists").
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "models/raman/program.h"

namespace prunesim::raman {

// Table indices (the program port's pl_sel) and capacities in 32-bit words.
enum RtlTable : int { kWmem = 0, kCtab, kGmem, kPtab, kLtab, kQtab, kDtab, kHin, kRtlTables };
inline constexpr std::array<int64_t, kRtlTables> kRtlTableWords = {16384, 65536, 262144, 16384,
                                                                   16384, 65536, 1024,   16384};
inline constexpr const char* kRtlTableNames[kRtlTables] = {"WMEM", "CTAB", "GMEM", "PTAB",
                                                           "LTAB", "QTAB", "DTAB", "HIN"};
// The RTL's fixed parameters (docs/raman-rtl.md "Structure").
inline constexpr int64_t kRtlPes = 16, kRtlCluster = 4, kRtlSlots = 8, kRtlActBytes = 65536;
inline constexpr int64_t kRtlLfsrDraws = 64;  // draws the column fetch unrolls per group

struct RtlImage {
  // tables[sel]: the words to write, from word 0 (HIN is per sample: hin_words()).
  std::array<std::vector<uint32_t>, kRtlTables> tables;
  int64_t in_c = 1, in_hw = 1, out_c = 1, out_hw = 1;  // for the NCHW <-> NHWC host layout
  int64_t in_bytes() const { return in_c * in_hw; }
  int64_t out_bytes() const { return out_c * out_hw; }
  int64_t layers = 0;
  int64_t candidates = 0;  // gather-list entries over all layers and classes
  // The HIN words of one NCHW int8 sample (the host writes the activation memory's NHWC order).
  std::vector<uint32_t> hin_words(const std::vector<int8_t>& nchw) const;
  // The NCHW output from the DMA-out words (NHWC bytes, little-endian).
  std::vector<int8_t> output_from_words(const std::vector<uint32_t>& words) const;
  // Words per table and capacity, one line per table (reports).
  std::string usage() const;
};

// Throws InputError "<source>: whole-core RTL: ..." when the program does not fit the RTL's
// fixed parameters or table capacities (naming the parameter or table and the sizes).
RtlImage build_rtl_image(const RamanProgram& p);

// The configuration parameters the RTL fixes: "" if cfg matches, else the first mismatch as
// "pe_count=8 (the RTL has 16)".
std::string rtl_config_mismatch(const RamanConfig& cfg);

}  // namespace prunesim::raman
