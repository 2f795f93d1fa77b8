#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite with ctest.
#   scripts/test.sh              the Release build in build/ (what CI runs first)
#   scripts/test.sh --sanitize   the same suite built with ASan+UBSan in build-asan/; known
#                                third-party reports are suppressed by scripts/sanitizers/*.supp
#                                (each entry with its reason) — everything else fails its test
#   scripts/test.sh --sanitize-subset
#                                the sanitizer build of the binaries CI has time for (what .ci/run
#                                runs second): every reader and both executors (test_prune,
#                                test_logic, test_hls) and one model per architecture
#                                (test_raman, test_fpga_soc); docs/reliability.md has the split
set -euo pipefail
cd "$(dirname "$0")/.."
SANITIZE=0
SUBSET=""
for a in "$@"; do
  case "$a" in
    --sanitize) SANITIZE=1 ;;
    --sanitize-subset) SANITIZE=1; SUBSET="test_hls test_prune test_logic test_raman test_fpga_soc" ;;
    *) echo "usage: scripts/test.sh [--sanitize | --sanitize-subset]" >&2; exit 2 ;;
  esac
done
scripts/setup.sh
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1
if [ "$SANITIZE" = 1 ]; then
  export BUILD_DIR="${BUILD_DIR:-build-asan}" PRUNESIM_SANITIZE=1
  SUP="$(pwd)/scripts/sanitizers"
  # detect_leaks=0: libtorch, protobuf and SystemC keep process-lifetime allocations that
  # LeakSanitizer reports at exit (not ours, and not bugs); memory errors are still all caught.
  export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=0:suppressions=$SUP/asan.supp"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:suppressions=$SUP/ubsan.supp"
  export PRUNESIM_SANITIZE
fi
if [ -n "$SUBSET" ]; then
  # Only these binaries are built; ctest runs the tests labelled with their names.
  BUILD_TARGETS="$SUBSET" scripts/build.sh
  ctest --test-dir "$BUILD_DIR" --output-on-failure -j "$(nproc)" -L "^($(echo $SUBSET | tr ' ' '|'))\$"
  exit 0
fi
scripts/build.sh
ctest --test-dir "${BUILD_DIR:-build}" --output-on-failure -j "$(nproc)"
