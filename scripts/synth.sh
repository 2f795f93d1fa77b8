#!/usr/bin/env bash
# Synthesizes one rtl/ block with yosys (generic gate library: `synth -flatten -top <module>`)
# and prints its cell count, the count per cell type and a transistor estimate, for the area
# cross-check against sim/power (docs/power-model.md). Usage: scripts/synth.sh BLOCK [--json]
#   BLOCK: pe | requant | decoder | pe_array | ... (module raman_BLOCK) or a full module name.
#
# Transistors per yosys internal cell, static CMOS (Weste & Harris, "CMOS VLSI Design", 4th ed.,
# ch. 1 and 10: 2 transistors per input for NAND/NOR, an output inverter for AND/OR):
#   NOT 2 | BUF 4 | NAND, NOR 4 | AND, OR, ANDNOT, ORNOT 6 (NAND/NOR + inverter)
#   AOI3, OAI3 6 | AOI4, OAI4 8 | XOR, XNOR 12 (static complementary) | MUX 12 (inverted select +
#   two transmission-gate legs + output buffer) | NMUX 10
#   DFF 24 (master-slave, transmission-gate latches, local clock inverters); + 4 for an
#   asynchronous set or reset (NANDs replace two inverters); + 12 for an enable (a MUX2 in front)
#   memory ($mem_v2, kept as a macro: the flow is yosys' `synth` without memory_map) 6 per bit
#   (6T SRAM cell; decoders, sense amplifiers and extra ports not counted)
# These are estimates for a generic library, not a foundry cell count: a real flow merges gates
# into complex cells (fewer transistors) and adds buffers and clock tree (more).
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
block=${1:?usage: scripts/synth.sh BLOCK [--json]}
json=${2:-}
case $block in
  raman_* | common_*) top=$block ;;
  *) top=raman_$block ;;
esac

srcs=()
for f in "$here"/rtl/common/*.sv "$here"/rtl/raman/*.sv; do
  [ -e "$f" ] && srcs+=("$f")
done
if ! grep -qs "^module $top\b" "${srcs[@]}"; then
  echo "synth.sh: no module '$top' in rtl/common or rtl/raman" >&2
  exit 2
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
# yosys' synth script up to "fine", then its fine/abc steps minus memory_map: memories stay one
# $mem_v2 cell each (an SRAM macro) instead of turning into flip-flops.
flow="synth -flatten -top $top -run :fine; opt -fast -full; opt -full; techmap; opt -fast"
flow="$flow; abc -fast; opt -fast"
if ! yosys -q -p "read_verilog -sv ${srcs[*]}; $flow; tee -o $log stat; tee -a $log dump t:\$mem_v2" \
  >/dev/null 2>"$log.err"; then
  cat "$log.err" >&2
  rm -f "$log.err"
  exit 1
fi
rm -f "$log.err"

awk -v top="$top" -v json="$json" '
  function tr(c) {
    if (c ~ /^\$_(NOT)_$/) return 2
    if (c ~ /^\$_BUF_$/) return 4
    if (c ~ /^\$_(NAND|NOR)_$/) return 4
    if (c ~ /^\$_(AND|OR|ANDNOT|ORNOT)_$/) return 6
    if (c ~ /^\$_(AOI3|OAI3)_$/) return 6
    if (c ~ /^\$_(AOI4|OAI4)_$/) return 8
    if (c ~ /^\$_(XOR|XNOR)_$/) return 12
    if (c ~ /^\$_NMUX_$/) return 10
    if (c ~ /^\$_MUX_$/) return 12
    if (c ~ /^\$_S?DFFE?_/ || c ~ /^\$_DFF/ || c ~ /^\$_SDFF/) {
      t = 24
      if (c ~ /^\$_(S?DFF)E?_[NP][NP01]/ && c !~ /^\$_DFF_[NP]_$/ && c !~ /^\$_DFFE_[NP][NP]_$/) t += 4
      if (c ~ /E_/) t += 12
      return t
    }
    if (c ~ /^\$_(DLATCH)/) return 12
    if (c == "$mem_v2") return 0  # counted per bit from its WIDTH and SIZE
    unknown[c] = 1
    return 0
  }
  /Number of cells:/ { cells = $4 }
  /^ +\$_/ { n[$1] = $2; total += $2 * tr($1) }
  /^ +\$mem_v2 +[0-9]+$/ { n["$mem_v2"] = $2 }
  /^ *cell \$mem_v2 / { nm++ }
  /parameter .WIDTH / { mw[nm] = $3 }
  /parameter .SIZE / { ms[nm] = $3 }
  END {
    for (i = 1; i <= nm; i++) { membits += mw[i] * ms[i] }
    total += 6 * membits
    if (json == "--json") {
      printf "{\"block\": \"%s\", \"cells\": %d, \"memory_bits\": %d, \"transistors\": %d, \"per_cell\": {", top, cells, membits, total
      sep = ""
      for (c in n) { printf "%s\"%s\": %d", sep, c, n[c]; sep = ", " }
      printf "}}\n"
    } else {
      printf "block %s\ncells %d\nmemory_bits %d\ntransistors_estimate %d\n", top, cells, membits, total
      for (c in n) printf "  %-16s %8d  x %2d\n", c, n[c], tr(c)
    }
    for (c in unknown) printf "synth.sh: no transistor figure for cell %s (counted as 0)\n", c > "/dev/stderr"
  }' "$log"
