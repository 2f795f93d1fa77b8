#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang (-fsanitize=fuzzer,address,undefined)
# into build-fuzz/ and runs them on their seed corpora (tests/fuzz/corpus/<target>/).
#
#   scripts/fuzz.sh                 build, then run every target for 60 s each
#   scripts/fuzz.sh TARGET [SECONDS] build, then run one target (onnx, npy, npz, pwt, encodings,
#                                   recipe, config, tech, lgn, checkpoint) for SECONDS (default 60)
#   scripts/fuzz.sh --build         build only
#
# A run keeps what it learns in build-fuzz/corpus/<target>/ (new inputs, not committed) and puts
# a crash, leak or timeout input in build-fuzz/crashes/<target>/; copy those into
# tests/fuzz/regressions/<target>/ with a fix (docs/reliability.md). The last line of each run,
# "stat::number_of_executed_units" and the corpus size, is what docs/reliability.md records.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${PRUNESIM_FUZZ_BUILD:-$root/build-fuzz}"
targets=(onnx npy npz pwt encodings recipe config tech lgn checkpoint)

export CCACHE_BASEDIR="${CCACHE_BASEDIR:-/work}"
launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
if [ ! -f "$build/build.ninja" ]; then
  CXX=clang++ cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DPRUNESIM_FUZZ=ON -DPRUNESIM_BUILD_TESTS=OFF -DPRUNESIM_BUILD_BENCH=OFF "${launcher[@]}" >/dev/null
fi
ninja -C "$build" -j"${JOBS:-2}" $(printf 'fuzz_%s ' "${targets[@]}")
[ "${1:-}" = "--build" ] && exit 0

run_one() {
  local t="$1" secs="$2"
  local corpus="$build/corpus/$t" crashes="$build/crashes/$t"
  mkdir -p "$corpus" "$crashes"
  local args=(-max_total_time="$secs" -print_final_stats=1 -rss_limit_mb=4096 -timeout=20
              -max_len=1048576 -artifact_prefix="$crashes/")
  [ -f "$root/tests/fuzz/dict/$t.dict" ] && args+=(-dict="$root/tests/fuzz/dict/$t.dict")
  echo "fuzz: $t for $secs s"
  # Leak checking is off: the readers keep function-local statics (registries, the recipe
  # target's model) that LeakSanitizer would report at exit.
  ASAN_OPTIONS="detect_leaks=0:${ASAN_OPTIONS:-}" \
  UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}" \
  PRUNESIM_SOURCE_DIR="$root" \
    "$build/tests/fuzz/fuzz_$t" "${args[@]}" "$corpus" "$root/tests/fuzz/corpus/$t" 2>&1 |
    tee "$build/fuzz_$t.log" | grep -E "^#[0-9]+ +(DONE|pulse)|ERROR|SUMMARY|stat::|Done" || true
  echo "fuzz: $t corpus $(ls "$corpus" | wc -l) files, $(du -sk "$corpus" | cut -f1) KiB;" \
       "crashes: $(ls "$crashes" | wc -l)"
}

if [ $# -ge 1 ]; then
  run_one "$1" "${2:-60}"
else
  for t in "${targets[@]}"; do run_one "$t" 60; done
fi
