#!/usr/bin/env bash
# The real-network benchmark table of bench/README.md: each torchvision architecture (64x64,
# 10 classes, untrained with BN statistics set, from scripts/zoo/torchvision_models.py) pruned
# balanced 50 % for the RAMAN core and simulated on one sample:
#   - on the default core (16 KiB activation and weight memories): the fit line, or the cycles;
#   - on a core sized by `simulate --fit`: cycles, energy per inference, area, and the wall time
#     of cycle mode (SystemC) and analytical mode;
#   - on the FPGA-SoC (tensor input): inference time, frames/s, layers on DPU / PS.
# Usage: bench/real_models.sh [build-dir] [model...]   (default: the six of issue 12)
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build}
shift || true
P=$B/bin/prunesim
M=$B/tvmodels
MODELS=${*:-"mobilenet_v2 resnet18 squeezenet1_1 mobilenet_v3_small efficientnet_b0 shufflenet_v2_x0_5"}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
/usr/bin/python3 scripts/zoo/torchvision_models.py --out "$M" $MODELS >/dev/null
py() { /usr/bin/python3 -c "$1"; }
now() { date +%s.%N; }
printf "| model | MACs | int8 fidelity (balanced 50 %%) | default core | cycles (fitted core) | energy | area | cycle mode | analytical mode | FPGA-SoC inference | FPGA-SoC layers DPU/PS |\n"
printf "|---|---:|---|---|---:|---:|---:|---:|---:|---:|---|\n"
for m in $MODELS; do
  x=$M/${m}_x.npy
  # One sample: the report is per inference, and cycle mode's wall time is then one inference.
  py "import numpy as np; np.save('$T/x1.npy', np.load('$x')[:1])"
  macs=$("$P" inspect "$M/$m.onnx" --json | py "import json,sys; print(json.load(sys.stdin)['total_macs'])")
  base="$P prune $M/$m.onnx --scheme balanced --sparsity 0.5 --calib $x --target raman --quiet -o $T/r.pwt"
  sets=""
  default="runs"
  if ! $base >/dev/null 2>"$T/err"; then
    if grep -q "does not fit the raman core" "$T/err"; then
      sets=$(grep -o "set [a-z_]* >= [0-9]*" "$T/err" | sed 's/set \([a-z_]*\) >= \([0-9]*\)/--set \1=\2/' | tr '\n' ' ')
      default="needs $(grep -o "set [a-z_]* >= [0-9]*" "$T/err" | sed 's/set //' | tr '\n' ' ')"
      $base $sets >/dev/null 2>"$T/err" || default="refused: $(grep "error:" "$T/err" | sed 's/.*: layer/layer/' | head -1)"
    else
      default="refused: $(grep "error:" "$T/err" | sed 's/.*: layer/layer/' | head -1)"
    fi
  fi
  raman="| – | – | – | – | –"
  fid="–"
  if [ -f "$T/r.pwt" ]; then
    # Fidelity of the pruned int8 table against the dense float model on the exported samples:
    # SNDR of the outputs, and top-1 agreement with the dense model's argmax.
    "$P" infer "$M/$m.onnx" --input "$x" --output "$T/f.npy" >/dev/null
    py "import numpy as np; np.save('$T/c.npy', np.load('$T/f.npy').argmax(1).astype(np.int64))"
    fid=$("$P" eval "$T/r.pwt" --data "$x" --labels "$T/f.npy" --json | py "import json,sys; print('%.1f dB SNDR' % json.load(sys.stdin)['int8']['sndr_db'])")
    fid="$fid, top-1 $("$P" eval "$T/r.pwt" --data "$x" --labels "$T/c.npy" --json | py "import json,sys; print('%.0f %%' % (100*json.load(sys.stdin)['int8']['top1']))")"
    t0=$(now)
    "$P" simulate --arch raman --tables "$T/r.pwt" --input "$T/x1.npy" $sets --fit --rate 0.1 \
      --mode cycle --json >"$T/c.json"
    t1=$(now)
    "$P" simulate --arch raman --tables "$T/r.pwt" --input "$T/x1.npy" $sets --fit --rate 0.1 \
      --mode analytical --json >"$T/a.json"
    t2=$(now)
    raman=$(py "import json; c=json.load(open('$T/c.json')); a=json.load(open('$T/a.json'))
assert c['latency_cycles'] == a['latency_cycles'] and c['bit_exact_vs_reference']
print('| {:,} | {:.1f} uJ | {:.2f} mm2 | {:.2f} s | {:.2f} s'.format(int(c['latency_cycles']), c['energy_j']*1e6, c['area_mm2'], $t1-$t0, $t2-$t1))")
    rm -f "$T/r.pwt"
  fi
  "$P" prune "$M/$m.onnx" --scheme magnitude --sparsity 0.5 --calib "$x" --quiet -o "$T/f.pwt" >/dev/null
  fpga=$("$P" simulate --arch fpga-soc --tables "$T/f.pwt" --input "$T/x1.npy" --mode analytical --json |
    py "import json,sys; j=json.load(sys.stdin); d=j.get('dpu', {})
print('| {:.3f} ms | {}/{}'.format(j['inference_s']*1e3, d.get('layers_on_dpu','?'), d.get('layers_on_ps','?')))")
  printf "| %s | %s | %s | %s %s %s |\n" "$m" "$(py "print(f'{$macs:,}')")" "$fid" "$default" "$raman" "$fpga"
done
