#!/usr/bin/env bash
# RTL (Verilator) against SystemC: simulated cycles per second of the whole-core RTL and of the
# SystemC model on the same ds_cae1 encoder run (balanced-pruned to 50 %, one window), as a ratio
# from one run of each; also the RTL with the twin-netlist lockstep and in mixed mode.
# Usage: bench/rtl_speed.sh [build-dir]   (needs a built prunesim with Verilator)
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build}
P=$B/bin/prunesim
Z=zoo/ds_cae1
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
$P prune $Z/encoder.onnx --scheme balanced --sparsity 0.5 --seed 7 --calib $Z/calib.npy \
  --target raman -o "$T/enc.pwt" >/dev/null
run() {  # label, extra verify flags
  $P verify --arch raman --tables "$T/enc.pwt" --input $Z/sample.npy --json $2 >"$T/v.json"
  /usr/bin/python3 - "$1" "$T/v.json" <<'EOF'
import json, sys
v = json.load(open(sys.argv[2]))
assert v["pass"], v["first_divergence"]
cyc = v["cycles_rtl"][0]
rtl = v["rtl_cycles_simulated"] / v["rtl_wall_s"]
model = v["cycles_model"][0] / v["model_wall_s"]
print(f"{sys.argv[1]:<34} {cyc:>7} cycles  RTL {rtl/1e3:8.1f} k cycles/s  "
      f"SystemC model {model/1e6:6.2f} M cycles/s  RTL/SystemC {rtl/model:.3f}")
EOF
}
run "whole core, no lockstep" "--no-lockstep"
run "whole core + twin lockstep" ""
run "mixed pe_array,decoder + lockstep" "--rtl pe_array,decoder"
